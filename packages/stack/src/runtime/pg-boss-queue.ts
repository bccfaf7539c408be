import pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import { redactDatabaseUrl } from '../storage/postgres.js';
import type { PgNotifier } from '../storage/pg-notify.js';
import type { JobRecord, Storage } from '../storage/stores.js';
import type { JobQueue } from './job-queue.js';
import type { JobRunner } from './job-runner.js';

/** The pg-boss queue every node sends to and every worker fetches from. */
export const PG_BOSS_QUEUE = 'gleaner-jobs';
/** Where pg-boss keeps its tables, apart from Gleaner's. */
export const PG_BOSS_SCHEMA = 'pgboss';

/** Held around pg-boss's start on a fresh database: two nodes making its schema at once deadlock. */
const PG_BOSS_START_LOCK: [number, number] = [0x676c65, 5];

/** How often an idle worker with a free slot asks for work (a `queued` notification wakes it sooner). */
const POLL_MS = 1000;

type Payload = { jobId: string };

export type PgBossQueueOptions = {
  database: string;
  storage: Storage;
  notifier: PgNotifier;
  logger: Logger;
  /** This node's runner, or null on a node that only enqueues (`serve --no-worker`). */
  runner: JobRunner | null;
  concurrency: number;
  /** Past this, a job fetched but never taken (its worker died in between) is sent again. */
  lostAfterMs: number;
  now: () => number;
};

/**
 * Jobs through pg-boss 10. `enqueue` sends one pg-boss job per job row (singleton key: the account;
 * the one-active-job index on the rows is the real guard). A worker fetches only as many as it has
 * free slots, takes each row with the guarded queued → running transition, and completes the pg-boss
 * job at once: from then on the row and the worker's heartbeat (workers.ts) say what happens, and a
 * konnector run is never retried. A pg-boss job whose row is no longer `queued` is simply completed.
 * Queue policy `standard`, retries 0: pg-boss's `singleton`/`stately` policies make a whole fetch fail
 * when a second job of one key meets an active one, and a run must not be retried anyway.
 */
export class PgBossQueue implements JobQueue {
  readonly #boss: PgBoss;
  readonly #options: PgBossQueueOptions;
  #open = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #stopListening: (() => void) | null = null;

  private constructor(boss: PgBoss, options: PgBossQueueOptions) {
    this.#boss = boss;
    this.#options = options;
  }

