import { mkdir } from 'node:fs/promises';
import { isTransientState, type ErrorCode, type JobStatus } from '@gleaner/contracts';
import {
  reduceLoginStatus,
  initialLoginState,
  type LoginEffect,
  type LoginEvent,
  type LoginState,
} from '../core/login-status.js';
import { reduceSkipPolicy } from '../core/skip-policy.js';
import { asDiskFault, DiskFaultError } from '../disk-faults.js';
import { spawnKonnector, type CancelReason, type RunningKonnector } from '../runner/spawn-konnector.js';
import type { InstalledKonnector } from '../registry/registry.js';
import type { AccountRecord, JobRecord } from '../storage/stores.js';
import { iso } from './clock.js';
import { jobStaging, publishAccount, publishJob, publishPrompt, type StackContext } from './context.js';
import { createJobHost, type JobHost } from './job-host.js';

type Active = {
  host: JobHost | null;
  run: RunningKonnector | null;
  cancelReason: CancelReason | null;
  ended: Promise<void>;
};

/** What `JobRunner.run` gives back: whether this node took the job (queued → running), and its end. */
export type RunHandle = { claimed: Promise<boolean>; ended: Promise<void> };

/** An untrusted konnector where there is no sandbox: refused before it starts. */
class SandboxRefusal extends Error {}

/** Credentials that do not open (the job log says why): the konnector is not started. */
class UnreadableRefusal extends Error {}

/**
 * Runs jobs on this node: takes a queued row (the guarded queued → running transition records this
 * worker's id, so that of two workers handed one job only one runs it), spawns its konnector, drives
 * the 8-second rule, and ends the row. Queues (job-queue.ts, pg-boss-queue.ts) decide when.
 */
export class JobRunner {
  readonly #ctx: StackContext;
  readonly #workerId: string;
  readonly #active = new Map<string, Active>();

  constructor(ctx: StackContext, workerId: string) {
    this.#ctx = ctx;
    this.#workerId = workerId;
  }

  /** Jobs this node runs now (taken or being taken). */
  get size(): number {
    return this.#active.size;
  }

  has(id: string): boolean {
    return this.#active.has(id);
  }

