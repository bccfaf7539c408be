import { randomUUID } from 'node:crypto';
import type { Job, JobLogLine, RunMode } from '@gleaner/contracts';
import { StackError } from '../errors.js';
import type { CancelReason } from '../runner/spawn-konnector.js';
import type { JobRecord } from '../storage/stores.js';
import { iso } from './clock.js';
import { jobView, publishAccount, publishJob, type StackContext } from './context.js';
import type { JobQueue } from './job-queue.js';
import { finalizeJob, initialLoginState, type JobRunner } from './job-runner.js';

/** How often `cancel` and `settled` look at a row another node ends. */
const ROW_POLL_MS = 100;
/** The longest `cancel` waits for another node to end a running job (the reaper ends it if that node died). */
const REMOTE_STOP_WAIT_MS = 30_000;

type StopMessage = { type: 'stop'; jobId: string; reason: CancelReason };

/**
 * Jobs: one active per account (the storage's unique index says so), handed to a queue (this
 * process's on SQLite, pg-boss on PostgreSQL) and run by a worker's runner. Cancel works wherever the
 * job is: queued, it ends in the database; running on another node, that node is told over
 * LISTEN/NOTIFY (`gleaner_jobs`) and stops it.
 */
export class JobService {
  readonly #ctx: StackContext;
  readonly #queue: JobQueue;
  /** This node's runner, or null when it runs no jobs. */
  readonly #runner: JobRunner | null;
  #closing = false;
  #stopListening: (() => void) | null = null;

  constructor(ctx: StackContext, queue: JobQueue, runner: JobRunner | null) {
    this.#ctx = ctx;
    this.#queue = queue;
    this.#runner = runner;
    if (ctx.notifier && runner) {
      this.#stopListening = ctx.notifier.listen('gleaner_jobs', (payload) => {
        let message: Partial<StopMessage>;
        try {
          message = JSON.parse(payload) as Partial<StopMessage>;
        } catch {
          return;
        }
        if (message.type !== 'stop' || typeof message.jobId !== 'string' || !runner.has(message.jobId)) return;
        const reason: CancelReason = message.reason === 'JOB_INTERRUPTED' ? 'JOB_INTERRUPTED' : 'JOB_CANCELLED';
        void runner.stop(message.jobId, reason);
      });
    }
  }

  get closing(): boolean {
    return this.#closing;
  }

  async start(accountId: string, mode: RunMode): Promise<Job> {
    const { storage, registry, clock } = this.#ctx;
    if (this.#closing) throw new StackError('conflict', 'the stack is shutting down: no new jobs');
    const account = await storage.accounts.get(accountId);
    if (!account) throw new StackError('not_found', `no account ${accountId}`);
    registry.refresh();
    if (!registry.get(account.konnector))
      throw new StackError('invalid', `konnector ${account.konnector} is not installed`);
    const job: JobRecord = {
      id: randomUUID(),
      accountId,
      konnector: account.konnector,
      konnectorVersion: null,
      workerId: null,
      mode,
      status: 'queued',
      loginStatus: 'pending',
      error: null,
      filesSaved: 0,
      createdAt: iso(clock.now()),
      startedAt: null,
      endedAt: null,
    };
    if (!(await storage.jobs.insertIfNoActive(job))) {
      const active = await storage.jobs.active(accountId);
      throw new StackError('conflict', `account ${accountId} already has an active job`, { jobId: active?.id });
    }
    await publishJob(this.#ctx, job.id);
    await publishAccount(this.#ctx, accountId);
    await this.#queue.enqueue(job);
    return jobView(job);
  }

  async get(id: string): Promise<Job> {
    const job = await this.#ctx.storage.jobs.get(id);
    if (!job) throw new StackError('not_found', `no job ${id}`);
    return jobView(job);
  }

  async list(filter: { accountId?: string; limit?: number }): Promise<Job[]> {
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
    return (
      await this.#ctx.storage.jobs.list({ ...(filter.accountId ? { accountId: filter.accountId } : {}), limit })
    ).map(jobView);
  }

  async logs(id: string): Promise<JobLogLine[]> {
    await this.get(id);
    return this.#ctx.storage.logs.list(id);
  }

  /** Ends the job JOB_CANCELLED wherever it is; resolves once its row is ended (or after a bound when another node must stop it). */
  async cancel(id: string): Promise<Job> {
    const job = await this.#ctx.storage.jobs.get(id);
    if (!job) throw new StackError('not_found', `no job ${id}`);
    await this.#stop(job, 'JOB_CANCELLED');
    return this.get(id);
  }

  /** Waits until the job is no longer active here, and on PostgreSQL until its row is ended wherever it ran. */
  async settled(id: string): Promise<void> {
    await this.#runner?.ended(id);
    if (this.#ctx.notifier) await this.#rowEnded(id, REMOTE_STOP_WAIT_MS);
  }

  /**
   * No new jobs; jobs this node queued but never started end JOB_INTERRUPTED (on PostgreSQL they stay
   * queued for another worker); running ones get `graceMs`, then are stopped.
   */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#stopListening?.();
    for (const id of await this.#queue.close()) await this.#endQueued(id, 'JOB_INTERRUPTED');
    await this.#runner?.close(graceMs);
  }

  async #stop(job: JobRecord, reason: CancelReason): Promise<void> {
    const { id } = job;
    if (this.#queue.withdraw(id)) {
      await this.#endQueued(id, reason);
      return;
    }
    if (this.#runner?.has(id)) {
      await this.#runner.stop(id, reason);
      return;
    }
    // Not here: queued in the shared queue, it ends in the database (the worker that fetches it finds
    // it ended and lets it go); running on another node, that node is told to stop it.
    if (job.status === 'queued' && (await finalizeJob(this.#ctx, job, reason, initialLoginState, ['queued']))) return;
    const current = await this.#ctx.storage.jobs.get(id);
    if (current?.status !== 'running' || !this.#ctx.notifier) return;
    const message: StopMessage = { type: 'stop', jobId: id, reason };
    await this.#ctx.notifier.notify('gleaner_jobs', JSON.stringify(message));
    await this.#rowEnded(id, REMOTE_STOP_WAIT_MS);
  }

  async #endQueued(id: string, reason: CancelReason): Promise<void> {
    const job = await this.#ctx.storage.jobs.get(id);
    if (job) await finalizeJob(this.#ctx, job, reason, initialLoginState);
  }

  /** Resolves when the row is ended (or gone), or after `boundMs`. */
  async #rowEnded(id: string, boundMs: number): Promise<void> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      const row = await this.#ctx.storage.jobs.get(id);
      if (!row || (row.status !== 'queued' && row.status !== 'running')) return;
      if (Date.now() >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, ROW_POLL_MS));
    }
  }
}
