import type { JobRecord } from '../storage/stores.js';
import type { JobRunner } from './job-runner.js';

/**
 * Where queued jobs wait until a worker takes them. The job's row is inserted first (the one-active-
 * job index is the guard); the queue only carries its id. SQLite: `InProcessQueue`; PostgreSQL:
 * `PgBossQueue`, shared by every node.
 */
export interface JobQueue {
  /** Hands a job whose row is inserted `queued` to whichever worker takes it. */
  enqueue(job: JobRecord): Promise<void>;
  /** Takes the job out of this node's own queue if it waits there; whether it did. */
  withdraw(id: string): boolean;
  /** Begins taking jobs (on a node that runs them). */
  start(): Promise<void>;
  /** Stops taking jobs; returns the ids this node held but never started (they end JOB_INTERRUPTED). */
  close(): Promise<string[]>;
}

/** The single process's queue (SQLite): at most `concurrency` jobs run at once, in order. */
export class InProcessQueue implements JobQueue {
  readonly #runner: JobRunner;
  readonly #concurrency: number;
  readonly #queue: string[] = [];
  #open = false;

  constructor(runner: JobRunner, concurrency: number) {
    this.#runner = runner;
    this.#concurrency = concurrency;
  }

  enqueue(job: JobRecord): Promise<void> {
    this.#queue.push(job.id);
    this.#pump();
    return Promise.resolve();
  }

  withdraw(id: string): boolean {
    const at = this.#queue.indexOf(id);
    if (at === -1) return false;
    this.#queue.splice(at, 1);
    return true;
  }

  start(): Promise<void> {
    this.#open = true;
    this.#pump();
    return Promise.resolve();
  }

  close(): Promise<string[]> {
    this.#open = false;
    return Promise.resolve(this.#queue.splice(0));
  }

  #pump(): void {
    while (this.#open && this.#runner.size < this.#concurrency && this.#queue.length > 0) {
      const id = this.#queue.shift()!;
      void this.#runner.run(id).ended.finally(() => this.#pump());
    }
  }
}
