import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { kyselyStores } from './kysely-stores.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import type { Storage } from './stores.js';

export type PostgresOptions = {
  /** Connections kept open at most; default 10. */
  maxConnections?: number;
  /** Where a connection that fails while idle is reported (it is then dropped from the pool). */
  logger?: Logger;
  /**
   * A session advisory lock held on a connection of its own until `close()`. `shared`: every stack
   * node holds it, so that several share the database; `exclusive` (`rotate-key`): refused while any
   * stack holds it shared, and a stack's start is refused while it is held (re-sealing under a new key
   * must not race a node that goes on sealing with the old one).
   */
  hold?: 'shared' | 'exclusive';
};

/** The advisory lock stacks hold shared and `rotate-key` exclusive: ("gle", 1). */
const STACK_LOCK: [number, number] = [0x676c65, 1];
/** Held around migrations, so that two nodes starting at once migrate one after the other: ("gle", 2). */
const MIGRATION_LOCK: [number, number] = [0x676c65, 4];
const EXCLUSIVE_WAIT_MS = 3000;

/** Query parameters of a database URL whose values are secrets (a password, a key). */
const SECRET_PARAM = /pass|secret|key/i;

/** Whether `database` names a PostgreSQL server (a `postgres://` or `postgresql://` URL). */
export function isPostgresUrl(database: string): boolean {
  return /^postgres(ql)?:\/\//i.test(database.trim());
}

/**
 * The URL as it may be shown: its password replaced by `***` (and any `password=` parameter too).
 * Whatever is not a URL is shown as `(a database URL that does not parse)`, since it may be a secret.
 */
export function redactDatabaseUrl(database: string): string {
  let url: URL;
  try {
    url = new URL(database);
  } catch {
    return '(a database URL that does not parse)';
  }
  if (url.password) url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}

/** An error about the database that names it without its password (which is scrubbed from the message too). */
export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

function secretsOf(database: string): string[] {
  try {
    const url = new URL(database);
    const secrets = [url.password, decodeURIComponent(url.password)];
    for (const [key, value] of url.searchParams) if (SECRET_PARAM.test(key)) secrets.push(value);
    return secrets.filter((s) => s.length > 0);
  } catch {
    return [database];
  }
}

/** `message` with every secret of the URL replaced by `***`. */
function scrub(message: string, database: string): string {
  let out = message;
  for (const secret of secretsOf(database)) out = out.split(secret).join('***');
  return out;
}

