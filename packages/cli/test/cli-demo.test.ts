import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gleaner } from './support/cli.js';

test('gleaner demo, started outside the checkout: the banner gives Home, its password (the same at the next start), the outbox and demo users; the password signs in', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-demo-'));
  // Anywhere but the checkout: the demo finds its konnectors and Home from its own files.
  const cwd = mkdtempSync(join(tmpdir(), 'gleaner-demo-cwd-'));
  const banner = /Home:\s+(http:\/\/\S+)\s+\(sign in with admin password (\S+)\)[\s\S]*Outbox:\s+(http:\/\/\S+)/;
  const start = async () => {
    const demo = gleaner(['demo', '--data', dataDir, '--port', '0', '--sites-port', '0', '--grace', '1'], {
      env: { GLEANER_ADMIN_PASSWORD: '' },
      cwd,
    });
    await demo.waitFor(/or as frank@example\.test/, 30_000);
    const [, url, password, outbox] = banner.exec(demo.output())!;
    return { demo, url: url!, password: password!, outbox: outbox! };
  };

  const first = await start();
  try {
    assert.match(first.demo.output(), /octocat \/ octocat-password/);
    assert.match(first.demo.output(), /alice@example\.test \/ alice-amazon-password/);
    assert.equal(statSync(join(dataDir, 'demo-admin-password')).mode & 0o777, 0o600);
    const login = await fetch(`${first.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: first.password }),
    });
    assert.equal(login.status, 200);
    assert.equal((await fetch(first.outbox)).status, 200);
    assert.match(await (await fetch(`${first.url}/`)).text(), /<div id="root">/, 'Home is served');
    assert.doesNotMatch(first.demo.output(), /"level":30/, 'no info-level JSON log lines in the terminal');
  } finally {
    first.demo.child.kill('SIGTERM');
    assert.equal(await first.demo.exit, 0);
  }

  const second = await start();
  try {
    assert.equal(second.password, first.password, 'the same password at every start');
  } finally {
    second.demo.child.kill('SIGTERM');
    await second.demo.exit;
  }
});
