import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gleaner } from './support/cli.js';

const OLD_PASSWORD = 'old-admin-Pw-31415';
const CHOSEN_PASSWORD = 'chosen-admin-Pw-27182';

/** `gleaner serve` on the data folder; resolves with its URL and a way to stop it. */
async function serve(dataDir: string, adminPassword = '') {
  const session = gleaner(['serve', '--data', dataDir, '--port', '0', '--grace', '0'], {
    env: { GLEANER_ADMIN_PASSWORD: adminPassword, GLEANER_LOG_LEVEL: 'warn' },
  });
  const line = await session.waitFor(/Gleaner is serving on http:\/\/\S+\n/);
  return {
    url: /(http:\/\/\S+)/.exec(line)![1]!,
    pid: session.child.pid!,
    async stop() {
      session.child.kill('SIGTERM');
      assert.equal(await session.exit, 0, session.output());
    },
  };
}

async function logIn(url: string, password: string): Promise<{ status: number; cookie?: string; csrf?: string }> {
  const response = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });
  if (response.status !== 200) return { status: response.status };
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return { status: 200, cookie: response.headers.getSetCookie()[0]!.split(';')[0]!, csrf: csrfToken };
}

const tokensWith = (url: string, headers: Record<string, string>) =>
  fetch(`${url}/api/tokens`, { headers }).then((r) => r.status);

async function reset(dataDir: string, env: Record<string, string>, ...flags: string[]) {
  const session = gleaner(['reset-admin-password', '--data', dataDir, ...flags], { env });
  return { code: await session.exit, output: session.output() };
}

test('gleaner reset-admin-password: refused while serve holds the folder; then the old password and sessions are refused, the new one signs in, tokens kept unless --revoke-tokens', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-reset-'));
  const first = await serve(dataDir, OLD_PASSWORD);
  const session = await logIn(first.url, OLD_PASSWORD);
  assert.equal(session.status, 200);
  const cookie = { cookie: session.cookie! };
  const created = await fetch(`${first.url}/api/tokens`, {
    method: 'POST',
    headers: { ...cookie, 'x-csrf-token': session.csrf!, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'backup-script' }),
  });
  assert.equal(created.status, 201);
  const bearer = { authorization: `Bearer ${((await created.json()) as { token: string }).token}` };

  const busy = await reset(dataDir, { GLEANER_ADMIN_PASSWORD: '' });
  assert.equal(busy.code, 1, busy.output);
  assert.match(
    busy.output,
    new RegExp(`^gleaner reset-admin-password: the data folder .* is in use by process ${first.pid}`),
  );
  assert.equal(await tokensWith(first.url, cookie), 200, 'the refused reset signed nobody out');
  await first.stop();

  const done = await reset(dataDir, { GLEANER_ADMIN_PASSWORD: '' });
  assert.equal(done.code, 0, done.output);
  const newPassword = /new admin password \(shown once, keep it\): (\S+)\n/.exec(done.output)?.[1];
  assert.ok(newPassword && newPassword.length >= 20, done.output);
  assert.match(done.output, /\n1 admin session\(s\) signed out\n/);
  assert.match(done.output, /\n1 API token\(s\) still valid \(backup-script\): --revoke-tokens revokes them\n/);

  const second = await serve(dataDir);
  try {
    assert.equal((await logIn(second.url, OLD_PASSWORD)).status, 401, 'the old password is refused');
    assert.equal(await tokensWith(second.url, cookie), 401, 'the old session is signed out');
    assert.equal((await logIn(second.url, newPassword)).status, 200, 'the new password signs in');
    assert.equal(await tokensWith(second.url, bearer), 200, 'the API token still works');
  } finally {
    await second.stop();
  }

  const revoked = await reset(dataDir, { GLEANER_ADMIN_PASSWORD: CHOSEN_PASSWORD }, '--revoke-tokens');
  assert.equal(revoked.code, 0, revoked.output);
  assert.match(
    revoked.output,
    /^admin password set from GLEANER_ADMIN_PASSWORD\n1 admin session\(s\) signed out\n1 API token\(s\) revoked\n$/,
  );
  assert.doesNotMatch(revoked.output, new RegExp(CHOSEN_PASSWORD), 'a password given is never echoed');

  const third = await serve(dataDir);
  try {
    assert.equal((await logIn(third.url, newPassword)).status, 401);
    assert.equal((await logIn(third.url, CHOSEN_PASSWORD)).status, 200);
    assert.equal(await tokensWith(third.url, bearer), 401, 'the token is revoked');
  } finally {
    await third.stop();
  }
});

test('gleaner reset-admin-password refuses a folder with no Gleaner database', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'gleaner-reset-empty-'));
  const result = await reset(empty, { GLEANER_ADMIN_PASSWORD: '' });
  assert.equal(result.code, 1);
  assert.match(result.output, /no Gleaner database in .*gleaner-reset-empty-/);
  assert.doesNotMatch(result.output, /admin password/);
});
