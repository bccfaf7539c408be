import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startMailbox, type RunningMailbox } from '@gleaner/sites';
import { MailboxError, testMailbox, watchMailbox, type MailboxSettings } from '../src/code-sources/mailbox.js';
import { DEFAULT_CODE_PATTERN, type CodeMatcher } from '../src/code-sources/matching.js';

/**
 * The demo's own mailbox (pure Node, in @gleaner/sites) read by the stack's real IMAP client: what
 * runs in `gleaner demo` on a machine with no dovecot.
 */
const MATCHER: CodeMatcher = { from: 'amazon', pattern: DEFAULT_CODE_PATTERN };
const mail = (code: string) =>
  `From: "Amazon" <account-security-noreply@amazon.example.test>\r\nTo: bob@example.test\r\nSubject: Your Amazon verification code\r\n\r\nYour amazon verification code is ${code}.\r\n`;

describe("the stack's mailbox client against the demo mailbox", () => {
  let mailbox: RunningMailbox;
  before(async () => {
    mailbox = await startMailbox();
  });
  after(() => mailbox.close());

  const settings = (user: string): MailboxSettings => ({
    host: mailbox.imap.host,
    port: mailbox.imap.port,
    tls: false,
    user,
    folder: 'INBOX',
  });

  /** Watches `user`'s mailbox from now on; an older message is delivered first, a fresh one `delay` ms later. */
  async function watchFor(user: string, options: { idle: boolean; pollMs: number }) {
    mailbox.store.deliver(user, mail('111111'), new Date(Date.now() - 10 * 60_000));
    // The watch counts whole seconds: it starts in a second of its own, after the old message's.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000)));
    const since = Date.now();
    const found = new Promise<{ code: string; uid: number; at: number }>((resolve, reject) => {
      const stop = watchMailbox({
        settings: settings(user),
        password: mailbox.users[user]!,
        matcher: MATCHER,
        since,
        used: new Set(),
        idle: options.idle,
        pollMs: options.pollMs,
        onCode: (code, cursor) => resolve({ code, uid: cursor.uid, at: Date.now() }),
        onError: reject,
      });
      setTimeout(() => {
        stop();
        reject(new Error('no code within 15 s'));
      }, 15_000).unref();
    });
    // Delivered once the watch is surely connected and waiting.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const sentAt = Date.now();
    const fresh = mailbox.store.deliver(user, mail('482913'));
    return { found: await found, fresh, sentAt };
  }

  it('IDLE: a message delivered after `since` is pushed and read; the older one is ignored', async () => {
    // A poll of a minute: only the server's push can find the message in time.
    const { found, fresh, sentAt } = await watchFor('bob@example.test', { idle: true, pollMs: 60_000 });
    assert.equal(found.code, '482913');
    assert.equal(found.uid, fresh.uid);
    assert.ok(found.at - sentAt < 5000, `found ${found.at - sentAt} ms after delivery`);
  });

  it('polling with no IDLE: the same message is found by the next search', async () => {
    const { found, fresh } = await watchFor('alice@example.test', { idle: false, pollMs: 300 });
    assert.equal(found.code, '482913');
    assert.equal(found.uid, fresh.uid);
  });

  it('testMailbox finds the newest matching message; a wrong app password is the MailboxError "auth"', async () => {
    const at = new Date(Date.now() - 60_000);
    mailbox.store.deliver('erin@example.test', mail('905113'), at);
    const { lastMatchAt } = await testMailbox(settings('erin@example.test'), 'erin-mail-password', MATCHER);
    assert.equal(lastMatchAt, Math.floor(at.getTime() / 1000) * 1000);
    await assert.rejects(testMailbox(settings('erin@example.test'), 'not-her-password', MATCHER), (error) => {
      assert.ok(error instanceof MailboxError);
      assert.equal(error.kind, 'auth');
      assert.match(error.message, /refused the user name or app password/);
      assert.doesNotMatch(error.message, /not-her-password/);
      return true;
    });
  });

  it('a folder the mailbox does not have is the MailboxError "folder"', async () => {
    await assert.rejects(
      testMailbox({ ...settings('erin@example.test'), folder: 'Codes' }, 'erin-mail-password', MATCHER),
      (error) => error instanceof MailboxError && error.kind === 'folder',
    );
  });
});
