import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPostgresAuthStore } from '../src/api/auth-store.js';
import { hashPassword, verifyPassword } from '../src/api/credentials.js';
import { resetAdminPassword } from '../src/maintenance.js';
import { PostgresLoginLimiter } from '../src/api/login-limiter.js';
import { apiAuthSuite } from './api-auth-suite.js';
import { postgresForFile } from './helpers/postgres.js';

const server = postgresForFile();
// Each API and limiter on a database of its own: the cases run in parallel.
apiAuthSuite('PostgreSQL', {
  auth: async () => openPostgresAuthStore(await (await server()).createDatabase()),
  limiter: async (maxFailures, windowMs) =>
    PostgresLoginLimiter.open(await (await server()).createDatabase(), { maxFailures, windowMs }),
});

void test('reset-admin-password on PostgreSQL: every node sees the new password, every session ends, tokens stay unless revoked', async () => {
  const url = await (await server()).createDatabase();
  const [nodeA, nodeB] = await Promise.all([openPostgresAuthStore(url), openPostgresAuthStore(url)]);
  try {
    await nodeA.setPasswordHash(await hashPassword('old-password'));
    await nodeA.createSession({ idHash: 'a'.repeat(64), expiresAt: new Date(Date.now() + 60_000) });
    await nodeB.createToken({ id: 'tok_1', name: 'script', hash: 'b'.repeat(64), createdAt: new Date() });
    // No data folder: the sign-in is the database's.
    const reset = await resetAdminPassword('/nonexistent-data-folder', 'new-password', { database: url });
    assert.deepEqual(
      [reset.sessionsRevoked, reset.tokensRevoked, reset.tokensKept.map((t) => t.id)],
      [1, 0, ['tok_1']],
    );
    assert.ok(await verifyPassword('new-password', await nodeB.passwordHash()));
    assert.equal(await nodeB.findSession('a'.repeat(64), new Date()), null);
    const revoked = await resetAdminPassword('/nonexistent-data-folder', 'newer-password', {
      database: url,
      revokeTokens: true,
    });
    assert.equal(revoked.tokensRevoked, 1);
    assert.equal(await nodeA.useToken('b'.repeat(64), new Date()), null);
  } finally {
    await Promise.all([nodeA.close(), nodeB.close()]);
  }
});
