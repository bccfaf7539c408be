import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { connectAndMigrate, openPostgresDatabase } from '../storage/postgres.js';
import type { Database } from '../storage/schema.js';

/**
 * Login attempts per client: after `maxFailures` failures within `windowMs`, further attempts are
 * refused until the oldest failure leaves the window. An attempt is counted before the password is
 * checked (and forgotten on success), so that attempts sent at once, to one node or to several, are
 * refused past the limit rather than all checked. The clock is passed in.
 */
export interface LoginLimiter {
  readonly maxFailures: number;
  readonly windowMs: number;
  /**
   * Counts an attempt of `client` at `now` as a failure until `succeeded`; returns 0 when it may go
   * ahead, else the milliseconds until it may try again (the refused attempt is not counted).
   */
  attempt(client: string, now: number): Promise<number>;
  /** The client logged in: its failures are forgotten. */
  succeeded(client: string): Promise<void>;
  close(): Promise<void>;
}

const DEFAULT_MAX_FAILURES = 5;
/** The transaction advisory lock around a login attempt's count on PostgreSQL: ("gle", 3). */
const LOGIN_LOCK: [number, number] = [0x676c65, 3];
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

  async attempt(client: string, now: number): Promise<number> {
    const recent = this.#recent(client, now);
    const wait = waitFor([...recent].reverse(), this.maxFailures, this.windowMs, now);
    if (wait > 0) return wait;
    recent.push(now);
    this.#failures.set(client, recent);
    // Bound the map: a client flooding from many addresses must not grow it without end.
    if (this.#failures.size > 10_000) this.#prune(now);
    return 0;
  }

  async succeeded(client: string): Promise<void> {
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
    const db = openPostgresDatabase(database, {
      maxConnections: 2,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    try {
      await connectAndMigrate(db, database);
    } catch (error) {
      await db.destroy();
      throw error;
    }
    return new PostgresLoginLimiter(
      db,
      options.maxFailures ?? DEFAULT_MAX_FAILURES,
      options.windowMs ?? DEFAULT_WINDOW_MS,
    );
  }

  async attempt(client: string, now: number): Promise<number> {
    // Read and counted in one step for the whole cluster (a transaction lock: logins are few), so
    // that of attempts arriving at once on any nodes exactly `maxFailures` go ahead.
    const wait = await this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(${LOGIN_LOCK[0]}, ${LOGIN_LOCK[1]})`.execute(trx);
      const rows = await trx
        .selectFrom('login_failures')
        .select('at')
        .where('client', '=', client)
        .where('at', '>', now - this.windowMs)
        .orderBy('at', 'desc')
        .limit(this.maxFailures)
        .execute();
      const refused = waitFor(
        rows.map((r) => Number(r.at)),
        this.maxFailures,
        this.windowMs,
        now,
      );
      if (refused === 0) await trx.insertInto('login_failures').values({ client, at: now }).execute();
      return refused;
    });
    // Failures out of the window count no more: dropped now and then, for every client.
    if (wait === 0 && ++this.#recorded % 100 === 1)
      await this.db
        .deleteFrom('login_failures')
        .where('at', '<=', now - this.windowMs)
        .execute();
    return wait;
  }

  async succeeded(client: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('client', '=', client).execute();
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
