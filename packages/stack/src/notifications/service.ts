import { randomUUID } from 'node:crypto';
import {
  CreateNotificationChannelBody,
  needsPerson,
  type NotificationChannel,
  type NotificationPayload,
  type NotificationTestResult,
  type UpdateNotificationChannelBody,
} from '@gleaner/contracts';
import { z } from 'zod';
import { StackError } from '../errors.js';
import { channelAad } from '../secrets/sealed.js';
import { iso } from '../runtime/clock.js';
import { publishAccount, type StackContext } from '../runtime/context.js';
import type { JobRecord, NotificationCause, NotificationChannelRecord } from '../storage/stores.js';
import { deliver, DeliveryError, parseSettings } from './channels.js';
import { composeNotification, testNotification, type NotificationSubject } from './messages.js';

export type NotificationOptions = {
  /** Home's address as people reach it (the links in messages); null: messages carry no link. */
  homeUrl: string | null;
  /** Waits before each retry of a failed delivery; default 2 s, 10 s, 60 s (four tries in all). */
  retryDelaysMs: number[];
  /** Background runs failed in a row before the person is told; default 3. */
  failedNights: number;
  /** How many days before a session or remembered device lapses the person is warned; default 3. */
  warnDays: number;
};

export const DEFAULT_NOTIFICATION_OPTIONS: NotificationOptions = {
  homeUrl: null,
  retryDelaysMs: [2_000, 10_000, 60_000],
  failedNights: 3,
  warnDays: 3,
};

/** Causes a successful run resolves: manual success lifts everything a person had to do. */
const RESOLVED_BY_SUCCESS: Record<JobRecord['mode'], NotificationCause[]> = {
  manual: ['needs_person', 'code_unanswered', 'failed_nights'],
  background: ['failed_nights'],
};

/**
 * Tells the person, outside Home, what needs them: through the admin's channels (SMTP e-mail, a
 * signed webhook, an ntfy push), once per cause and account until it is resolved. The claim is a row
 * (account, cause) whose insert only one caller wins, on any node sharing the database: so a cause
 * is sent once, by the node that ended the job (or swept the session), never once per node.
 */
export class NotificationService {
  readonly #inFlight = new Set<Promise<void>>();
  /** Aborted at close: waits between retries end, nothing new is tried. */
  readonly #closing = new AbortController();
  readonly options: NotificationOptions;

  constructor(
    private readonly ctx: StackContext,
    options: Partial<NotificationOptions> = {},
  ) {
    this.options = { ...DEFAULT_NOTIFICATION_OPTIONS, ...options };
  }

  async list(): Promise<NotificationChannel[]> {
    return (await this.ctx.storage.notifications.listChannels()).map(channelView);
  }

  async get(id: string): Promise<NotificationChannel> {
    return channelView(await this.#record(id));
  }

  async create(input: z.input<typeof CreateNotificationChannelBody>): Promise<NotificationChannel> {
    const body = CreateNotificationChannelBody.parse(input);
    const id = randomUUID();
    const now = iso(this.ctx.clock.now());
    const record: NotificationChannelRecord = {
      id,
      kind: body.kind,
      name: body.name.trim(),
      enabled: body.enabled,
      settings: body.settings,
      secret: body.secret === undefined ? null : this.ctx.keyring.seal(body.secret, channelAad(id)),
      createdAt: now,
      updatedAt: now,
    };
    await this.ctx.storage.notifications.insertChannel(record);
    return channelView(record);
  }

  async update(id: string, input: UpdateNotificationChannelBody): Promise<NotificationChannel> {
    const record = await this.#record(id);
    let settings: Record<string, unknown> | undefined;
    if (input.settings !== undefined) {
      const parsed = parseSettings(record.kind, input.settings);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const path = ['settings', ...issue.path.map(String)].join('.');
        throw new StackError('invalid', `${path}: ${issue.message}`, { path });
      }
      settings = parsed.data;
    }
    if (record.kind === 'webhook' && input.secret === null)
      throw new StackError('invalid', 'a webhook needs its secret: its messages are signed with it', {
        path: 'secret',
      });
    await this.ctx.storage.notifications.updateChannel(id, {
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
      ...(settings !== undefined ? { settings } : {}),
      ...(input.secret !== undefined
        ? { secret: input.secret === null ? null : this.ctx.keyring.seal(input.secret, channelAad(id)) }
        : {}),
      updatedAt: iso(this.ctx.clock.now()),
    });
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    if (!(await this.ctx.storage.notifications.deleteChannel(id)))
      throw new StackError('not_found', `no notification channel ${id}`);
  }

