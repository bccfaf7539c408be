import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { connectAndMigrate, openPostgresDatabase } from '../storage/postgres.js';
import type { Database } from '../storage/schema.js';

/**
 * Login attempts per client: after `maxFailures` failures within `windowMs`, further attempts are
 * refused until the oldest failure leaves the window. The clock is passed in.
 */
export interface LoginLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  /** Milliseconds until `client` may try again; 0 when it may try now. */
  retryAfterMs(client: string, now: number): Promise<number>;
  recordFailure(client: string, now: number): Promise<void>;
  recordSuccess(client: string): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_MAX_FAILURES = 5;
const DEFAULT_WINDOW_MS = 5 * 60_000;

/** When the `maxFailures`-th newest failure leaves the window (failures newest first). */
function waitFor(newestFirst: number[], maxFailures: number, windowMs: number, now: number): number {
  if (newestFirst.length < maxFailures) return 0;
  const oldest = newestFirst[maxFailures - 1] ?? now;
  return Math.max(1, oldest + windowMs - now);
}

/** The limiter of one process (SQLite: one node serves the API). */
export class MemoryLoginLimiter implements LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    readonly maxFailures = DEFAULT_MAX_FAILURES,
    readonly windowMs = DEFAULT_WINDOW_MS,
  ) {}

  async retryAfterMs(client: string, now: number): Promise<number> {
    return waitFor(this.#recent(client, now).reverse(), this.maxFailures, this.windowMs, now);
  }

  async recordFailure(client: string, now: number): Promise<void> {
    const recent = this.#recent(client, now);
    recent.push(now);
    this.#failures.set(client, recent);
    // Bound the map: a client flooding from many addresses must not grow it without end.
    if (this.#failures.size > 10_000) this.#prune(now);
  }

  async recordSuccess(client: string): Promise<void> {
    this.#failures.delete(client);
  }

  async close(): Promise<void> {}

  #recent(client: string, now: number): number[] {
    return (this.#failures.get(client) ?? []).filter((at) => at > now - this.windowMs);
  }

  #prune(now: number): void {
    for (const [client, times] of this.#failures) {
      if (times.every((at) => at <= now - this.windowMs)) this.#failures.delete(client);
    }
  }
}

/**
 * The limiter of several API nodes: failures are rows of the PostgreSQL database (table
 * `login_failures`), so a client's failed logins count on every node together.
 */
export class PostgresLoginLimiter implements LoginLimiter {
  #recorded = 0;
  private constructor(
    readonly db: Kysely<Database>,
    readonly maxFailures: number,
    readonly windowMs: number,
  ) {}

  /** Connects (migrating if needed) and returns the limiter. */
  static async open(
    database: string,
    options: { maxFailures?: number; windowMs?: number; logger?: Logger } = {},
  ): Promise<PostgresLoginLimiter> {
    const db = openPostgresDatabase(database, { maxConnections: 2, ...(options.logger ? { logger: options.logger } : {}) });
    try {
      await connectAndMigrate(db, database);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new PostgresLoginLimiter(db, options.maxFailures ?? DEFAULT_MAX_FAILURES, options.windowMs ?? DEFAULT_WINDOW_MS);
  }

  async retryAfterMs(client: string, now: number): Promise<number> {
    const rows = await this.db
      .selectFrom('login_failures')
      .select('at')
      .where('client', '=', client)
      .where('at', '>', now - this.windowMs)
      .orderBy('at', 'desc')
      .limit(this.maxFailures)
      .execute();
    return waitFor(rows.map((r) => Number(r.at)), this.maxFailures, this.windowMs, now);
  }

  async recordFailure(client: string, now: number): Promise<void> {
    await this.db.insertInto('login_failures').values({ client, at: now }).execute();
    // Failures out of the window count no more: dropped now and then, for every client.
    if (++this.#recorded % 100 === 1)
      await this.db.deleteFrom('login_failures').where('at', '<=', now - this.windowMs).execute();
  }

  async recordSuccess(client: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('client', '=', client).execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
