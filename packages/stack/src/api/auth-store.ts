import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { connectAndMigrate, openPostgresDatabase } from '../storage/postgres.js';

export type ApiTokenInfo = { id: string; name: string; createdAt: string; lastUsedAt: string | null };

/**
 * Where the API keeps the admin password hash, sessions and API tokens. Nothing in it is a
 * secret in clear: the password is a scrypt hash, session ids and tokens are SHA-256 hashes.
 */
export interface AuthStore {
  passwordHash(): Promise<string | null>;
  setPasswordHash(hash: string): Promise<void>;
  /** Sets the hash only if none is set yet (two nodes' first starts at once); returns whether it did. */
  setPasswordHashIfNone(hash: string): Promise<boolean>;
  createSession(session: { idHash: string; expiresAt: Date }): Promise<void>;
  /** The session if it exists and has not expired at `now`. */
  findSession(idHash: string, now: Date): Promise<{ expiresAt: Date } | null>;
  deleteSession(idHash: string): Promise<void>;
  /** Drops expired sessions; returns how many. */
  pruneSessions(now: Date): Promise<number>;
  /** Drops every session (a password reset signs everyone out); returns how many. */
  deleteAllSessions(): Promise<number>;
  createToken(token: { id: string; name: string; hash: string; createdAt: Date }): Promise<void>;
  /** Finds a token by its hash and records its use. */
  useToken(hash: string, now: Date): Promise<ApiTokenInfo | null>;
  listTokens(): Promise<ApiTokenInfo[]>;
  deleteToken(id: string): Promise<boolean>;
  /** Revokes every API token; returns how many. */
  deleteAllTokens(): Promise<number>;
  close(): Promise<void>;
}

type TokenRow = { id: string; name: string; created_at: string; last_used_at: string | null };
const toInfo = (row: TokenRow): ApiTokenInfo => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
});

/**
 * The embedded AuthStore: its own SQLite file, `<dataDir>/auth.sqlite`, mode 0600. One process
 * serves a SQLite installation, so nothing here needs sharing (PostgreSQL: openPostgresAuthStore).
 */