  /** The test button: one message through this channel now, no retry; says what failed. */
  async test(id: string): Promise<NotificationTestResult> {
    const record = await this.#record(id);
    try {
      await this.#deliverOnce(record, testNotification(this.options.homeUrl, iso(this.ctx.clock.now())));
      return { ok: true, message: `sent through ${record.name}` };
    } catch (error) {
      return { ok: false, message: error instanceof DeliveryError ? error.message : 'the channel could not send' };
    }
  }

  /**
   * What a job's end tells: a background run that needs a person, a code nobody typed, the Nth
   * failed night; a success resolves what it fixed. Called once per job, by the node that ended it.
   */
  async jobEnded(job: JobRecord): Promise<void> {
    const { storage } = this.ctx;
    if (job.error === null) {
      await storage.notifications.resolveCauses(job.accountId, RESOLVED_BY_SUCCESS[job.mode]);
      return;
    }
    if (job.mode === 'background' && needsPerson(job.error)) {
      await this.raise({ cause: 'needs_person', accountId: job.accountId, error: job.error });
      return;
    }
    if (job.mode === 'manual' && job.error === 'USER_ACTION_NEEDED.TWOFA_EXPIRED') {
      const prompts = await storage.prompts.listByJob(job.id);
      if (prompts.some((p) => p.status === 'expired'))
        await this.raise({ cause: 'code_unanswered', accountId: job.accountId, error: job.error });
      return;
    }
    if (job.mode === 'background') {
      const recent = await storage.jobs.list({ accountId: job.accountId, limit: this.options.failedNights * 2 + 5 });
      let nights = 0;
      for (const j of recent) {
        if (j.mode !== 'background' || j.status === 'queued' || j.status === 'running') continue;
        if (j.error === null) break;
        nights++;
      }
      if (nights >= this.options.failedNights)
        await this.raise({ cause: 'failed_nights', accountId: job.accountId, error: job.error, nights });
    }
  }

  /**
   * Warns of sessions and remembered devices that lapse within `warnDays` (once each until renewed),
   * and resolves the warnings of those renewed past it. One account, or all (the hourly sweep).
   * Returns how many warnings were raised.
   */
  async checkSessions(accountId?: string): Promise<number> {
    const { storage, clock } = this.ctx;
    const now = clock.now();
    const horizon = now + this.options.warnDays * 86_400_000;
    const rows = accountId
      ? [await storage.notifications.getSessionHealth(accountId)].filter((r) => r !== undefined)
      : await storage.notifications.listSessionHealth();
    let raised = 0;
    for (const row of rows) {
      for (const [cause, at] of [
        ['session_lapses', row.sessionExpiresAt],
        ['device_lapses', row.deviceExpiresAt],
      ] as const) {
        const lapses = at === null ? null : Date.parse(at);
        if (lapses !== null && lapses > now && lapses <= horizon) {
          if (await this.raise({ cause, accountId: row.accountId, lapsesAt: at! })) raised++;
        } else if (lapses === null || lapses > horizon) {
          await storage.notifications.resolveCauses(row.accountId, [cause]);
        }
      }
    }
    return raised;
  }

