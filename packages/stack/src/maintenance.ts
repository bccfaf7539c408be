import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { KonnectorInfo, KonnectorProblem } from '@gleaner/contracts';
import { installPackage, uninstallPackage, type InstallResult } from './registry/install-store.js';
import { KonnectorRegistry } from './registry/registry.js';
import { openPostgresAuthStore, openSqliteAuthStore, type ApiTokenInfo, type AuthStore } from './api/auth-store.js';
import { hashPassword } from './api/credentials.js';
import { lockDataFolder } from './data-lock.js';
import { createKeyFile, FORGOTTEN, keysDir } from './secrets/keyring.js';
import { nextKeyId, rotateSecretKey, sealedKeyIds, type RotationResult } from './secrets/rotate.js';
import { migrateToLatest, migrations } from './storage/migrations.js';
import {
  countPostgresAccountsUsing,
  DatabaseError,
  isPostgresUrl,
  migratePostgres,
  openPostgresStorage,
  redactDatabaseUrl,
} from './storage/postgres.js';
import { openSqliteDatabase, openSqliteStorage } from './storage/sqlite.js';
import type { Storage } from './storage/stores.js';

/** Where a maintenance command finds the records: `database` (a postgres:// URL), else the data folder's SQLite. */
export type DatabaseChoice = { database?: string | undefined };

export type MigrationReport = { applied: string[]; latest: string };

/**
 * `gleaner migrate`: brings the data folder's database to the latest schema. The stack does this
 * at start too; run it alone to upgrade ahead of a start. Refused while a stack holds the folder.
 */
