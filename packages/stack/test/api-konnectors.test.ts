import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { GleanerStack } from '../src/create-stack.js';
import { startTestApi, type Session, type TestApi } from './api-fixtures/http.js';
import { openStack, tmpDataDir } from './helpers/stack-harness.js';
import { testPackage } from './helpers/test-package.js';

describe('API: installing and removing konnector packages (a real stack)', () => {
  let dataDir: string;
  let stack: GleanerStack;
  let api: TestApi;
  let session: Session;
  before(async () => {
    dataDir = tmpDataDir();
    stack = await openStack(dataDir, { konnectorDirs: [] });
    api = await startTestApi(stack);
    session = await api.login();
  });
  after(async () => {
    await api.close();
    await stack.close();
  });

  const post = (body: Buffer, query = '', s: Session | null = session, type = 'application/gzip') =>
    api.call(`/api/konnectors${query}`, { method: 'POST', session: s, headers: { 'content-type': type }, body });

  test('201 installs, 409 refuses a downgrade, force=1 allows it; the icon is served', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    // Over the API's 1 MiB default: this route alone takes up to 50 MiB.
    const readme = randomBytes(1536 * 1024).toString('base64');
    const created = await post(testPackage('shop', '0.2.0', { icon: { name: 'icon.svg', data: svg }, readme }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const body = created.body as { konnector: { slug: string; version: string; source: string; icon: string }; previousVersion: null };
    assert.deepEqual(
      [body.konnector.slug, body.konnector.version, body.konnector.source, body.konnector.icon, body.previousVersion],
      ['shop', '0.2.0', 'installed', '/api/konnectors/shop/icon', null],
    );
    const listed = (await api.call('/api/konnectors', { session })).body as { slug: string; version: string }[];
    assert.deepEqual(listed.map((k) => `${k.slug}@${k.version}`), ['shop@0.2.0']);

    const icon = await api.call('/api/konnectors/shop/icon', { session });
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal(icon.body, svg.toString());
    assert.match(icon.headers.get('content-security-policy') ?? '', /sandbox/);

    const down = await post(testPackage('shop', '0.1.0'), '', session, 'application/octet-stream');
    assert.equal(down.status, 409);
    assert.match((down.body as { message: string }).message, /0\.2\.0 is installed, newer than 0\.1\.0: force/);
    const forced = await post(testPackage('shop', '0.1.0'), '?force=1', session, 'application/x-gzip');
    assert.equal(forced.status, 201);
    assert.equal((forced.body as { previousVersion: string }).previousVersion, '0.2.0');
    assert.equal((await api.call('/api/konnectors/shop/icon', { session })).status, 404, '0.1.0 has no icon');
  });

  test('400 names the problems of a bad package; 401 without a session; 413 over 50 MiB', async () => {
    const bad = Buffer.from(testPackage('bad', '0.1.0'));
    bad[bad.length - 5] = bad[bad.length - 5]! ^ 0xff; // the gzip trailer no longer matches
    const refused = await post(bad);
    assert.equal(refused.status, 400);
    const body = refused.body as { error: string; problems: { path: string; message: string }[] };
    assert.equal(body.error, 'invalid');
    assert.equal(body.problems[0]?.path, '(archive)');
    assert.match(body.problems[0]?.message ?? '', /gzip/);
    assert.equal(existsSync(join(dataDir, 'konnectors/bad')), false);

    assert.equal((await post(testPackage('anon', '0.1.0'), '', null)).status, 401);
    const huge = await post(Buffer.alloc(50 * 1024 * 1024 + 10));
    assert.equal(huge.status, 413);
    assert.equal((await api.call('/api/konnectors', { method: 'POST', session, json: { not: 'a package' } })).status, 422);
  });

  test('DELETE: 409 with the accounts count while accounts use it, 204 with force=1, then 404', async () => {
    assert.equal((await post(testPackage('used', '1.0.0'))).status, 201);
    await stack.accounts.create({ konnector: 'used', fields: { login: 'a', password: 'pw' } });
    const refused = await api.call('/api/konnectors/used', { method: 'DELETE', session });
    assert.equal(refused.status, 409);
    assert.deepEqual(
      [(refused.body as { error: string }).error, (refused.body as { accounts: number }).accounts],
      ['conflict', 1],
    );
    assert.match((refused.body as { message: string }).message, /konnector used is used by 1 account\(s\)/);
    assert.equal((await api.call('/api/konnectors/used?force=1', { method: 'DELETE', session })).status, 204);
    assert.equal((await api.call('/api/konnectors/used', { session })).status, 404);
    assert.equal((await api.call('/api/konnectors/used', { method: 'DELETE', session })).status, 404);
  });

  test('the refused konnectors and the new routes are in the API', async () => {
    const problems = await api.call('/api/konnector-problems', { session });
    assert.equal(problems.status, 200);
    assert.deepEqual(problems.body, []);
    const doc = (await api.call('/api/openapi.json', { session })).body as { paths: Record<string, Record<string, unknown>> };
    assert.ok(doc.paths['/api/konnectors']?.post);
    assert.ok(doc.paths['/api/konnectors/{slug}']?.delete);
    assert.ok(doc.paths['/api/konnectors/{slug}/icon']?.get);
    assert.equal((await api.call('/api/docs', { session })).status, 200);
  });
});
