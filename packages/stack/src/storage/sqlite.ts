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
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
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
    transaction: (fn) => db.transaction().execute((trx) => fn(kyselyStores(trx))),
    async close() {
      await db.destroy();
    },
  };
}
