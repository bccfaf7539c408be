import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { kyselyStores } from './kysely-stores.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import type { Storage } from './stores.js';

/** The embedded SQLite database: one file, WAL mode, nothing to install. Not migrated. */
export function openSqliteDatabase(file: string): Kysely<Database> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // Owner-only from the start; SQLite gives its -wal and -shm files the same mode.
  if (!existsSync(file)) writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  else if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const failures = { last: null as unknown };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: recordingFailures(sqlite, failures) }) });
  lastFailures.set(db, failures);
  return db;
}

/** Per database, the last error a statement threw: a failed COMMIT's cause, which kysely's ROLLBACK hides. */
const lastFailures = new WeakMap<Kysely<Database>, { last: unknown }>();

function recordingFailures(sqlite: BetterSqlite3.Database, failures: { last: unknown }): BetterSqlite3.Database {
  const record =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return call(...args);
      } catch (error) {
        if (!/no transaction is active/.test((error as Error).message)) failures.last = error;
        throw error;
      }
    };
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property !== 'prepare') return Reflect.get(target, property, receiver) as unknown;
      return (source: string) => {
        const statement = target.prepare(source);
        return new Proxy(statement, {
          get(inner, name) {
            const value = Reflect.get(inner, name, inner) as unknown;
            return typeof value === 'function'
              ? record((...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(inner, args))
              : value;
          },
        });
      };
    },
  });
}

/** Opens (and migrates) the embedded SQLite storage. */
export async function openSqliteStorage(file: string): Promise<Storage> {
  const db = openSqliteDatabase(file);
  try {
    await migrateToLatest(db, 'sqlite');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    dialect: 'sqlite',
    ...kyselyStores(db),
    async transaction(fn) {
      let cause: unknown;
      const failures = lastFailures.get(db);
      if (failures) failures.last = null;
      try {
        return await db.transaction().execute(async (trx) => {
          try {
            return await fn(kyselyStores(trx));
          } catch (error) {
            cause = error;
            throw error;
          }
        });
      } catch (error) {
        // SQLite rolls back on its own on some errors (SQLITE_FULL): the ROLLBACK that follows then
        // fails ("no transaction is active") and would hide what went wrong.
        // A COMMIT that failed (a full disk) is found the same way.
        if (!cause && /no transaction is active/.test((error as Error).message)) cause = failures?.last;
        throw cause ?? error;
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
