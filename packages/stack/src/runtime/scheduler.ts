import type { Trigger } from '@gleaner/contracts';
import { decideScheduledRun } from '../core/skip-policy.js';
import { isValidTime, nextRunAt, spreadTime } from '../core/schedule.js';
import { StackError } from '../errors.js';
import type { TriggerRecord } from '../storage/stores.js';
import { iso } from './clock.js';
import { publishAccount, type StackContext } from './context.js';
import type { JobService } from './jobs.js';

export type TickResult = {
  started: { accountId: string; jobId: string }[];
  skipped: { accountId: string; reason: string }[];
};

const DUE_PAGE = 100;

/** Why a manual-only konnector's account takes no schedule (the trigger API's 422, Home's wording). */
export const MANUAL_ONLY_SENTENCE =
  "this konnector is manual-only: its site's session never lasts until the next night, so its accounts are never scheduled; run it yourself when you want fresh data";

const triggerView = (t: TriggerRecord): Trigger => ({
  accountId: t.accountId,
  frequency: t.frequency,
  time: t.time,
  weekday: t.weekday,
  // Times of day are the stack's local time (nextRunAt uses its clock's Date).
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  nextRunAt: t.frequency === 'off' ? null : t.nextRunAt,
  lastSkippedAt: t.lastSkippedAt,
  skipReason: t.skipReason,
});

/**
 * Starts background runs when triggers are due. A tick moves each due trigger to its next time with
 * a guarded update (so that a trigger fires once even with several schedulers), then asks the skip
 * policy: accounts paused by an error that needs the person are skipped, and the skip is recorded.
 */
export class Scheduler {
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<TickResult> | null = null;

  constructor(
    private readonly ctx: StackContext,
    private readonly jobs: JobService,
  ) {}

  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.ctx.logger.error({ err: error }, 'scheduler tick failed'));
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Starts the runs due at the clock's now; one tick at a time. */
  async tick(): Promise<TickResult> {
    while (this.#ticking) await this.#ticking.catch(() => undefined);
    this.#ticking = this.#tick();
    try {
      return await this.#ticking;
    } finally {
      this.#ticking = null;
    }
  }

  async #tick(): Promise<TickResult> {
    const { storage, clock, logger } = this.ctx;
    const result: TickResult = { started: [], skipped: [] };
    const now = clock.now();
    for (const trigger of await storage.triggers.due(iso(now), DUE_PAGE)) {
      if (this.jobs.closing) break;
      const next = nextRunAt(trigger, now);
      if (!(await storage.triggers.advance(trigger.accountId, trigger.nextRunAt!, next === null ? null : iso(next))))
        continue;
      const account = await storage.accounts.get(trigger.accountId);
      if (!account) {
        await storage.triggers.delete(trigger.accountId);
        continue;
      }
      // Made before its konnector became manual-only (a new version): never run, and off from now on.
      if (this.ctx.registry.get(account.konnector)?.manifest.manualOnly) {
        await storage.triggers.update(account.id, { frequency: 'off', nextRunAt: null });
        result.skipped.push({ accountId: account.id, reason: 'MANUAL_ONLY' });
        await publishAccount(this.ctx, account.id);
        continue;
      }
      const decision = decideScheduledRun(
        { pausedBy: account.pausedBy },
        { hasActiveJob: !!(await storage.jobs.active(account.id)) },
      );
      if (!decision.run) {
        await storage.triggers.update(account.id, { lastSkippedAt: iso(now), skipReason: decision.reason });
        logger.info({ accountId: account.id, reason: decision.reason }, 'scheduled run skipped');
        result.skipped.push({ accountId: account.id, reason: decision.reason });
        await publishAccount(this.ctx, account.id);
        continue;
      }
      try {
        const job = await this.jobs.start(account.id, 'background');
        result.started.push({ accountId: account.id, jobId: job.id });
      } catch (error) {
        const reason = error instanceof StackError ? error.code : 'error';
        await storage.triggers.update(account.id, { lastSkippedAt: iso(now), skipReason: reason });
        result.skipped.push({ accountId: account.id, reason });
      }
    }
    await this.#renewals(now, result);
    return result;
  }

  /**
   * The renewals people planned before a session lapses: a manual run at the time they chose (they
   * said they would be there, so it may ask a code). Taken with a guarded update, so started once.
   */
  async #renewals(now: number, result: TickResult): Promise<void> {
    const { storage, logger } = this.ctx;
    for (const due of await storage.notifications.dueRenewals(iso(now), DUE_PAGE)) {
      if (this.jobs.closing) break;
      if (!(await storage.notifications.takeRenewal(due.accountId, due.renewAt))) continue;
      try {
        const job = await this.jobs.start(due.accountId, 'manual');
        result.started.push({ accountId: due.accountId, jobId: job.id });
        logger.info({ accountId: due.accountId, jobId: job.id }, 'planned renewal started');
      } catch (error) {
        const reason = error instanceof StackError ? error.code : 'error';
        result.skipped.push({ accountId: due.accountId, reason: `RENEWAL_${reason.toUpperCase()}` });
      }
      await publishAccount(this.ctx, due.accountId);
    }
  }

  async get(accountId: string): Promise<Trigger> {
    const trigger = await this.#ensure(accountId);
    return triggerView(trigger);
  }

  /** Also the record of the last skip, for Home and the CLI. */
  async record(accountId: string): Promise<TriggerRecord> {
    return this.#ensure(accountId);
  }

  async set(accountId: string, input: { frequency: Trigger['frequency']; time?: string }): Promise<Trigger> {
    const { storage, clock } = this.ctx;
    const trigger = await this.#ensure(accountId);
    if (input.frequency !== 'off' && (await this.#manualOnly(accountId)))
      throw new StackError('invalid', MANUAL_ONLY_SENTENCE, { path: 'frequency' });
    if (input.time !== undefined && !isValidTime(input.time))
      throw new StackError('invalid', `time must be HH:MM: ${input.time}`, { path: 'time' });
    const updated = { ...trigger, frequency: input.frequency, time: input.time ?? trigger.time };
    const next = nextRunAt(updated, clock.now());
    updated.nextRunAt = next === null ? null : iso(next);
    await storage.triggers.upsert(updated);
    await publishAccount(this.ctx, accountId);
    return triggerView(updated);
  }

  async #manualOnly(accountId: string): Promise<boolean> {
    const account = await this.ctx.storage.accounts.get(accountId);
    return !!(account && this.ctx.registry.get(account.konnector)?.manifest.manualOnly);
  }

  async #ensure(accountId: string): Promise<TriggerRecord> {
    const { storage, registry, clock } = this.ctx;
    const account = await storage.accounts.get(accountId);
    if (!account) throw new StackError('not_found', `no account ${accountId}`);
    const existing = await storage.triggers.get(accountId);
    if (existing) return existing;
    const manifest = registry.get(account.konnector)?.manifest;
    const { time, weekday } = spreadTime(accountId, manifest?.time_interval ?? [0, 5]);
    const trigger: TriggerRecord = {
      accountId,
      frequency: manifest?.manualOnly ? 'off' : (manifest?.frequency ?? 'daily'),
      time,
      weekday,
      nextRunAt: null,
      lastSkippedAt: null,
      skipReason: null,
    };
    const next = nextRunAt(trigger, clock.now());
    trigger.nextRunAt = next === null ? null : iso(next);
    await storage.triggers.upsert(trigger);
    return trigger;
  }
}
