import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lockDataFolder } from './data-lock.js';
import { rotateSecretKey, type RotationResult } from './secrets/rotate.js';
import { migrateToLatest, migrations } from './storage/migrations.js';
import { openSqliteDatabase, openSqliteStorage } from './storage/sqlite.js';

export type MigrationReport = { applied: string[]; latest: string };

/**
 * `gleaner migrate`: brings the data folder's database to the latest schema. The stack does this
 * at start too; run it alone to upgrade ahead of a start. Refused while a stack holds the folder.
 */
export async function migrateDataFolder(dataDir: string): Promise<MigrationReport> {
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  const db = openSqliteDatabase(join(dir, 'gleaner.db'));
  try {
    const applied = await migrateToLatest(db, 'sqlite');
    return { applied, latest: Object.keys(migrations('sqlite')).sort().at(-1)! };
  } finally {
    await db.destroy();
    lock.release();
  }
}

/**
 * `gleaner rotate-key`: a new key file becomes current and every secret is re-sealed under it, in one
 * transaction. Refused while a stack holds the folder (it would go on sealing with the old key).
 */
export async function rotateDataFolderKey(
  dataDir: string,
  options: { newKeyId?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RotationResult> {
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  try {
    const storage = await openSqliteStorage(join(dir, 'gleaner.db'));
    try {
      const { keyId, accounts, resealed } = await rotateSecretKey(storage, dir, options);
      return { keyId, accounts, resealed };
    } finally {
      await storage.close();
    }
  } finally {
    lock.release();
  }
}

function existingDataFolder(dataDir: string): string {
  const dir = resolve(dataDir);
  if (!existsSync(join(dir, 'gleaner.db')))
    throw new MissingDataError(`no Gleaner database in ${dir} (gleaner.db is missing): is the data folder right?`);
  return dir;
}

/** The data folder named has no Gleaner database. */
export class MissingDataError extends Error {
  override name = 'MissingDataError';
}
