import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { Account, KeptAccount, Manifest } from '@gleaner/contracts';
import { nextRunAt, spreadTime } from '../core/schedule.js';
import { StackError } from '../errors.js';
import { UnreadableSecretError } from '../secrets/keyring.js';
import { accountAad } from '../secrets/sealed.js';
import type { AccountRecord } from '../storage/stores.js';
import { iso } from './clock.js';
import { accountView, fileView, filesRoot, publishAccount, type StackContext } from './context.js';
import type { JobService } from './jobs.js';
import { CREDENTIALS_UNREADABLE, unreadableWhy } from './unreadable-secrets.js';

const MAX_FIELD_CHARS = 4096;

/**
 * Accounts: credentials sealed as one JSON blob per account; the non-secret fields (manifest type
 * other than `password`) also kept in clear for display.
 */
export class AccountService {
  constructor(
    private readonly ctx: StackContext,
    private readonly jobs: JobService,
  ) {}

  async list(): Promise<Account[]> {
    const records = await this.ctx.storage.accounts.list();
    return Promise.all(records.map((r) => accountView(this.ctx.storage, r)));
  }

  async get(id: string): Promise<Account> {
    const record = await this.ctx.storage.accounts.get(id);
    if (!record) throw new StackError('not_found', `no account ${id}`);
    return accountView(this.ctx.storage, record);
  }

  async create(input: { konnector: string; label?: string; fields: Record<string, string> }): Promise<Account> {
    const { storage, registry, keyring, clock } = this.ctx;
    registry.refresh();
    const konnector = registry.get(input.konnector);
    if (!konnector)
      throw new StackError('invalid', `konnector ${input.konnector} is not installed`, { path: 'konnector' });
    const manifest = konnector.manifest;
    const fields = withDefaults(manifest, input.fields);
    checkFields(manifest, fields);
    const id = randomUUID();
    const now = clock.now();
    const { time, weekday } = spreadTime(id, manifest.time_interval);
    await storage.transaction(async (tx) => {
      await tx.accounts.insert({
        id,
        konnector: manifest.slug,
        label: input.label?.trim() || manifest.name,
        state: null,
        ...displayFields(manifest, fields),
        credentials: keyring.seal(JSON.stringify(fields), accountAad(id, 'credentials')),
        session: null,
        data: null,
        pausedBy: null,
        createdAt: iso(now),
        updatedAt: iso(now),
      });
      // A manual-only konnector's accounts are never scheduled: its site's session would not last the night.
      const trigger = { frequency: manifest.manualOnly ? ('off' as const) : manifest.frequency, time, weekday };
      const next = nextRunAt(trigger, now);
      await tx.triggers.upsert({
        accountId: id,
        ...trigger,
        nextRunAt: next === null ? null : iso(next),
        lastSkippedAt: null,
        skipReason: null,
      });
    });
    await publishAccount(this.ctx, id);
    return this.get(id);
  }

  async update(id: string, input: { label?: string; fields?: Record<string, string> }): Promise<Account> {
    const { storage, registry, keyring, clock } = this.ctx;
    const record = await storage.accounts.get(id);
    if (!record) throw new StackError('not_found', `no account ${id}`);
    const patch: Parameters<typeof storage.accounts.update>[1] = { updatedAt: iso(clock.now()) };
    if (input.label !== undefined) patch.label = input.label.trim() || record.label;
    if (input.fields) {
      const manifest = registry.get(record.konnector)?.manifest;
      if (!manifest) throw new StackError('invalid', `konnector ${record.konnector} is not installed`);
      const next = { ...this.#currentFields(record) };
      for (const [name, value] of Object.entries(input.fields)) {
        // A secret field sent empty is left unchanged (Home never gets it back to send it again).
        if (manifest.fields[name]?.type === 'password' && value === '') continue;
        next[name] = value;
      }
      checkFields(manifest, next);
      Object.assign(patch, displayFields(manifest, next), {
        credentials: keyring.seal(JSON.stringify(next), accountAad(id, 'credentials')),
      });
      // Sealed anew, under the current key: readable again.
      if (record.pausedBy === CREDENTIALS_UNREADABLE) patch.pausedBy = null;
    }
    await storage.accounts.update(id, patch);
    await publishAccount(this.ctx, id);
    return this.get(id);
  }

  /** The fields saved; when they do not open, the ones kept in clear (the login): the secrets must be sent again. */
  #currentFields(record: AccountRecord): Record<string, string> {
    const id = record.id;
    try {
      return JSON.parse(this.ctx.keyring.open(record.credentials, accountAad(id, 'credentials'))) as Record<
        string,
        string
      >;
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      this.ctx.logger.warn(
        { accountId: id, reason: error.reason, keyId: error.keyId },
        `the credentials of account ${id} cannot be read (${unreadableWhy(error.reason, error.keyId)}): the fields sent replace them`,
      );
      return { ...record.fieldsClear };
    }
  }

