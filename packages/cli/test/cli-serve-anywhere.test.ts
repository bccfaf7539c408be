import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { gleaner, repoRoot } from './support/cli.js';

const ADMIN_PASSWORD = 'anywhere-admin-Pw-1618';
const TWOFA_KONNECTOR = join(repoRoot, 'packages/stack/test/fixtures/twofa-konnector');

/** Starts `gleaner serve` in `cwd`, signs in, and returns Home's page and the konnectors listed. */
async function serveFrom(cwd: string, args: string[]) {
  const serve = gleaner(['serve', '--port', '0', '--grace', '0', ...args], {
    cwd,
    env: { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD, GLEANER_LOG_LEVEL: 'warn' },
  });
  try {
    const url = /(http:\/\/\S+)/.exec(await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/))![1]!;
    const home = await (await fetch(`${url}/`)).text();
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: ADMIN_PASSWORD }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const konnectors = (await (await fetch(`${url}/api/konnectors`, { headers: { cookie } })).json()) as Array<{
      slug: string;
    }>;
    return { home, slugs: konnectors.map((k) => k.slug) };
  } finally {
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.output());
  }
}

test('gleaner serve in a folder with no konnectors/ starts and serves Home; --data resolves in the working directory', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'gleaner-anywhere-'));
  const { home, slugs } = await serveFrom(cwd, ['--data', 'here']);
  assert.match(home, /<div id="root">/, "Home's page, found from its package");
  assert.deepEqual(slugs, [], 'no konnector folder given, none installed');
  assert.ok(existsSync(join(cwd, 'here', 'gleaner.db')), 'the data folder is where the relative path says');
});

test('gleaner serve --konnectors DIR, relative to the working directory, runs that folder of sources', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'gleaner-anywhere-'));
  const { home, slugs } = await serveFrom(cwd, [
    '--data',
    join(cwd, 'data'),
    '--konnectors',
    relative(cwd, TWOFA_KONNECTOR),
  ]);
  assert.match(home, /<div id="root">/);
  assert.deepEqual(slugs, ['twofa-test']);
});
