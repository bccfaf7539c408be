import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTransport } from 'nodemailer';
import { createClock, DEMO_MAILBOX_USERS, Outbox, startMailbox, type RunningMailbox } from '../src/index.js';

/** A raw IMAP connection: what the server says, line by line, and a way to wait for a line. */
class Wire {
  #text = '';
  #waiters: (() => void)[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#text += chunk.toString('utf8');
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }
  static async open(port: number): Promise<Wire> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const wire = new Wire(socket);
    await wire.until(/^\* OK .*\r\n/m);
    return wire;
  }
  send(data: string): void {
    this.socket.write(data);
  }
  /** Waits until what the server said (since the last match) matches `re`; returns it and drops it. */
  async until(re: RegExp, ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = re.exec(this.#text);
      if (found) {
        const said = this.#text.slice(0, found.index + found[0].length);
        this.#text = this.#text.slice(found.index + found[0].length);
        return said;
      }
      if (Date.now() > deadline) throw new Error(`the server never said ${re} (it said ${JSON.stringify(this.#text)})`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }
  /** Sends a tagged command and returns everything up to its tagged answer. */
  async command(tag: string, line: string): Promise<string> {
    this.send(`${tag} ${line}\r\n`);
    return this.until(new RegExp(`^${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`, 'm'));
  }
  close(): void {
    this.socket.destroy();
  }
}

describe("the fake sites' mailbox: IMAP on the wire, SMTP delivery", () => {
  let mailbox: RunningMailbox;
  before(async () => {
    mailbox = await startMailbox();
  });
  after(() => mailbox.close());

  it('every demo user with an e-mail has a mailbox with a public app password', () => {
    assert.equal(DEMO_MAILBOX_USERS['bob@example.test'], 'bob-mail-password');
    assert.equal(DEMO_MAILBOX_USERS['monalisa@example.test'], 'monalisa-mail-password');
    assert.equal(mailbox.users['octocat@example.test'], 'octocat-mail-password');
  });

  it('a synchronizing literal gets its "+", a quoted string its escapes; a wrong password is NO [AUTHENTICATIONFAILED] and not echoed', async () => {
    const wire = await Wire.open(mailbox.imap.port);
    try {
      assert.match(
        await wire.command('a1', 'LOGIN "bob@example.test" "not-\\"his\\"-password"'),
        /^a1 NO \[AUTHENTICATIONFAILED\]/m,
      );
      // The password as a literal: the server must ask for its bytes before the client sends them.
      wire.send('a2 LOGIN {16}\r\n');
      await wire.until(/^\+ [^\r\n]*\r\n/m);
      wire.send('bob@example.test {17}\r\n');
      await wire.until(/^\+ [^\r\n]*\r\n/m);
      wire.send('bob-mail-password\r\n');
      assert.match(await wire.until(/^a2 (OK|NO|BAD)[^\r\n]*\r\n/m), /^a2 OK/m);
      assert.match(await wire.command('a3', 'EXAMINE INBOX'), /\[UIDVALIDITY \d+\][\s\S]*^a3 OK \[READ-ONLY\]/m);
    } finally {
      wire.close();
    }
  });

  it('what it does not do is BAD: an unknown command, a command before LOGIN, an unsupported search key', async () => {
    const wire = await Wire.open(mailbox.imap.port);
    try {
      assert.match(await wire.command('b1', 'EXAMINE INBOX'), /^b1 BAD .*LOGIN first/m);
      assert.match(await wire.command('b2', 'AUTHENTICATE PLAIN'), /^b2 BAD/m);
      assert.match(await wire.command('b3', 'LOGIN bob@example.test bob-mail-password'), /^b3 OK/m);
      assert.match(await wire.command('b4', 'EXAMINE Archive'), /^b4 NO \[NONEXISTENT\]/m);
      assert.match(await wire.command('b5', 'EXAMINE INBOX'), /^b5 OK/m);
      assert.match(await wire.command('b6', 'UID SEARCH FROM "amazon"'), /^b6 BAD .*FROM/m);
      assert.match(await wire.command('b7', 'STORE 1 +FLAGS (\\Seen)'), /^b7 BAD/m);
      assert.match(await wire.command('b8', 'UID FETCH 1:* (ENVELOPE)'), /^b8 BAD .*ENVELOPE/m);
      assert.match(await wire.command('b9', 'NOOP "unclosed'), /^b9 BAD .*quoted string/m);
    } finally {
      wire.close();
    }
  });

  it('IDLE: a message delivered over SMTP is pushed as EXISTS, then UID SEARCH SINCE and UID FETCH give it whole', async () => {
    const wire = await Wire.open(mailbox.imap.port);
    try {
      await wire.command('c1', 'LOGIN carol@example.test carol-mail-password');
      const opened = await wire.command('c2', 'EXAMINE INBOX');
      const before = Number(/^\* (\d+) EXISTS/m.exec(opened)?.[1]);
      wire.send('c3 IDLE\r\n');
      await wire.until(/^\+ [^\r\n]*\r\n/m);
      const smtp = createTransport({
        host: mailbox.smtp.host,
        port: mailbox.smtp.port,
        secure: false,
        ignoreTLS: true,
      });
      await smtp.sendMail({
        from: 'noreply@amazon.example.test',
        to: 'CAROL@example.test',
        subject: 'Code',
        text: 'Your code is 424242.',
      });
      assert.match(await wire.until(/^\* \d+ EXISTS\r\n/m), new RegExp(`^\\* ${before + 1} EXISTS`, 'm'));
      wire.send('DONE\r\n');
      await wire.until(/^c3 OK/m);
      const today = new Date();
      const day = `${today.getUTCDate()}-${today.toUTCString().slice(8, 11)}-${today.getUTCFullYear()}`;
      const found = await wire.command('c4', `UID SEARCH SINCE ${day}`);
      const uid = Number(/^\* SEARCH(?: \d+)* (\d+)\r\n/m.exec(found)?.[1]);
      assert.ok(uid > 0, found);
      const fetched = await wire.command('c5', `UID FETCH ${uid} (UID INTERNALDATE BODY.PEEK[])`);
      const [, size] = /UID \d+ INTERNALDATE "[^"]+" BODY\[\] \{(\d+)\}\r\n/.exec(fetched) ?? [];
      assert.ok(size, fetched);
      assert.match(fetched, /Your code is 424242\./);
      assert.equal(Number(size), mailbox.store.inbox('carol@example.test').at(-1)?.raw.length);
      assert.match(await wire.command('c6', 'LOGOUT'), /^\* BYE[\s\S]*^c6 OK/m);
    } finally {
      wire.close();
    }
  });

  it('outside IDLE, new mail is told at the next command (NOOP), not pushed: a polling client finds it by polling', async () => {
    const wire = await Wire.open(mailbox.imap.port);
    try {
      await wire.command('d1', 'LOGIN frank@example.test frank-mail-password');
      const count = Number(/^\* (\d+) EXISTS/m.exec(await wire.command('d2', 'EXAMINE INBOX'))?.[1]);
      mailbox.store.deliver('frank@example.test', 'Subject: x\r\n\r\nYour code is 100200.\r\n');
      await assert.rejects(wire.until(/EXISTS/, 300), /never said/);
      assert.match(await wire.command('d3', 'NOOP'), new RegExp(`^\\* ${count + 1} EXISTS\r\n^d3 OK`, 'm'));
    } finally {
      wire.close();
    }
  });

  it('SMTP refuses a recipient with no mailbox here (550)', async () => {
    const smtp = createTransport({ host: mailbox.smtp.host, port: mailbox.smtp.port, secure: false, ignoreTLS: true });
    await assert.rejects(
      smtp.sendMail({ from: 'a@example.test', to: 'nobody@example.test', subject: 'x', text: 'x' }),
      (error: { responseCode?: number; message: string }) => {
        assert.equal(error.responseCode, 550);
        assert.match(error.message, /no mailbox here for nobody@example\.test/);
        return true;
      },
    );
  });

  it("a site's e-mail goes through the outbox into the person's INBOX, and the outbox page keeps it too", async () => {
    const outbox = new Outbox(createClock(), { smtp: mailbox.smtp });
    const before = mailbox.store.inbox('dave@example.test').length;
    outbox.push({
      to: 'dave@example.test',
      channel: 'email',
      code: '735911',
      site: 'amazon',
      login: 'dave',
      text: 'Your code is 735911.',
    });
    await Promise.all(outbox.mailed);
    const inbox = mailbox.store.inbox('dave@example.test');
    assert.equal(inbox.length, before + 1);
    assert.match(
      inbox.at(-1)!.raw.toString('utf8'),
      /Subject: Your Amazon verification code[\s\S]*Your code is 735911\./,
    );
    assert.equal(outbox.list()[0]?.code, '735911');
    assert.match(
      outbox.renderHtml(),
      new RegExp(`data-smtp>Their e-mails also go to the SMTP server at 127\\.0\\.0\\.1:${mailbox.smtp.port} `),
    );
    assert.doesNotMatch(new Outbox(createClock()).renderHtml(), /data-smtp/);
  });
});
