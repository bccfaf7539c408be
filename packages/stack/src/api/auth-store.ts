import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';

export type ApiTokenInfo = { id: string; name: string; createdAt: string; lastUsedAt: string | null };

/**
 * Where the API keeps the admin password hash, sessions and API tokens. Nothing in it is a
 * secret in clear: the password is a scrypt hash, session ids and tokens are SHA-256 hashes.
 */
export interface AuthStore {
  passwordHash(): Promise<string | null>;
  setPasswordHash(hash: string): Promise<void>;
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

/** The embedded AuthStore: its own SQLite file, `<dataDir>/auth.sqlite`, mode 0600. */
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
