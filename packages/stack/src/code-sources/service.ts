import { randomBytes } from 'node:crypto';
import type { AnswerOutcome } from '@gleaner/contracts';
import { StackError } from '../errors.js';
import { iso } from '../runtime/clock.js';
import { publishAccount, type StackContext } from '../runtime/context.js';
import { PromptService } from '../runtime/prompts.js';
import { UnreadableSecretError } from '../secrets/keyring.js';
import { codeSourceAad } from '../secrets/sealed.js';
import type { CodeSourceKind, CodeSourceRecord } from '../storage/stores.js';
import { MailboxError, testMailbox, watchMailbox, type MailboxCursor, type MailboxSettings } from './mailbox.js';
import { DEFAULT_CODE_PATTERN, extractCode, type CodeMatcher } from './matching.js';
import { parseForwardedSms, SmsPayloadError, webhookAuthorized } from './sms-webhook.js';
import { parseTotpInput, TotpInputError, totpCodeAt, totpRemainingMs, type TotpSpec } from './totp.js';

export { codeSourceAad };

/** What the API shows of a code source: never its secret. */
export type CodeSourceView = {
  kind: CodeSourceKind;
  settings: Record<string, string | number | boolean>;
  createdAt: string;
  lastCodeAt: string | null;
  lastMessageAt: string | null;
  lastError: string | null;
  /** The SMS webhook's path on this stack (sms only): POST forwarded messages there. */
  webhookPath?: string;
};

/** The webhook's path: its id is unguessable, the secret (bearer or HMAC key) proves the sender. */
export const smsWebhookPath = (hookId: string) => `/api/hooks/sms/${hookId}`;

/** Most forwarded messages a webhook takes per minute (per node); more are refused 429. */
export const SMS_WEBHOOK_PER_MINUTE = 30;

/** A webhook request as the route hands it over: the two ways of proof, the raw body, and it read. */
export type SmsRequest = {
  authorization?: string | undefined;
  signature?: string | undefined;
  rawBody: string;
  body: unknown;
};

export type SmsReceipt =
  | { outcome: 'unauthorized' }
  | { outcome: 'rate_limited' }
  | { outcome: 'bad_payload'; message: string }
  /** Taken: whether it answered a waiting prompt, and why not when it did not. */
  | { outcome: 'received'; answered: AnswerOutcome | 'no_prompt' | 'older_than_prompt' | 'no_code' | 'not_from_site' };

/**
 * An account's code sources (docs/code-sources.md): set, shown, tested and removed here; their
 * secrets sealed like the credentials. The SMS webhook answers a waiting SMS prompt through the
 * same path as a typed code.
 */
export class CodeSourceService {
  readonly #prompts: PromptService;
  readonly #hits = new Map<string, number[]>();

  constructor(private readonly ctx: StackContext) {
    this.#prompts = new PromptService(ctx);
  }

  async list(accountId: string): Promise<CodeSourceView[]> {
    await this.#account(accountId);
    return (await this.ctx.storage.codeSources.list(accountId)).map(sourceView);
  }