export function openSqliteAuthStore(dataDir: string): AuthStore {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'auth.sqlite');
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS auth_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS auth_sessions (id_hash TEXT PRIMARY KEY, created_at TEXT NOT NULL, expires_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS auth_tokens (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL, last_used_at TEXT
    );
  `);
  const statements = {
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM auth_settings WHERE key = ?'),
    insertSetting: db.prepare<[string, string]>(
      'INSERT INTO auth_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
    ),
    setSetting: db.prepare<[string, string]>(
      'INSERT INTO auth_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    insertSession: db.prepare<[string, string, string]>(
      'INSERT INTO auth_sessions (id_hash, created_at, expires_at) VALUES (?, ?, ?)',
    ),
    findSession: db.prepare<[string, string], { expires_at: string }>(
      'SELECT expires_at FROM auth_sessions WHERE id_hash = ? AND expires_at > ?',
    ),
    deleteSession: db.prepare<[string]>('DELETE FROM auth_sessions WHERE id_hash = ?'),
    pruneSessions: db.prepare<[string]>('DELETE FROM auth_sessions WHERE expires_at <= ?'),
    deleteAllSessions: db.prepare<[]>('DELETE FROM auth_sessions'),
    insertToken: db.prepare<[string, string, string, string]>(
      'INSERT INTO auth_tokens (id, name, hash, created_at) VALUES (?, ?, ?, ?)',
    ),
    findToken: db.prepare<[string], TokenRow>(
      'SELECT id, name, created_at, last_used_at FROM auth_tokens WHERE hash = ?',
    ),
    touchToken: db.prepare<[string, string]>('UPDATE auth_tokens SET last_used_at = ? WHERE id = ?'),
    listTokens: db.prepare<[], TokenRow>(
      'SELECT id, name, created_at, last_used_at FROM auth_tokens ORDER BY created_at',
    ),
    deleteToken: db.prepare<[string]>('DELETE FROM auth_tokens WHERE id = ?'),
    deleteAllTokens: db.prepare<[]>('DELETE FROM auth_tokens'),
  };
  return {
    async passwordHash() {
      return statements.getSetting.get('admin_password_hash')?.value ?? null;
    },
    async setPasswordHash(hash) {
      statements.setSetting.run('admin_password_hash', hash);
    },
    async setPasswordHashIfNone(hash) {
      return statements.insertSetting.run('admin_password_hash', hash).changes > 0;
    },
    async createSession({ idHash, expiresAt }) {
      statements.insertSession.run(idHash, new Date().toISOString(), expiresAt.toISOString());
    },
    async findSession(idHash, now) {
      const row = statements.findSession.get(idHash, now.toISOString());
      return row ? { expiresAt: new Date(row.expires_at) } : null;
    },
    async deleteSession(idHash) {
      statements.deleteSession.run(idHash);
    },
    async pruneSessions(now) {
      return statements.pruneSessions.run(now.toISOString()).changes;
    },
    async deleteAllSessions() {
      return statements.deleteAllSessions.run().changes;
    },
    async createToken({ id, name, hash, createdAt }) {
      statements.insertToken.run(id, name, hash, createdAt.toISOString());
    },
    async useToken(hash, now) {
      const row = statements.findToken.get(hash);
      if (!row) return null;
      statements.touchToken.run(now.toISOString(), row.id);
      return toInfo({ ...row, last_used_at: now.toISOString() });
    },
    async listTokens() {
      return statements.listTokens.all().map(toInfo);
    },
    async deleteToken(id) {
      return statements.deleteToken.run(id).changes > 0;
    },
    async deleteAllTokens() {
      return statements.deleteAllTokens.run().changes;
    },
    async close() {
      db.close();
    },
  };
}

/**
 * The AuthStore of a PostgreSQL installation, in its database (tables of migration 0004_crossnode,
 * migrated here if the stack has not yet): every API node sees the same sessions and tokens, so a
 * session made on one node works on another and a revoked token is refused by all.
 */
export async function openPostgresAuthStore(database: string, options: { logger?: Logger } = {}): Promise<AuthStore> {
  const db = openPostgresDatabase(database, { maxConnections: 4, ...(options.logger ? { logger: options.logger } : {}) });
  try {
    await connectAndMigrate(db, database);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const changed = (result: { numDeletedRows?: bigint }) => Number(result.numDeletedRows ?? 0n);
  return {
    async passwordHash() {
      const row = await db.selectFrom('auth_settings').select('value').where('key', '=', 'admin_password_hash').executeTakeFirst();
      return row?.value ?? null;
    },
    async setPasswordHash(hash) {
      await db
        .insertInto('auth_settings')
        .values({ key: 'admin_password_hash', value: hash })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: hash }))
        .execute();
    },
    async setPasswordHashIfNone(hash) {
      const result = await db
        .insertInto('auth_settings')
        .values({ key: 'admin_password_hash', value: hash })
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async createSession({ idHash, expiresAt }) {
      await db
        .insertInto('auth_sessions')
        .values({ id_hash: idHash, created_at: new Date().toISOString(), expires_at: expiresAt.toISOString() })
        .execute();
    },
    async findSession(idHash, now) {
      const row = await db
        .selectFrom('auth_sessions')
        .select('expires_at')
        .where('id_hash', '=', idHash)
        .where('expires_at', '>', now.toISOString())
        .executeTakeFirst();
      return row ? { expiresAt: new Date(row.expires_at) } : null;
    },
    async deleteSession(idHash) {
      await db.deleteFrom('auth_sessions').where('id_hash', '=', idHash).execute();
    },
    async pruneSessions(now) {
      return changed(await db.deleteFrom('auth_sessions').where('expires_at', '<=', now.toISOString()).executeTakeFirst());
    },
    async deleteAllSessions() {
      return changed(await db.deleteFrom('auth_sessions').executeTakeFirst());
    },
    async createToken({ id, name, hash, createdAt }) {
      await db.insertInto('auth_tokens').values({ id, name, hash, created_at: createdAt.toISOString(), last_used_at: null }).execute();
    },
    async useToken(hash, now) {
      // One statement: a token revoked on another node meanwhile is not found, and not touched.
      const row = await db
        .updateTable('auth_tokens')
        .set({ last_used_at: now.toISOString() })
        .where('hash', '=', hash)
        .returning(['id', 'name', 'created_at', 'last_used_at'])
        .executeTakeFirst();
      return row ? toInfo(row) : null;
    },
    async listTokens() {
      const rows = await db.selectFrom('auth_tokens').select(['id', 'name', 'created_at', 'last_used_at']).orderBy('created_at').execute();
      return rows.map(toInfo);
    },
    async deleteToken(id) {
      return changed(await db.deleteFrom('auth_tokens').where('id', '=', id).executeTakeFirst()) > 0;
    },
    async deleteAllTokens() {
      return changed(await db.deleteFrom('auth_tokens').executeTakeFirst());
    },
    async close() {
      await db.destroy();
    },
  };
}