  ids(): string[] {
    return [...this.#active.keys()];
  }

  /** Resolves when the job is no longer running here (at once if it does not run here). */
  async ended(id: string): Promise<void> {
    await this.#active.get(id)?.ended;
  }

  /** Takes the queued job `id` and runs it; `claimed` is false when its row was no longer queued. */
  run(id: string): RunHandle {
    const entry: Active = { host: null, run: null, cancelReason: null, ended: Promise.resolve() };
    this.#active.set(id, entry);
    let claim!: (claimed: boolean) => void;
    const claimed = new Promise<boolean>((resolve) => (claim = resolve));
    entry.ended = this.#run(id, entry, claim)
      .catch((error: unknown) => this.#ctx.logger.error({ err: error, jobId: id }, 'a job failed in the runtime'))
      .finally(() => {
        claim(false);
        this.#active.delete(id);
      });
    return { claimed, ended: entry.ended };
  }

  /** Stops a job running here: its wait for a code ends at once, its process gets the kill grace. */
  async stop(id: string, reason: CancelReason): Promise<void> {
    const active = this.#active.get(id);
    if (!active) return;
    active.cancelReason ??= reason;
    await active.host?.abortWaits(reason === 'JOB_INTERRUPTED' ? 'interrupted' : 'cancelled');
    if (active.run) void active.run.kill(reason);
    await active.ended;
  }

  /** Running jobs get `graceMs` to end on their own, then end JOB_INTERRUPTED. */
  async close(graceMs: number): Promise<void> {
    const running = [...this.#active.values()];
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(running.map((a) => a.ended)), graceOver]);
    clearTimeout(timer);
    await Promise.all(this.ids().map((id) => this.stop(id, 'JOB_INTERRUPTED')));
    await Promise.all([...this.#active.values()].map((a) => a.ended));
  }

  async #run(id: string, entry: Active, claim: (claimed: boolean) => void): Promise<void> {
    const { storage, registry, clock } = this.#ctx;
    const startedAt = iso(clock.now());
    const queued = await storage.jobs.get(id);
    if (!queued || queued.status !== 'queued') return;
    // The konnector is read again now: the version installed at this moment is the one this job runs,
    // and its folder stays (a newer install or an uninstall does not remove it) until the job ends.
    const lease = registry.acquire(queued.konnector);
    try {
      const konnectorVersion = lease?.konnector.manifest.version ?? null;
      const taken = await storage.jobs.transition(id, ['queued'], {
        status: 'running',
        startedAt,
        konnectorVersion,
        workerId: this.#workerId,
      });
      claim(taken);
      if (!taken) return;
      const job = (await storage.jobs.get(id))!;
      await publishJob(this.#ctx, id);
      const account = await storage.accounts.get(job.accountId);
      if (!account || !lease) {
        if (!lease) {
          await storage.logs.append({
            jobId: id,
            seq: 0,
            level: 'error',
            message: `konnector ${job.konnector} is not installed (any more)`,
            at: startedAt,
          });
        }
        await finalizeJob(this.#ctx, job, account ? 'UNKNOWN_ERROR' : 'USER_ACTION_NEEDED.ACCOUNT_REMOVED', initialLoginState);
        return;
      }
      await this.#runKonnector(id, entry, job, account, lease.konnector);
    } finally {
      lease?.release();
      this.#ctx.onJobEnded?.();
    }
  }

  async #runKonnector(
    id: string,
    entry: Active,
    job: JobRecord,
    account: AccountRecord,
    konnector: InstalledKonnector,
  ): Promise<void> {
    const { storage, clock, config, logger } = this.#ctx;

    // The 8-second rule: a pure reducer; this shell applies its effects (status writes, wake-ups).
    let login: LoginState = initialLoginState;
    let wake: NodeJS.Timeout | undefined;
    let loginChain: Promise<void> = Promise.resolve();
    const feed = (event: LoginEvent) => {
      const step = reduceLoginStatus(login, event, clock.now());
      login = step.state;
      for (const effect of step.effects) apply(effect);
    };
    const apply = (effect: LoginEffect) => {
      if (effect.type === 'wakeAt') {
        clearTimeout(wake);
        wake = setTimeout(() => feed({ type: 'tick' }), Math.max(0, effect.at - clock.now()));
        return;
      }
      clearTimeout(wake);
      loginChain = loginChain.then(async () => {
        if (await storage.jobs.transition(id, ['running'], { loginStatus: effect.status }))
          await publishJob(this.#ctx, id);
      });
    };
    feed({ type: 'started', accountState: account.state });

    const host = createJobHost(this.#ctx, job, konnector, {
      onAccountState: (state) => feed({ type: 'accountState', state }),
    });
    entry.host = host;
    let error: ErrorCode | null;
    try {
      if (entry.cancelReason) throw new Error(entry.cancelReason);
      const { sandbox } = config;
      if (sandbox.state === 'unavailable' && !konnector.trusted) {
        host.handlers.onLog({
          level: 'error',
          message: `not run: konnector ${job.konnector} is not trusted and there is no sandbox here (${sandbox.missing}); install it: ${sandbox.installLine}`,
          at: iso(clock.now()),
        });
        throw new SandboxRefusal();
      }
      if (!(await host.credentialsReadable())) throw new UnreadableRefusal();
      const stagingDir = jobStaging(config, id);
      // Recursive only when the root is gone (a tmp cleaner): a recursive mkdir says ENOENT, not
      // EROFS, on a read-only folder.
      await mkdir(stagingDir, { mode: 0o700 })
        .catch(async (made: NodeJS.ErrnoException) => {
          if (made.code === 'ENOENT') await mkdir(stagingDir, { recursive: true, mode: 0o700 });
          else if (made.code !== 'EEXIST') throw made;
        })
        .catch((made: unknown) => {
          throw asDiskFault(made, config.stagingDir);
        });
      const run = spawnKonnector({
        konnectorDir: konnector.dir,
        main: konnector.main,
        handlers: host.handlers,
        timeLimitMs: config.jobTimeLimitMs,
        memoryLimitMb: config.memoryLimitMb,
        killGraceMs: config.killGraceMs,
        stagingDir,
        stagingLimitMb: config.stagingLimitMb,
        ...(sandbox.state === 'on'
          ? {
              sandbox: {
                limits: sandbox.limits,
                bwrapPath: sandbox.bwrapPath,
                masks: [config.dataDir, config.stagingDir],
                trusted: konnector.trusted,
              },
            }
          : {}),
      });
      entry.run = run;
      // A stop asked while the process was being spawned: it is killed now.
      if (entry.cancelReason) void run.kill(entry.cancelReason);
      logger.info(
        {
          jobId: id,
          accountId: job.accountId,
          konnector: job.konnector,
          mode: job.mode,
          pid: run.pid,
          worker: this.#workerId,
          sandbox: sandbox.state === 'on',
        },
        'job started',
      );
      const outcome = await run.done;
      if (outcome.finish?.outcome === 'ok' && !outcome.killedForTime) error = null;
      else if (outcome.killedForTime || outcome.killedForCpu) error = 'JOB_TIMEOUT';
      else if (entry.cancelReason) error = entry.cancelReason;
      else if (outcome.killedForMemory) error = 'MEMORY_LIMIT_EXCEEDED';
      else if (outcome.killedForDisk) error = 'DISK_QUOTA_EXCEEDED';
      else error = outcome.finish?.error ?? 'UNKNOWN_ERROR';
    } catch (thrown) {
      if (thrown instanceof UnreadableRefusal) {
        error = 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE';
      } else if (thrown instanceof SandboxRefusal) {
        error = 'SANDBOX_UNAVAILABLE';
        logger.warn({ jobId: id, konnector: job.konnector }, 'untrusted konnector not run: no sandbox');
      } else {
        // A full or read-only disk (the staging folder cannot be made): its own code, the folder named.
        const fault = thrown instanceof DiskFaultError ? thrown.kind : null;
        const faultCode = fault === 'full' ? 'DISK_QUOTA_EXCEEDED' : fault ? 'SAVE_FILE_FAILED' : 'UNKNOWN_ERROR';
        error = entry.cancelReason ?? faultCode;
        logger.error({ err: thrown, jobId: id }, 'could not run the konnector');
        if (!entry.cancelReason)
          host.handlers.onLog({
            level: 'error',
            message: `could not run the konnector: ${(thrown as Error).message}`,
            at: iso(clock.now()),
          });
      }
    }
    clearTimeout(wake);
    // The process is gone: whatever the cleanup throws (a read-only staging folder, a log that cannot
    // be stored), the job still ends with the outcome it had.
    try {
      await host.close(error === 'JOB_INTERRUPTED' ? 'interrupted' : 'cancelled');
    } catch (thrown) {
      logger.error({ err: thrown, jobId: id }, 'the job could not be cleaned up');
    }
    try {
      await loginChain;
    } catch (thrown) {
      logger.error({ err: thrown, jobId: id }, 'could not store the login status');
    }
    const current = (await storage.jobs.get(id).catch(() => undefined)) ?? job;
    await finalizeJob(this.#ctx, current, error, login);
    logger.info({ jobId: id, error }, 'job ended');
  }
}

/**
 * Ends a job: status, error, login status, its waiting prompts, the account's transient state, the
 * skip policy, in one transaction guarded on the job still being active (so that the runner, a cancel
 * and a reaper on another node never end it twice). Returns whether this call ended it.
 */
export async function finalizeJob(
  ctx: StackContext,
  job: JobRecord,
  error: ErrorCode | null,
  login: LoginState,
  /** The statuses it may end from: a cancel of a job read `queued` elsewhere passes `['queued']`, so as never to end a run a worker just took. */
  from: JobStatus[] = ['queued', 'running'],
): Promise<boolean> {
  const { storage, clock } = ctx;
  const now = iso(clock.now());
  const loginStatus =
    job.loginStatus !== 'pending'
      ? job.loginStatus
      : reduceLoginStatus(login, { type: 'ended', error }, clock.now()).state.status;
  const closedPrompts: string[] = [];
  const ended = await storage.transaction(async (tx) => {
    const changed = await tx.jobs.transition(job.id, from, {
      status: error === null ? 'done' : 'errored',
      error,
      loginStatus,
      endedAt: now,
    });
    if (!changed) return false;
    // Prompts of a job that is over can never be answered.
    for (const prompt of await tx.prompts.listByJob(job.id)) {
      if (
        prompt.status === 'waiting' &&
        (await tx.prompts.closeIfWaiting(prompt.id, error === 'JOB_INTERRUPTED' ? 'interrupted' : 'cancelled'))
      ) {
        closedPrompts.push(prompt.id);
      }
    }
    const account = await tx.accounts.get(job.accountId);
    if (account) {
      const paused = reduceSkipPolicy({ pausedBy: account.pausedBy }, { type: 'jobEnded', mode: job.mode, error });
      await tx.accounts.update(job.accountId, {
        ...(isTransientState(account.state) ? { state: null } : {}),
        pausedBy: paused.pausedBy,
        updatedAt: now,
      });
    }
    return true;
  });
  if (!ended) return false;
  if (ctx.afterJobEnded) {
    // Before the job's end is published: whoever sees it sees its notification under way.
    const record = await storage.jobs.get(job.id);
    // A notification that cannot be raised never changes how the job ended.
    if (record)
      await ctx.afterJobEnded(record).catch((error: unknown) =>
        ctx.logger.warn({ err: error, jobId: job.id }, 'could not look at notifications for a job'),
      );
  }
  for (const promptId of closedPrompts) await publishPrompt(ctx, promptId);
  await publishJob(ctx, job.id);
  await publishAccount(ctx, job.accountId);
  return true;
}

export { initialLoginState };