  /** Starts pg-boss on the database (its schema made or migrated, under its own lock) and the queue. */
  static async open(options: PgBossQueueOptions): Promise<PgBossQueue> {
    const boss = new PgBoss({
      connectionString: options.database,
      schema: PG_BOSS_SCHEMA,
      max: 4,
      application_name: 'gleaner-jobs',
      schedule: false,
    });
    boss.on('error', (error: Error) =>
      options.logger.warn({ err: error.message, database: redactDatabaseUrl(options.database) }, 'pg-boss reported an error'),
    );
    // pg-boss makes its schema and our queue once, whichever node starts first; the others wait here.
    const holder = new pg.Client({ connectionString: options.database });
    holder.on('error', () => undefined); // a connection lost meanwhile only lets the lock go early
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1, $2)', PG_BOSS_START_LOCK);
      await boss.start();
    } catch (error) {
      await holder.end().catch(() => undefined);
      throw error;
    }
    try {
      if (!(await boss.getQueue(PG_BOSS_QUEUE))) {
        // Two nodes starting at once: the second's create fails on the queue's name; the queue is there.
        await boss
          .createQueue(PG_BOSS_QUEUE, { name: PG_BOSS_QUEUE, policy: 'standard', retryLimit: 0 })
          .catch(async (error: unknown) => {
            if (!(await boss.getQueue(PG_BOSS_QUEUE))) throw error;
          });
      }
    } catch (error) {
      await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      throw error;
    } finally {
      await holder.end().catch(() => undefined); // the lock goes with its connection
    }
    return new PgBossQueue(boss, options);
  }

  async enqueue(job: JobRecord): Promise<void> {
    await this.#send(job);
    // Idle workers fetch now rather than at their next poll.
    await this.#options.notifier
      .notify('gleaner_jobs', JSON.stringify({ type: 'queued', jobId: job.id }))
      .catch((error: unknown) => this.#options.logger.warn({ err: error, jobId: job.id }, 'could not notify the workers'));
  }

  /** Nothing waits in a node of its own: a queued job is in the database, for any worker. */
  withdraw(): boolean {
    return false;
  }

  start(): Promise<void> {
    if (!this.#options.runner || this.#open) return Promise.resolve();
    this.#open = true;
    this.#stopListening = this.#options.notifier.listen('gleaner_jobs', (payload) => {
      if (payload.includes('"queued"')) this.#wake?.();
    });
    this.#loop = this.#work(this.#options.runner);
    return Promise.resolve();
  }

  async close(): Promise<string[]> {
    this.#open = false;
    this.#stopListening?.();
    this.#wake?.();
    await this.#loop;
    await this.#boss.stop({ graceful: false, wait: true, timeout: 2000 }).catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, 'could not stop pg-boss');
    });
    // Held jobs are none: each fetched one is taken (or completed) before the next fetch.
    return [];
  }

  /**
   * Rows left `queued` for longer than `lostAfterMs` with no pg-boss job that will bring them to a
   * worker (their sender died before sending, or the worker that fetched them died before taking
   * them): sent again. Any node may call it; a duplicate is completed by whichever worker meets it.
   */
  async resendLost(): Promise<number> {
    const { storage, lostAfterMs, now, logger } = this.#options;
    const before = new Date(now() - lostAfterMs).toISOString();
    const queued = (await storage.jobs.list({ statuses: ['queued'], limit: 10_000 })).filter((j) => j.createdAt < before);
    if (queued.length === 0) return 0;
    const { rows } = await this.#boss.getDb().executeSql(
      `select id, data->>'jobId' as "jobId", state, started_on < now() - make_interval(secs => $2) as stale
         from ${PG_BOSS_SCHEMA}.job where name = $1 and state in ('created', 'retry', 'active')`,
      [PG_BOSS_QUEUE, lostAfterMs / 1000],
    );
    const live = new Set<string>();
    const stale: string[] = [];
    for (const row of rows as { id: string; jobId: string; state: string; stale: boolean | null }[]) {
      if (row.state === 'active' && row.stale) stale.push(row.id);
      else live.add(row.jobId);
    }
    if (stale.length) await this.#boss.fail(PG_BOSS_QUEUE, stale).catch(() => undefined);
    let sent = 0;
    for (const job of queued) {
      if (live.has(job.id)) continue;
      await this.#send(job);
      sent++;
    }
    if (sent) {
      logger.warn({ jobs: sent }, 'queued jobs whose worker or sender died were sent again');
      this.#wake?.();
    }
    return sent;
  }

  async #send(job: JobRecord): Promise<void> {
    const payload: Payload = { jobId: job.id };
    await this.#boss.send(PG_BOSS_QUEUE, payload, {
      singletonKey: job.accountId,
      retryLimit: 0,
      // Between the fetch and the take (milliseconds): past this pg-boss fails it and resendLost sends another.
      expireInSeconds: Math.max(60, Math.ceil(this.#options.lostAfterMs / 1000)),
    });
  }

  async #work(runner: JobRunner): Promise<void> {
    const { concurrency, logger } = this.#options;
    while (this.#open) {
      const free = concurrency - runner.size;
      let fetched: PgBoss.Job<Payload>[] = [];
      if (free > 0) {
        try {
          fetched = await this.#boss.fetch<Payload>(PG_BOSS_QUEUE, { batchSize: free });
        } catch (error) {
          if (this.#open) logger.warn({ err: error }, 'could not fetch jobs from pg-boss');
        }
      }
      for (const bossJob of fetched) {
        if (!this.#open) break;
        const handle = runner.run(bossJob.data.jobId);
        // Taken or not, the pg-boss job is done once the row says who runs it.
        await handle.claimed;
        await this.#boss.complete(PG_BOSS_QUEUE, bossJob.id).catch((error: unknown) => {
          logger.warn({ err: error, jobId: bossJob.data.jobId }, 'could not complete the pg-boss job');
        });
        void handle.ended.finally(() => this.#wake?.());
      }
      if (!this.#open) break;
      if (fetched.length === 0 || runner.size >= concurrency) await this.#sleep(POLL_MS);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}