/** A pool on the server named by `database`, opened lazily (the first query connects). Not migrated. */
export function openPostgresDatabase(database: string, options: PostgresOptions = {}): Kysely<Database> {
  if (!isPostgresUrl(database))
    throw new DatabaseError(`the database must be a postgres:// URL, got ${redactDatabaseUrl(database)}`);
  const pool = new pg.Pool({ connectionString: database, max: options.maxConnections ?? 10 });
  // A connection that fails while idle (the server restarted) must not crash the process: the pool
  // drops it and the next query opens another.
  pool.on('error', (error) => {
    options.logger?.warn(
      { database: redactDatabaseUrl(database), err: scrub(error.message, database) },
      'a PostgreSQL connection failed while idle',
    );
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Connects, then brings the schema up to date; returns the migrations applied. An error (the server
 * down, a wrong password, a failed migration) is a DatabaseError naming the server without its password.
 */
export async function connectAndMigrate(db: Kysely<Database>, database: string): Promise<string[]> {
  const fail = (what: string, error: unknown) =>
    new DatabaseError(
      `${what} ${redactDatabaseUrl(database)}: ${scrub((error as Error)?.message ?? String(error), database)}`,
    );
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    throw fail('could not connect to the PostgreSQL database', error);
  }
  try {
    // One connection for the whole migration: the session lock is that connection's.
    return await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`.execute(conn);
      try {
        return await migrateToLatest(conn, 'postgres');
      } finally {
        await sql`select pg_advisory_unlock(${MIGRATION_LOCK[0]}, ${MIGRATION_LOCK[1]})`.execute(conn);
      }
    });
  } catch (error) {
    throw fail('could not migrate the PostgreSQL database', error);
  }
}

/** `gleaner migrate --database`: brings the PostgreSQL schema up to date; returns the migrations applied. */
export async function migratePostgres(database: string): Promise<string[]> {
  const db = openPostgresDatabase(database);
  try {
    return await connectAndMigrate(db, database);
  } finally {
    await db.destroy();
  }
}

/**
 * Opens (and migrates) the PostgreSQL storage at `database` (a postgres:// URL). An error names
 * the server without its password.
 */
export async function openPostgresStorage(database: string, options: PostgresOptions = {}): Promise<Storage> {
  const db = openPostgresDatabase(database, options);
  let holder: pg.Client | undefined;
  try {
    await connectAndMigrate(db, database);
    if (options.hold) holder = await holdStackLock(database, options.hold, options.logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    dialect: 'postgres',
    ...kyselyStores(db, 'postgres'),
    // READ COMMITTED, PostgreSQL's default: what must not race is one guarded statement each
    // (transition, recordAttempt, closeIfWaiting, advance, the unique indexes), as on SQLite.
    transaction: (fn) => db.transaction().execute((trx) => fn(kyselyStores(trx, 'postgres'))),
    async close() {
      await db.destroy();
      if (holder) {
        // Unlocked before the connection ends, so that the next stack's start never races the server's cleanup.
        await holder
          .query(`select ${options.hold === 'shared' ? 'pg_advisory_unlock_shared' : 'pg_advisory_unlock'}($1, $2)`, STACK_LOCK)
          .catch(() => undefined);
        await holder.end().catch(() => undefined);
      }
    },
  };
}

/**
 * Takes the stack lock, shared or exclusive, on a connection of its own (ended, the lock goes), or
 * refuses. A stack that was just killed still holds it until its server process sees the connection
 * gone (a moment; after a machine's crash, until TCP keepalive tells), so the exclusive one waits up to
 * `EXCLUSIVE_WAIT_MS` first; so does the shared one, for a `rotate-key` that is finishing.
 */
async function holdStackLock(
  database: string,
  mode: 'shared' | 'exclusive',
  logger: Logger | undefined,
): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database, keepAlive: true });
  client.on('error', (error) => {
    logger?.error(
      { database: redactDatabaseUrl(database), err: scrub(error.message, database) },
      'the connection holding the PostgreSQL database for this stack failed',
    );
  });
  try {
    await client.connect();
    const deadline = Date.now() + EXCLUSIVE_WAIT_MS;
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>(
        `select ${mode === 'shared' ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock'}($1, $2) as locked`,
        STACK_LOCK,
      );
      if (rows[0]?.locked) return client;
      if (Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new DatabaseError(
      `could not lock the PostgreSQL database ${redactDatabaseUrl(database)}: ${scrub((error as Error)?.message ?? String(error), database)}`,
    );
  }
  await client.end().catch(() => undefined);
  throw new DatabaseError(
    mode === 'shared'
      ? `gleaner rotate-key is running on the PostgreSQL database ${redactDatabaseUrl(database)}: start this node once it is done`
      : `Gleaner stacks are using the PostgreSQL database ${redactDatabaseUrl(database)}: stop every node (serve and worker) first (see docs/scale-out.md)`,
  );
}

/** The number of accounts using a konnector, read without migrating (0 in a database never migrated). */
export async function countPostgresAccountsUsing(database: string, slug: string): Promise<number> {
  const db = openPostgresDatabase(database);
  try {
    const row = await db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('konnector', '=', slug)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return 0; // no accounts table yet
    throw new DatabaseError(
      `could not read the PostgreSQL database ${redactDatabaseUrl(database)}: ${scrub((error as Error)?.message ?? String(error), database)}`,
    );
  } finally {
    await db.destroy();
  }
}
