import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { accountAad, Keyring, loadKeyring, resealAll, rotateSecretKey, SecretKeyError } from '../src/secrets/index.js';
import { openSqliteStorage } from '../src/storage/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gleaner-secrets-'));

describe('secret keys', () => {
  it('creates keys/k1.key with mode 0600 at first start, and reads it back', () => {
    const dataDir = tmp();
    const keyring = loadKeyring({ dataDir, env: {} });
    assert.equal(keyring.currentId, 'k1');
    const file = join(dataDir, 'keys', 'k1.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const sealed = keyring.seal('hunter2', 'account:a:credentials');
    assert.match(sealed, /^k1:/);
    assert.ok(!sealed.includes('hunter2'));
    assert.equal(loadKeyring({ dataDir, env: {} }).open(sealed, 'account:a:credentials'), 'hunter2');
  });

  it('refuses a key file readable by others, naming the chmod to run', () => {
    const dataDir = tmp();
    loadKeyring({ dataDir, env: {} });
    const file = join(dataDir, 'keys', 'k1.key');
    chmodSync(file, 0o644);
    assert.throws(
      () => loadKeyring({ dataDir, env: {} }),
      (error: Error) =>
        error instanceof SecretKeyError &&
        error.message.includes(`chmod 600 ${file}`) &&
        error.message.includes('0644'),
    );
  });

  it('takes the key from GLEANER_SECRET_KEY without writing a key file; refuses a short one', () => {
    const dataDir = tmp();
    const key = Buffer.alloc(32, 7).toString('base64');
    const keyring = loadKeyring({ dataDir, env: { GLEANER_SECRET_KEY: key, GLEANER_SECRET_KEY_ID: 'env1' } });
    assert.equal(keyring.currentId, 'env1');
    assert.match(keyring.seal('x', 'aad'), /^env1:/);
    assert.throws(() => statSync(join(dataDir, 'keys', 'k1.key')));
    assert.throws(() => loadKeyring({ dataDir, env: { GLEANER_SECRET_KEY: 'c2hvcnQ=' } }), /32 bytes/);
  });

  it('binds a sealed value to its place: it does not open as another account’s', () => {
    const keyring = loadKeyring({ dataDir: tmp(), env: {} });
    const sealed = keyring.seal('secret', accountAad('a1', 'credentials'));
    assert.throws(() => keyring.open(sealed, accountAad('a2', 'credentials')));
  });

  it('rotation re-seals every secret under the new key and keeps the old key readable', async () => {
    const dataDir = tmp();
    const k1 = loadKeyring({ dataDir, env: {} });
    const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
    try {
      const at = new Date().toISOString();
      await storage.accounts.insert({
        id: 'a1',
        konnector: 'demo',
        label: 'a1',
        state: null,
        fieldsClear: {},
        secretFieldsSet: ['password'],
        credentials: k1.seal('{"password":"p1"}', accountAad('a1', 'credentials')),
        session: k1.seal('cookie-jar', accountAad('a1', 'session')),
        data: null,
        pausedBy: null,
        createdAt: at,
        updatedAt: at,
      });
      const old = (await storage.accounts.get('a1'))!;
      const result = await rotateSecretKey(storage, dataDir, { env: {} });
      assert.equal(result.keyId, 'k2');
      assert.equal(result.resealed, 2);
      assert.equal(statSync(join(dataDir, 'keys', 'k2.key')).mode & 0o777, 0o600);
      const after = (await storage.accounts.get('a1'))!;
      assert.equal(Keyring.keyIdOf(after.credentials), 'k2');
      assert.equal(Keyring.keyIdOf(after.session!), 'k2');
      const reloaded = loadKeyring({ dataDir, env: {} });
      assert.equal(reloaded.currentId, 'k2');
      assert.equal(reloaded.open(after.credentials, accountAad('a1', 'credentials')), '{"password":"p1"}');
      assert.equal(
        reloaded.open(old.session!, accountAad('a1', 'session')),
        'cookie-jar',
        'old key still opens old values',
      );
      assert.equal(readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim(), 'k2');
      assert.equal((await resealAll(storage, reloaded)).resealed, 0, 'nothing left under the old key');
    } finally {
      await storage.close();
    }
  });
});