  /** Plans (or cancels, with null) a manual run at `at`, before the session lapses; the scheduler starts it. */
  async planRenewal(accountId: string, at: string | null): Promise<{ at: string | null }> {
    const { storage, clock } = this.ctx;
    if (!(await storage.accounts.get(accountId))) throw new StackError('not_found', `no account ${accountId}`);
    const when = at === null ? null : Date.parse(at);
    if (when !== null && (Number.isNaN(when) || when <= clock.now()))
      throw new StackError('invalid', 'at: the renewal must be planned in the future', { path: 'at' });
    const stored = when === null ? null : iso(when);
    await storage.notifications.setRenewAt(accountId, stored, iso(clock.now()));
    await publishAccount(this.ctx, accountId);
    return { at: stored };
  }

  /** Resolves causes of an account (a session renewed, say): they may be told again. */
  async resolve(accountId: string, causes: NotificationCause[]): Promise<void> {
    await this.ctx.storage.notifications.resolveCauses(accountId, causes);
  }

  /**
   * Tells a cause unless it is already told: the claim first (one winner on any node), then every
   * enabled channel, each retried with backoff in the background (`idle()` waits for them).
   */
  async raise(subject: Omit<NotificationSubject, 'account' | 'konnector'>): Promise<boolean> {
    const { storage, clock, registry, logger } = this.ctx;
    const account = await storage.accounts.get(subject.accountId);
    if (!account) return false;
    if (!(await storage.notifications.claimCause(subject.accountId, subject.cause, iso(clock.now())))) return false;
    const payload = composeNotification(
      {
        ...subject,
        account: account.label,
        konnector: registry.get(account.konnector)?.manifest.name ?? account.konnector,
      },
      this.options.homeUrl,
      iso(clock.now()),
    );
    logger.info({ accountId: subject.accountId, cause: subject.cause }, 'notification raised');
    for (const channel of await storage.notifications.listChannels()) {
      if (!channel.enabled) continue;
      const sending = this.#deliverWithRetries(channel, payload).finally(() => this.#inFlight.delete(sending));
      this.#inFlight.add(sending);
    }
    return true;
  }

  /** Home's address when none was configured: the server's own, once it listens. */
  useListenAddress(url: string): void {
    this.options.homeUrl ??= url;
  }

  /** Stops retrying and waits for the deliveries on the wire (each has its deadline). */
  async close(): Promise<void> {
    this.#closing.abort();
    await this.idle();
  }

  /** Resolves when every delivery under way has ended (sent, or given up). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #deliverWithRetries(channel: NotificationChannelRecord, payload: NotificationPayload): Promise<void> {
    const delays = this.options.retryDelaysMs;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#deliverOnce(channel, payload);
        this.ctx.logger.info({ channel: channel.id, cause: payload.event, attempt: attempt + 1 }, 'notification sent');
        return;
      } catch (error) {
        const why = error instanceof DeliveryError ? error.message : 'the channel could not send';
        if (attempt >= delays.length || this.#closing.signal.aborted) {
          this.ctx.logger.warn({ channel: channel.id, cause: payload.event, why }, 'notification given up');
          return;
        }
        this.ctx.logger.warn(
          { channel: channel.id, cause: payload.event, why, attempt: attempt + 1 },
          'notification failed; retrying',
        );
        await sleep(delays[attempt]!, this.#closing.signal);
      }
    }
  }

  async #deliverOnce(channel: NotificationChannelRecord, payload: NotificationPayload): Promise<void> {
    let secret: string | null = null;
    if (channel.secret !== null) {
      try {
        secret = this.ctx.keyring.open(channel.secret, channelAad(channel.id));
      } catch {
        throw new DeliveryError(`the secret of the channel ${channel.name} cannot be read: save it again`);
      }
    }
    await deliver({ kind: channel.kind, settings: channel.settings, secret }, payload, () => this.ctx.clock.now());
  }

  async #record(id: string): Promise<NotificationChannelRecord> {
    const record = await this.ctx.storage.notifications.getChannel(id);
    if (!record) throw new StackError('not_found', `no notification channel ${id}`);
    return record;
  }
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A channel as the API shows it: the secret never, only whether one is saved. */
export function channelView(c: NotificationChannelRecord): NotificationChannel {
  return {
    id: c.id,
    kind: c.kind,
    name: c.name,
    enabled: c.enabled,
    settings: c.settings,
    secretSet: c.secret !== null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}
