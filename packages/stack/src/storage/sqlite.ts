import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { kyselyStores } from './kysely-stores.js';
import { migrateToLatest } from './migrations.js';
import type { Database } from './schema.js';
import type { Storage } from './stores.js';

/** Opens (and migrates) the embedded SQLite storage: one file, WAL mode, nothing to install. */
export async function openSqliteStorage(file: string): Promise<Storage> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
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