  /**
   * Stores the account's authenticator secret (an otpauth:// URI or base32) and returns the code it
   * gives now, for the person to check against their app (shown this once).
   */
  async setAuthenticator(
    accountId: string,
    input: string,
  ): Promise<{ source: CodeSourceView; code: string; validForMs: number }> {
    await this.#account(accountId);
    let spec: TotpSpec;
    try {
      spec = parseTotpInput(input);
    } catch (error) {
      if (error instanceof TotpInputError) throw new StackError('invalid', error.message, { path: 'secret' });
      throw error;
    }
    const { issuer, label, ...secret } = spec;
    const record = await this.#put(accountId, 'app_code', {
      settings: {
        algorithm: spec.algorithm,
        digits: spec.digits,
        period: spec.period,
        ...(issuer ? { issuer } : {}),
        ...(label ? { label } : {}),
      },
      secret: JSON.stringify(secret),
      hookId: null,
    });
    const now = this.ctx.clock.now();
    return { source: sourceView(record), code: totpCodeAt(spec, now), validForMs: totpRemainingMs(spec, now) };
  }

  /** Makes (or remakes, so that an old URL and secret stop working) the account's SMS webhook; the secret is shown this once. */
  async setSmsWebhook(accountId: string): Promise<{ source: CodeSourceView; secret: string }> {
    await this.#account(accountId);
    const secret = randomBytes(32).toString('base64url');
    const record = await this.#put(accountId, 'sms', {
      settings: {},
      secret: JSON.stringify({ secret }),
      hookId: randomBytes(18).toString('base64url'),
    });
    return { source: sourceView(record), secret };
  }

  /** Stores the person's mailbox (the app password sealed) and checks that it opens; the error names what failed. */
  async setMailbox(
    accountId: string,
    input: MailboxSettings & { password: string },
  ): Promise<{ source: CodeSourceView; lastMatchAt: string | null }> {
    await this.#account(accountId);
    const { password, ...settings } = input;
    const found = await this.#testMailbox(accountId, settings, password);
    const record = await this.#put(accountId, 'email', {
      // The codes already in the mailbox are earlier sign-ins': spent, even one received in the
      // second a run begins (IMAP dates have whole seconds), such as the code the person just typed.
      settings: found.lastMatch
        ? { ...settings, lastUidValidity: found.lastMatch.uidValidity, lastUid: found.lastMatch.uid }
        : { ...settings },
      secret: JSON.stringify({ password }),
      hookId: null,
    });
    return { source: sourceView(record), lastMatchAt: found.lastMatchAt };
  }

  async #testMailbox(
    accountId: string,
    settings: MailboxSettings,
    password: string,
  ): Promise<{ lastMatchAt: string | null; lastMatch: MailboxCursor | null }> {
    try {
      const { lastMatchAt, lastMatch } = await testMailbox(settings, password, await this.#matcher(accountId, 'email'));
      return { lastMatchAt: lastMatchAt === null ? null : iso(lastMatchAt), lastMatch };
    } catch (error) {
      if (error instanceof MailboxError)
        throw new StackError('invalid', error.message, {
          path: error.kind === 'folder' ? 'folder' : error.kind === 'auth' ? 'password' : 'host',
        });
      throw error;
    }
  }

  /**
   * Watches the account's mailbox while an e-mail prompt waits (the node whose worker runs the job
   * does, so a message answers once): `onCode` with the first matching, unused code received since
   * `since`; `onError` (also recorded on the source, shown in Home) when the mailbox cannot be read.
   * Returns the stop function, or null without a readable mailbox.
   */
  async watchMailbox(
    accountId: string,
    watch: { since: number; used: ReadonlySet<string>; onCode(code: string): void; onError(message: string): void },
  ): Promise<(() => void) | null> {
    const record = await this.ctx.storage.codeSources.get(accountId, 'email');
    if (!record) return null;
    const password = this.#openSecret<{ password: string }>(record)?.password;
    if (password === undefined) {
      watch.onError('the stored mailbox password cannot be read: enter it again');
      return null;
    }
    const matcher = await this.#matcher(accountId, 'email');
    const { lastUidValidity, lastUid, ...settings } = record.settings;
    return watchMailbox({
      settings: settings as unknown as MailboxSettings,
      password,
      matcher,
      since: watch.since,
      used: watch.used,
      // The message an earlier run took its code from is spent, even one received in the same second.
      ...(typeof lastUid === 'number' ? { after: { uidValidity: String(lastUidValidity), uid: lastUid } } : {}),
      onCode: (code, cursor) => {
        const now = iso(this.ctx.clock.now());
        void this.ctx.storage.codeSources
          .put({
            ...record,
            settings: { ...settings, lastUidValidity: cursor.uidValidity, lastUid: cursor.uid },
            lastCodeAt: now,
            lastMessageAt: now,
            lastError: null,
          })
          .catch(() => undefined);
        watch.onCode(code);
      },

      onError: (error) => {
        void this.ctx.storage.codeSources
          .touch(accountId, 'email', { lastError: error.message })
          .catch(() => undefined);
        watch.onError(error.message);
      },
    });
  }

  #openSecret<T>(record: CodeSourceRecord): T | null {
    try {
      return JSON.parse(this.ctx.keyring.open(record.sealed, codeSourceAad(record.accountId, record.kind))) as T;
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      this.ctx.logger.warn(
        { accountId: record.accountId, kind: record.kind, reason: error.reason },
        'a code source secret does not open',
      );
      return null;
    }
  }

  async remove(accountId: string, kind: CodeSourceKind): Promise<void> {
    await this.#account(accountId);
    if (!(await this.ctx.storage.codeSources.remove(accountId, kind)))
      throw new StackError('not_found', `account ${accountId} has no ${kind} code source`);
    await publishAccount(this.ctx, accountId);
  }

  /**
   * Tries a source without a prompt: the authenticator's current code; the webhook's path and last
   * message. Nothing secret is returned but the current code, which the person asked to see.
   */
  async test(accountId: string, kind: CodeSourceKind): Promise<{ ok: boolean; message: string; code?: string }> {
    await this.#account(accountId);
    const record = await this.ctx.storage.codeSources.get(accountId, kind);
    if (!record) throw new StackError('not_found', `account ${accountId} has no ${kind} code source`);
    if (kind === 'app_code') {
      const spec = this.#openTotp(record);
      if (!spec) return { ok: false, message: 'the stored authenticator secret cannot be read: enter it again' };
      return {
        ok: true,
        message: 'the code your authenticator app shows now',
        code: totpCodeAt(spec, this.ctx.clock.now()),
      };
    }
    if (kind === 'sms')
      return {
        ok: true,
        message: record.lastMessageAt
          ? `the last forwarded message arrived at ${record.lastMessageAt}`
          : 'no forwarded message has arrived yet',
      };
    const password = this.#openSecret<{ password: string }>(record)?.password;
    if (password === undefined)
      return { ok: false, message: 'the stored mailbox password cannot be read: enter it again' };
    try {
      const { lastUidValidity: _validity, lastUid: _uid, ...settings } = record.settings;
      const { lastMatchAt: last } = await this.#testMailbox(
        accountId,
        settings as unknown as MailboxSettings,
        password,
      );
      await this.ctx.storage.codeSources.touch(accountId, 'email', { lastError: null });
      return {
        ok: true,
        message: last
          ? `connected; the last matching message arrived at ${last}`
          : 'connected; no matching message in the last 30 days',
      };
    } catch (error) {
      if (!(error instanceof StackError)) throw error;
      await this.ctx.storage.codeSources.touch(accountId, 'email', { lastError: error.message });
      return { ok: false, message: error.message };
    }
  }

  /**
   * The code the account's authenticator secret gives at `at`, or null without a readable one;
   * `given` when this source already gave this step's code (sites refuse a TOTP code used twice,
   * RFC 6238 §5.2): then wait `nextInMs` for the next one.
   */
  async authenticatorCode(
    accountId: string,
    at: number,
  ): Promise<{ code: string; nextInMs: number; given: boolean } | null> {
    const record = await this.ctx.storage.codeSources.get(accountId, 'app_code');
    const spec = record && this.#openTotp(record);
    if (!spec) return null;
    const nextInMs = totpRemainingMs(spec, at);
    const stepStart = at - (spec.period * 1000 - nextInMs);
    const given = record.lastCodeAt !== null && Date.parse(record.lastCodeAt) >= stepStart;
    return { code: totpCodeAt(spec, at), nextInMs, given };
  }

  /** The kinds of code this account's sources can give with nobody there. */
  async silentKinds(accountId: string): Promise<CodeSourceKind[]> {
    return (await this.ctx.storage.codeSources.list(accountId)).map((source) => source.kind);
  }

  /**
   * A forwarded SMS posted to a webhook: checked (secret, rate), read, matched against the site's
   * `twofa_sources.sms`, and, when the account has an SMS prompt waiting that began before the
   * message was received, submitted as its code.
   */
  async receiveSms(hookId: string, request: SmsRequest): Promise<SmsReceipt> {
    const { storage, clock, keyring, logger } = this.ctx;
    const record = await storage.codeSources.byHook(hookId);
    if (!record || record.kind !== 'sms') return { outcome: 'unauthorized' };
    let secret: string;
    try {
      secret = (JSON.parse(keyring.open(record.sealed, codeSourceAad(record.accountId, 'sms'))) as { secret: string })
        .secret;
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      logger.warn({ accountId: record.accountId, reason: error.reason }, 'an SMS webhook secret does not open');
      return { outcome: 'unauthorized' };
    }
    if (!webhookAuthorized(secret, request)) return { outcome: 'unauthorized' };
    const now = clock.now();
    if (!this.#allow(hookId, now)) return { outcome: 'rate_limited' };
    let sms;
    try {
      sms = parseForwardedSms(request.body);
    } catch (error) {
      if (error instanceof SmsPayloadError) return { outcome: 'bad_payload', message: error.message };
      throw error;
    }
    await storage.codeSources.touch(record.accountId, 'sms', { lastMessageAt: iso(now) });
    const prompt = await storage.prompts.waitingFor(record.accountId);
    if (!prompt || prompt.type !== 'sms') return { outcome: 'received', answered: 'no_prompt' };
    // A code received before this wait began belongs to an earlier one (perhaps refused): never this one.
    const receivedAt = Math.min(sms.receivedAt ?? now, now);
    if (receivedAt < (await this.waitBegan(prompt.jobId, prompt.id)))
      return { outcome: 'received', answered: 'older_than_prompt' };
    const matcher = await this.#matcher(record.accountId, 'sms');
    if (matcher.from && !sms.from.toLowerCase().includes(matcher.from.toLowerCase()))
      return { outcome: 'received', answered: 'not_from_site' };
    const code = extractCode({ from: sms.from, text: sms.text }, matcher);
    if (code === null) return { outcome: 'received', answered: 'no_code' };
    const answered = await this.#prompts.answer(prompt.id, code, { source: 'sms' });
    if (answered === 'accepted') await storage.codeSources.touch(record.accountId, 'sms', { lastCodeAt: iso(now) });
    return { outcome: 'received', answered };
  }

  /**
   * When the wait for this prompt's code began, for the "not older than the prompt" rule: the
   * site sends its code while the konnector is still reading its page, a moment before the prompt
   * exists, so the bound is the previous prompt of the job (a code that one was given or refused) or,
   * for the first, the job's start.
   */
  async waitBegan(jobId: string, promptId: string): Promise<number> {
    const prompts = await this.ctx.storage.prompts.listByJob(jobId);
    const index = prompts.findIndex((p) => p.id === promptId);
    const previous = index > 0 ? prompts[index - 1] : undefined;
    if (previous) return Date.parse(previous.createdAt);
    const job = await this.ctx.storage.jobs.get(jobId);
    return Date.parse(job?.startedAt ?? job?.createdAt ?? prompts[index]?.createdAt ?? new Date(0).toISOString());
  }

  /** The site's matcher for `kind` from its konnector's manifest (a default pattern when it names none). */
  async #matcher(accountId: string, kind: 'sms' | 'email'): Promise<CodeMatcher> {
    const account = await this.ctx.storage.accounts.get(accountId);
    const sources = account ? this.ctx.registry.get(account.konnector)?.manifest.twofa_sources : undefined;
    const declared = kind === 'email' ? sources?.email : sources?.sms;
    return {
      from: declared?.from,
      subject: kind === 'email' ? sources?.email?.subject : undefined,
      pattern: declared?.pattern ?? DEFAULT_CODE_PATTERN,
    };
  }

  #allow(hookId: string, now: number): boolean {
    const recent = (this.#hits.get(hookId) ?? []).filter((at) => at > now - 60_000);
    if (recent.length >= SMS_WEBHOOK_PER_MINUTE) {
      this.#hits.set(hookId, recent);
      return false;
    }
    recent.push(now);
    this.#hits.set(hookId, recent);
    return true;
  }

  #openTotp(record: CodeSourceRecord): TotpSpec | null {
    try {
      return JSON.parse(this.ctx.keyring.open(record.sealed, codeSourceAad(record.accountId, 'app_code'))) as TotpSpec;
    } catch (error) {
      if (!(error instanceof UnreadableSecretError)) throw error;
      this.ctx.logger.warn(
        { accountId: record.accountId, reason: error.reason },
        'an authenticator secret does not open',
      );
      return null;
    }
  }

  async #put(
    accountId: string,
    kind: CodeSourceKind,
    value: { settings: CodeSourceRecord['settings']; secret: string; hookId: string | null },
  ): Promise<CodeSourceRecord> {
    const record: CodeSourceRecord = {
      accountId,
      kind,
      settings: value.settings,
      sealed: this.ctx.keyring.seal(value.secret, codeSourceAad(accountId, kind)),
      hookId: value.hookId,
      createdAt: iso(this.ctx.clock.now()),
      lastCodeAt: null,
      lastMessageAt: null,
      lastError: null,
    };
    await this.ctx.storage.codeSources.put(record);
    await publishAccount(this.ctx, accountId);
    return record;
  }

  async #account(accountId: string): Promise<void> {
    if (!(await this.ctx.storage.accounts.get(accountId))) throw new StackError('not_found', `no account ${accountId}`);
  }
}

function sourceView(record: CodeSourceRecord): CodeSourceView {
  // Where the mailbox's last code came from is the watcher's bookkeeping, not a setting.
  const { lastUidValidity: _validity, lastUid: _uid, ...settings } = record.settings;
  return {
    kind: record.kind,
    settings,
    createdAt: record.createdAt,
    lastCodeAt: record.lastCodeAt,
    lastMessageAt: record.lastMessageAt,
    lastError: record.lastError,
    ...(record.kind === 'sms' && record.hookId ? { webhookPath: smsWebhookPath(record.hookId) } : {}),
  };
}