  async remove(id: string, { keepFiles = true }: { keepFiles?: boolean } = {}): Promise<void> {
    const { storage, config, clock } = this.ctx;
    const record = await storage.accounts.get(id);
    if (!record) throw new StackError('not_found', `no account ${id}`);
    const active = await storage.jobs.active(id);
    if (active) {
      await this.jobs.cancel(active.id);
      await this.jobs.settled(active.id);
    }
    const kept = await storage.transaction(async (tx) => {
      await tx.logs.deleteForJobsOf(id);
      await tx.prompts.deleteForAccount(id);
      await tx.notifications.deleteForAccount(id);
      await tx.codeSources.deleteForAccount(id);
      // Kept documents stay where they are (their records and their folder), under the account's name.
      const keep = keepFiles && (await tx.files.list(id)).length > 0;
      if (keep)
        await tx.kept.insert({
          accountId: id,
          konnector: record.konnector,
          label: record.label,
          deletedAt: iso(clock.now()),
        });
      else await tx.files.deleteForAccount(id);
      await tx.triggers.delete(id);
      await tx.jobs.deleteForAccount(id);
      await tx.accounts.delete(id);
      return keep;
    });
    if (!kept) await rm(filesRoot(config.dataDir, id), { recursive: true, force: true });
    await this.ctx.events.publish({ type: 'account.deleted', accountId: id });
  }

  async kept(): Promise<KeptAccount[]> {
    const { storage } = this.ctx;
    const records = await storage.kept.list();
    return Promise.all(
      records.map(async (k) => ({ ...k, files: (await storage.files.list(k.accountId)).map(fileView) })),
    );
  }

  async forgetKept(accountId: string): Promise<void> {
    const { storage, config } = this.ctx;
    const removed = await storage.transaction(async (tx) => {
      if (!(await tx.kept.delete(accountId))) return false;
      await tx.files.deleteForAccount(accountId);
      return true;
    });
    if (!removed) throw new StackError('not_found', `no kept documents of account ${accountId}`);
    await rm(filesRoot(config.dataDir, accountId), { recursive: true, force: true });
  }

  async resetSession(id: string): Promise<Account> {
    const { storage, clock } = this.ctx;
    if (!(await storage.accounts.update(id, { session: null, state: 'RESET_SESSION', updatedAt: iso(clock.now()) }))) {
      throw new StackError('not_found', `no account ${id}`);
    }
    await publishAccount(this.ctx, id);
    return this.get(id);
  }
}

function withDefaults(manifest: Manifest, fields: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(manifest.fields)) {
    const value = fields[name] ?? spec.default;
    if (value !== undefined) out[name] = value;
  }
  for (const [name, value] of Object.entries(fields)) if (!(name in out)) out[name] = value;
  return out;
}

function checkFields(manifest: Manifest, fields: Record<string, string>): void {
  const problems: { path: string; message: string }[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (!manifest.fields[name]) problems.push({ path: `fields.${name}`, message: 'not a field of this konnector' });
    else if (typeof value !== 'string' || value.length > MAX_FIELD_CHARS)
      problems.push({ path: `fields.${name}`, message: 'too long' });
  }
  for (const [name, spec] of Object.entries(manifest.fields)) {
    if (spec.required && !fields[name]) problems.push({ path: `fields.${name}`, message: 'required' });
  }
  if (problems.length)
    throw new StackError('invalid', problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
}

function displayFields(
  manifest: Manifest,
  fields: Record<string, string>,
): { fieldsClear: Record<string, string>; secretFieldsSet: string[] } {
  const fieldsClear: Record<string, string> = {};
  const secretFieldsSet: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (manifest.fields[name]?.type === 'password') {
      if (value) secretFieldsSet.push(name);
    } else {
      fieldsClear[name] = value;
    }
  }
  return { fieldsClear, secretFieldsSet };
}