export async function migrateDataFolder(dataDir: string, options: DatabaseChoice = {}): Promise<MigrationReport> {
  const latest = Object.keys(migrations('sqlite')).sort().at(-1)!;
  if (options.database !== undefined) {
    // Kysely's migration lock in the database keeps two migrators apart; the data folder plays no part.
    return { applied: await migratePostgres(postgresUrl(options.database)), latest };
  }
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  const db = openSqliteDatabase(join(dir, 'gleaner.db'));
  try {
    const applied = await migrateToLatest(db, 'sqlite');
    return { applied, latest };
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
  options: { newKeyId?: string; env?: NodeJS.ProcessEnv } & DatabaseChoice = {},
): Promise<RotationResult> {
  const dir = options.database === undefined ? existingDataFolder(dataDir) : existingKeysFolder(dataDir);
  const lock = lockDataFolder(dir);
  try {
    const storage = await openStorage(dir, options.database);
    try {
      const { keyId, accounts, resealed, unreadable } = await rotateSecretKey(storage, dir, options);
      return { keyId, accounts, resealed, unreadable };
    } finally {
      await storage.close();
    }
  } finally {
    lock.release();
  }
}

export type ForgetSecretsResult = {
  /** Accounts kept, each now needing its password again. */
  accounts: number;
  /** The new current key. */
  keyId: string;
  /** Where the old keys folder went (delete it once no backup needs it), or null without one. */
  oldKeys: string | null;
};

/**
 * `gleaner forget-secrets`: the explicit way to start over after a lost key. Accounts stay (their
 * login, files, jobs); every credential, session and account data is cleared (accounts then show
 * CREDENTIALS_UNREADABLE until their password is entered again); the old keys folder is set aside
 * and a new key made. Refused while a stack holds the folder.
 */
export async function forgetSecrets(dataDir: string, options: { now?: Date } = {}): Promise<ForgetSecretsResult> {
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  try {
    const storage = await openSqliteStorage(join(dir, 'gleaner.db'));
    try {
      const keys = keysDir(dir);
      let oldKeys: string | null = null;
      let oldIds: string[] = [];
      if (existsSync(keys)) {
        oldIds = readdirSync(keys)
          .filter((n) => n.endsWith('.key'))
          .map((n) => n.slice(0, -'.key'.length));
        oldKeys = `${keys}-forgotten-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
        renameSync(keys, oldKeys);
      }
      // A new id, past every one seen (files, sealed values): an old backup never opens under the new key.
      const keyId = nextKeyId([...oldIds, ...(await sealedKeyIds(storage)).keys()]);
      createKeyFile(dir, keyId);
      const accounts = await storage.accounts.list();
      const at = (options.now ?? new Date()).toISOString();
      await storage.transaction(async (tx) => {
        for (const account of accounts) {
          await tx.accounts.update(account.id, {
            credentials: FORGOTTEN,
            session: null,
            data: null,
            secretFieldsSet: [],
            pausedBy: 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE',
            updatedAt: at,
          });
        }
        // A channel's secret is gone with the key: saved again in Home (its test button says so).
        for (const channel of await tx.notifications.listChannels())
          if (channel.secret !== null)
            await tx.notifications.updateChannel(channel.id, { secret: null, updatedAt: at });
      });
      return { accounts: accounts.length, keyId, oldKeys };
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
 * On SQLite it is refused while a stack holds the folder: stop it first, so that no sign-in races the
 * reset. On PostgreSQL (`database`) the sign-in is the database's, shared by every node: it works
 * while they run, and each statement is one step (a sign-in racing it is signed out with the rest).
 */
export async function resetAdminPassword(
  dataDir: string,
  password: string,
  options: { revokeTokens?: boolean } & DatabaseChoice = {},
): Promise<AdminPasswordReset> {
  const reset = async (auth: AuthStore) => {
    try {
      await auth.setPasswordHash(await hashPassword(password));
      const sessionsRevoked = await auth.deleteAllSessions();
      const tokensRevoked = options.revokeTokens ? await auth.deleteAllTokens() : 0;
      return { sessionsRevoked, tokensRevoked, tokensKept: await auth.listTokens() };
    } finally {
      await auth.close();
    }
  };
  if (options.database !== undefined) return reset(await openPostgresAuthStore(postgresUrl(options.database)));
  const dir = existingDataFolder(dataDir);
  const lock = lockDataFolder(dir);
  try {
    return await reset(openSqliteAuthStore(dir));
  } finally {
    lock.release();
  }
}

/**
 * `gleaner install`: installs a package into the data folder, as `POST /api/konnectors` does. Needs
 * no stack lock: a stack running on the folder sees it at its next job start.
 */
export async function installIntoDataFolder(
  dataDir: string,
  tgz: Buffer,
  options: { force?: boolean } = {},
): Promise<InstallResult> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return installPackage(dir, tgz, { force: options.force ?? false });
}

/**
 * `gleaner uninstall`: counts the accounts that use the konnector (the database opened read-only, so
 * it works while `serve` runs) and removes it, refused while any does unless `force`.
 */
export async function uninstallFromDataFolder(
  dataDir: string,
  slug: string,
  options: { force?: boolean } & DatabaseChoice = {},
): Promise<{ version: string; accounts: number }> {
  const dir = resolve(dataDir);
  const accounts =
    options.database === undefined
      ? countAccountsUsing(dir, slug)
      : await countPostgresAccountsUsing(postgresUrl(options.database), slug);
  const { version } = await uninstallPackage(dir, slug, { force: options.force ?? false, accounts });
  return { version, accounts };
}

/** The accounts of a konnector, read from `gleaner.db` without writing to it (0 without a database). */
export function countAccountsUsing(dataDir: string, slug: string): number {
  const file = join(resolve(dataDir), 'gleaner.db');
  if (!existsSync(file)) return 0;
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const row = db.prepare('SELECT count(*) AS n FROM accounts WHERE konnector = ?').get(slug) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

/** `gleaner konnectors`: what a stack on this folder would run (installed, and `konnectorDirs`), and what it would refuse. */
export function listDataFolderKonnectors(
  dataDir: string,
  konnectorDirs: string[] = [],
): { konnectors: KonnectorInfo[]; problems: KonnectorProblem[] } {
  const registry = KonnectorRegistry.load(konnectorDirs, { dataDir: resolve(dataDir) });
  return { konnectors: registry.list().map((k) => k.info), problems: registry.problems };
}

function postgresUrl(database: string): string {
  if (!isPostgresUrl(database))
    throw new DatabaseError(`the database must be a postgres:// URL, got ${redactDatabaseUrl(database)}`);
  return database;
}

function openStorage(dir: string, database: string | undefined): Promise<Storage> {
  // Exclusive: refused while any stack node runs on the database (it would go on sealing with the old key).
  return database === undefined
    ? openSqliteStorage(join(dir, 'gleaner.db'))
    : openPostgresStorage(postgresUrl(database), { hold: 'exclusive' });
}

/** A data folder whose records are in PostgreSQL: it must hold the keys that sealed them. */
function existingKeysFolder(dataDir: string): string {
  const dir = resolve(dataDir);
  if (!existsSync(join(dir, 'keys')))
    throw new MissingDataError(`no secret keys in ${dir} (keys/ is missing): is the data folder right?`);
  return dir;
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
