import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { gleaner } from './support/cli.js';

/** Logs in over plain IMAP and returns what the server said: its greeting and the LOGIN's answer. */
function imapLogin(port: number, user: string, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let said = '';
    const socket = connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      said += chunk.toString('utf8');
      if (/^\* OK .*\r\n$/.test(said)) socket.write(`a1 LOGIN "${user}" "${password}"\r\n`);
      if (/^a1 .*\r\n/m.test(said)) {
        socket.destroy();
        resolve(said);
      }
    });
  });
}

test("gleaner sites --mailbox-port: the sites and their mailbox, which takes a demo user's app password; SIGTERM stops both (exit 0)", async () => {
  const sites = gleaner(['sites', '--port', '0', '--mailbox-port', '0']);
  try {
    const line = await sites.waitFor(
      /Mailbox imap:\/\/127\.0\.0\.1:\d+ .*bob@example\.test \/ bob-mail-password/,
      30_000,
    );
    const port = Number(/imap:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1]);
    assert.match(sites.output(), /Fake sites on http:\/\/127\.0\.0\.1:\d+/);
    assert.match(await imapLogin(port, 'monalisa@example.test', 'monalisa-mail-password'), /^a1 OK/m);
    assert.match(
      await imapLogin(port, 'monalisa@example.test', 'bob-mail-password'),
      /^a1 NO \[AUTHENTICATIONFAILED\]/m,
    );
  } finally {
    sites.child.kill('SIGTERM');
  }
  assert.equal(await sites.exit, 0);
});
