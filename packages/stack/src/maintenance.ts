import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSqliteAuthStore, type ApiTokenInfo } from './api/auth-store.js';
import { hashPassword } from './api/credentials.js';
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

export type AdminPasswordReset = {
  /** Admin sessions ended: every browser signed in must sign in again. */
  sessionsRevoked: number;
  /** API tokens revoked (only with `revokeTokens`). */
  tokensRevoked: number;
  /** The API tokens still valid (without `revokeTokens`): scripts keep working. */
  tokensKept: ApiTokenInfo[];
};

/**
 * `gleaner reset-admin-password`: a new admin password hash, and every admin session ended. API
 * tokens stay unless `revokeTokens` (a lost password is not a leaked one; a suspected leak is).
 * Refused while a stack holds the folder: stop it first, so that no sign-in races the reset.
 */
export async function resetAdminPassword(
  dataDir: string,
  password: string,
  options: { revokeTokens?: boolean } = {},
): Promise<AdminPasswordReset> {
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  try {
    const auth = openSqliteAuthStore(dir);
    try {
      await auth.setPasswordHash(await hashPassword(password));
      const sessionsRevoked = await auth.deleteAllSessions();
      const tokensRevoked = options.revokeTokens ? await auth.deleteAllTokens() : 0;
      return { sessionsRevoked, tokensRevoked, tokensKept: await auth.listTokens() };
    } finally {
      await auth.close();
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
