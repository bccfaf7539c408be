import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { gleaner } from './support/cli.js';

/** The first line an IMAP server says on `port`. */
const imapGreeting = (port: number) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString('utf8'));
    });
    socket.once('error', reject);
  });

test('gleaner demo, started outside the checkout: the banner gives Home, its password (the same at the next start), the outbox, the mailbox and demo users; the password signs in', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-demo-'));
  // Anywhere but the checkout: the demo finds its konnectors and Home from its own files.
  const cwd = mkdtempSync(join(tmpdir(), 'gleaner-demo-cwd-'));
  const banner = /Home:\s+(http:\/\/\S+)\s+\(sign in with admin password (\S+)\)[\s\S]*Outbox:\s+(http:\/\/\S+)/;
  const start = async () => {
    const demo = gleaner(
      ['demo', '--data', dataDir, '--port', '0', '--sites-port', '0', '--mailbox-port', '0', '--grace', '1'],
      {
        env: { GLEANER_ADMIN_PASSWORD: '' },
        cwd,
      },
    );
    await demo.waitFor(/code read from the mailbox/, 30_000);
    const [, url, password, outbox] = banner.exec(demo.output())!;
    return { demo, url: url!, password: password!, outbox: outbox! };
  };

  const first = await start();
  try {
    assert.match(first.demo.output(), /octocat \/ octocat-password/);
    assert.match(first.demo.output(), /alice@example\.test \/ alice-amazon-password/);
    // The mailbox line names a real IMAP server: it greets, and takes bob's app password.
    const mailbox =
      /Mailbox:\s+imap:\/\/127\.0\.0\.1:(\d+)\s+\(plain IMAP, no TLS; user bob@example\.test, app password bob-mail-password\)/.exec(
        first.demo.output(),
      );
    assert.ok(mailbox, first.demo.output());
    assert.match(
      first.demo.output(),
      /Amazon as bob@example\.test \/ bob-amazon-password[\s\S]*port \d+,\s+no TLS[\s\S]*"Try a background run"/,
    );
    assert.match(await imapGreeting(Number(mailbox[1])), /^\* OK /);
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

test('gleaner demo on a mailbox port already taken: one sentence naming --mailbox-port, no stack trace, and it ends (exit 2)', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as AddressInfo).port;
  try {
    const demo = gleaner(
      [
        'demo',
        '--data',
        mkdtempSync(join(tmpdir(), 'gleaner-demo-')),
        '--port',
        '0',
        '--sites-port',
        '0',
        '--mailbox-port',
        String(port),
      ],
      { env: { GLEANER_ADMIN_PASSWORD: '' } },
    );
    assert.equal(await demo.exit, 2, demo.output());
    assert.match(
      demo.output(),
      new RegExp(`gleaner demo: port ${port} for the demo mailbox is in use .*--mailbox-port 0 for a free one`),
    );
    assert.doesNotMatch(demo.output(), /\n\s+at /, 'no stack trace');
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});
