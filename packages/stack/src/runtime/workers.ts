import { randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { WorkerRecord } from '../storage/stores.js';
import { isAlive, unmarkNode } from '../data-lock.js';
import type { StackContext } from './context.js';
import { finalizeJob, initialLoginState, type JobRunner } from './job-runner.js';

export type WorkersOptions = {
  /** Whether this node runs jobs (it then has a row and beats); a `serve --no-worker` node only reaps. */
  runsJobs: boolean;
  /** Between two heartbeats (and reaps); default 2 s. */
  heartbeatMs: number;
  /** A worker whose last beat is older than this is dead; default 10 s. */
  reapAfterMs: number;
  /** Where every node's staging folder is (`<stagingBase>/<worker id>`): a dead one's is removed when it is visible here. */
  stagingBase: string;
};

export type ReapResult = { workers: string[]; jobs: number; prompts: number; accounts: number };

/**
 * This process's host as a worker row records it: the host name, then what makes its pids comparable
 * (the kernel's boot id and the pid namespace). Two machines, or two containers, may share a host
 * name; only a row with this same identity may be judged dead by its pid alone.
 */
export const localHost: string = (() => {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
    const pidNamespace = readlinkSync('/proc/self/ns/pid').replace(/^pid:\[(\d+)\]$/, '$1');
    return `${hostname()} (boot ${boot}, pid namespace ${pidNamespace})`;
  } catch {
    return hostname(); // no /proc: judged by heartbeat only (see #isDead)
  }
})();

/** A worker id: the host and pid to read, random bytes so that a restarted pid is another worker. */
export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * The workers sharing one PostgreSQL: this node's own row and heartbeat, and the reaper every node
 * runs. A worker is dead when its beat is older than `reapAfterMs`, or at once when it was on this
 * host and its process is gone. Its running jobs end JOB_INTERRUPTED through the guarded end of a job
 * (their prompts `interrupted`, the account's transient state cleared, events published), then its row
 * goes. A worker that finds its own row gone (it was declared dead: a pause longer than the bound)
 * stops its jobs, which the reaper ended already, and registers again.
 */
export class Workers {
  readonly id: string;
  readonly #ctx: StackContext;
  readonly #options: WorkersOptions;
  readonly #runner: JobRunner | null;
  /** Sends lost queued jobs again (the pg-boss queue), after each reap. */
  readonly #resend: (() => Promise<unknown>) | null;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | null = null;
  #registered = false;

  constructor(
    ctx: StackContext,
    runner: JobRunner | null,
    options: WorkersOptions,
    resend: (() => Promise<unknown>) | null,
    id = newWorkerId(),
  ) {
    this.id = id;
    this.#ctx = ctx;
    this.#runner = runner;
    this.#options = options;
    this.#resend = resend;
  }

  /** Inserts this worker's row (a node that runs no jobs has none). */
  async register(): Promise<void> {
    if (!this.#options.runsJobs) return;
    const at = new Date().toISOString();
    await this.#ctx.storage.workers.insert({
      id: this.id,
      host: localHost,
      pid: process.pid,
      startedAt: at,
      heartbeatAt: at,
    });
    this.#registered = true;
  }

  /** Beats and reaps every `heartbeatMs` until `stop()`. */
  start(): void {
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = this.#tick().finally(() => (this.#ticking = null));
    }, this.#options.heartbeatMs);
    this.#timer.unref();
  }

  /** Stops beating; with `unregister`, its row goes (its jobs have ended). */
  async stop(unregister: boolean): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    if (unregister && this.#registered) {
      this.#registered = false;
      await this.#ctx.storage.workers.delete(this.id);
    }
  }

  async #tick(): Promise<void> {
    const { logger } = this.#ctx;
    try {
      await this.beat();
    } catch (error) {
      logger.warn({ err: error, worker: this.id }, 'could not record the heartbeat');
    }
    try {
      await this.reap();
      await this.#resend?.();
    } catch (error) {
      logger.warn({ err: error }, 'could not look for dead workers');
    }
  }

  /** Records this worker's heartbeat; a row found gone means another node declared it dead. */
  async beat(): Promise<void> {
    if (!this.#registered) return;
    if (await this.#ctx.storage.workers.beat(this.id, new Date().toISOString())) return;
    const running = this.#runner?.ids() ?? [];
    this.#ctx.logger.error(
      { worker: this.id, jobs: running.length, reapAfterMs: this.#options.reapAfterMs },
      'this worker missed its heartbeats and was declared dead: its jobs were ended JOB_INTERRUPTED; stopping them and registering again',
    );
    await Promise.all(running.map((id) => this.#runner!.stop(id, 'JOB_INTERRUPTED')));
    this.#registered = false;
    await this.register();
  }

  /** Ends what dead workers left running and removes them; any node may run it at any time. */
  async reap(): Promise<ReapResult> {
    const { storage, logger } = this.#ctx;
    const result: ReapResult = { workers: [], jobs: 0, prompts: 0, accounts: 0 };
    const now = Date.now();
    const dead = (await storage.workers.list()).filter((w) => w.id !== this.id && this.#isDead(w, now));
    for (const worker of dead) {
      const jobs = await storage.jobs.runningOn([worker.id]);
      const accounts = new Set<string>();
      for (const job of jobs) {
        const waiting = (await storage.prompts.listByJob(job.id)).filter((p) => p.status === 'waiting');
        const seq = await storage.logs.count(job.id);
        await storage.logs
          .append({
            jobId: job.id,
            seq,
            level: 'error',
            message: `the worker running this job (${worker.id}) stopped: its last heartbeat was at ${worker.heartbeatAt}`,
            at: new Date(now).toISOString(),
          })
          .catch(() => undefined);
        if (await finalizeJob(this.#ctx, job, 'JOB_INTERRUPTED', initialLoginState)) {
          result.jobs++;
          result.prompts += waiting.length;
          accounts.add(job.accountId);
        }
      }
      result.accounts += accounts.size;
      if (await storage.workers.delete(worker.id)) {
        result.workers.push(worker.id);
        logger.warn(
          { worker: worker.id, host: worker.host, pid: worker.pid, lastBeat: worker.heartbeatAt, jobs: jobs.length },
          'a worker stopped beating: its running jobs ended JOB_INTERRUPTED',
        );
      }
      // Its staging folder, when this node sees it (a shared folder, or the same machine), and its mark.
      await rm(join(this.#options.stagingBase, worker.id), { recursive: true, force: true }).catch(() => undefined);
      try {
        unmarkNode(this.#ctx.config.dataDir, worker.id);
      } catch {
        // a read-only folder: the mark only keeps `gleaner install` from pruning
      }
    }
    return result;
  }

  #isDead(worker: WorkerRecord, now: number): boolean {
    if (Date.parse(worker.heartbeatAt) < now - this.#options.reapAfterMs) return true;
    // In this pid namespace of this kernel, a process that is gone is dead now (the same pid as ours:
    // another stack of this process). A bare host name is no proof of that: heartbeats only.
    const samePids = worker.host === localHost && localHost !== hostname();
    return samePids && worker.pid !== process.pid && !isAlive(worker.pid);
  }
}
