import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job, StackEvent } from '@gleaner/contracts';
import { AMAZON_USERS, GITHUB_USERS, startSites, type RunningSites } from '@gleaner/sites';
import type { GleanerStack } from '../src/create-stack.js';
import { createLogger } from '../src/logger.js';
import { LogCapture } from './api-fixtures/http.js';
import { EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';
import { startImapServer, startMailRelay, type ImapServer } from './helpers/imap-server.js';

/**
 * The person's mailbox as a code source, end to end: a real dovecot on 127.0.0.1, the fake sites
 * sending their e-mails through SMTP into it, the real konnectors under a real stack.
 */
const REPO = resolve(FIXTURES, '../../../..');
const KONNECTORS = [resolve(REPO, 'konnectors/github'), resolve(REPO, 'konnectors/amazon')];
const BOB = AMAZON_USERS.bob;
const MONALISA = GITHUB_USERS.monalisa;
const MAILBOX_PASSWORDS: Record<string, string> = {
  [BOB.email]: 'bob-mailbox-App-Pw-9d1e',
  [MONALISA.email]: 'monalisa-mailbox-App-Pw-3c7a',
};

const codeMail = (code: string) =>
  `From: "Amazon" <account-security-noreply@amazon.example.test>\r\nTo: ${BOB.email}\r\nSubject: Your Amazon verification code\r\n\r\nYour amazon verification code is ${code}. It expires in 10 minutes.\r\n`;

describe('codes read from the mailbox (IMAP: IDLE and polling), with the sites mailing through SMTP', () => {
  let imap: ImapServer;
  let relay: { port: number; close(): Promise<void> };
  let sites: RunningSites;
  let stack: GleanerStack;
  let recorder: EventRecorder;
  let dataDir: string;
  const log = new LogCapture();

  before(async () => {
    imap = await startImapServer(MAILBOX_PASSWORDS);
    relay = await startMailRelay(imap);
    sites = await startSites({ smtp: { host: '127.0.0.1', port: relay.port } });
    // Each case runs a manual then a background sign-in at once: no wait before a site's new code here
    // (the budget of codes respects the site's resend wait, 30 s by default).
    for (const control of [sites.controls.amazon, sites.controls.github]) control.configure({ resendCooldownMs: 0 });
    dataDir = tmpDataDir();
    stack = await openStack(dataDir, {
      konnectorDirs: KONNECTORS,
      concurrency: 4,
      logger: createLogger({ level: 'debug', destination: log }),
    });
    recorder = new EventRecorder(stack);
  });
  after(async () => {
    recorder?.stop();
    await stack?.close(2000);
    await sites?.close();
    await relay?.close();
    await imap?.close();
  });

  const mailbox = (user: string, password = MAILBOX_PASSWORDS[user]!) => ({
    host: imap.host,
    port: imap.port,
    tls: false,
    user,
    password,
    folder: 'INBOX',
  });
  const run = async (accountId: string, mode: Job['mode']): Promise<Job> => {
    const job = await stack.jobs.start(accountId, mode);
    return (await recorder.waitFor(isJobEnded(job.id), `the ${mode} job`, 60_000)).job;
  };
  const logsOf = async (jobId: string) => (await stack.jobs.logs(jobId)).map((line) => line.message).join('\n');
  /** Each prompt of the job: its type, how it ended, the codes tried, and who gave the accepted one. */
  const promptsOf = async (jobId: string) =>
    (await stack.storage.prompts.listByJob(jobId)).map((p) => [p.type, p.status, p.attempts, p.answeredBy]);
  /** With the site's session dropped, a background run completes on a code read from the mailbox. */
  const backgroundFromMailbox = async (accountId: string): Promise<Job> => {
    await stack.accounts.resetSession(accountId);
    const background = await run(accountId, 'background');
    assert.equal(background.status, 'done', `background: ${background.error}\n${await logsOf(background.id)}`);
    assert.deepEqual(
      (await stack.storage.prompts.listByJob(background.id)).map((p) => p.answeredBy),
      ['email'],
    );
    return background;
  };

  it('Amazon by e-mail: a stale message is ignored, the manual and then the background run take the code from the mailbox', async () => {
    const account = await stack.accounts.create({
      konnector: 'amazon',
      fields: { login: BOB.login, password: BOB.password, baseUrl: sites.amazon },
    });
    await assert.rejects(stack.codeSources.setMailbox(account.id, mailbox(BOB.email, 'wrong')), (error: Error) => {
      assert.match(error.message, /refused the user name or app password/);
      assert.ok(!error.message.includes('wrong'));
      return true;
    });
    // An old code of an earlier sign-in, already in the mailbox.
    await imap.deliver(
      BOB.email,
      'From: "Amazon" <account-security-noreply@amazon.example.test>\r\nTo: bob@example.test\r\nSubject: Your Amazon verification code\r\n\r\nYour amazon verification code is 111111. It expires in 10 minutes.\r\n',
      new Date(Date.now() - 10 * 60_000),
    );
    const set = await stack.codeSources.setMailbox(account.id, mailbox(BOB.email));
    assert.ok(set.lastMatchAt, 'the test found the old matching message');
    assert.deepEqual(set.source.settings, {
      host: imap.host,
      port: imap.port,
      tls: false,
      user: BOB.email,
      folder: 'INBOX',
    });

    const manual = await run(account.id, 'manual');
    assert.equal(manual.status, 'done', `manual: ${manual.error}\n${await logsOf(manual.id)}`);
    assert.deepEqual(
      await promptsOf(manual.id),
      [['email', 'answered', 1, 'email']],
      'one code tried, the fresh one: the stale message was ignored',
    );
    assert.match(await logsOf(manual.id), /code read from your mailbox/);

    await backgroundFromMailbox(account.id);
    assert.ok((await stack.files.list(account.id)).length > 0);
  });

  it("GitHub's device verification by e-mail: a background run on a new device completes from the mailbox", async () => {
    const account = await stack.accounts.create({
      konnector: 'github',
      fields: { login: MONALISA.login, password: MONALISA.password, baseUrl: sites.github },
    });
    await stack.codeSources.setMailbox(account.id, mailbox(MONALISA.email));
    const manual = await run(account.id, 'manual');
    assert.equal(manual.status, 'done', `manual: ${manual.error}\n${await logsOf(manual.id)}`);
    // The session and the remembered device both gone: GitHub mails a code again.
    await backgroundFromMailbox(account.id);
  });

  it('the codes already in the mailbox when it is set are spent, even one received in the second a run begins', async () => {
    const account = await stack.accounts.create({
      konnector: 'amazon',
      fields: { login: BOB.login, password: BOB.password, baseUrl: sites.amazon },
    });
    // The code the person just typed, still in the mailbox, received (by the mailbox's clock) in the
    // second the next run begins: by time alone it would count (IMAP dates have whole seconds).
    await imap.deliver(BOB.email, codeMail('424242'), new Date(Date.now() + 1000));
    await stack.codeSources.setMailbox(account.id, mailbox(BOB.email));
    const manual = await run(account.id, 'manual');
    assert.equal(manual.status, 'done', `manual: ${manual.error}\n${await logsOf(manual.id)}`);
    assert.deepEqual(
      await promptsOf(manual.id),
      [['email', 'answered', 1, 'email']],
      "one code tried, the site's new one: the spent one was not",
    );
  });

  it('a mailbox that refuses its password: a clear warning on the account and the job, and the person types the code', async () => {
    const account = await stack.accounts.create({
      konnector: 'amazon',
      fields: { login: BOB.login, password: BOB.password, baseUrl: sites.amazon },
    });
    await stack.codeSources.setMailbox(account.id, mailbox(BOB.email));
    await imap.setPassword(BOB.email, 'changed-by-bob');
    try {
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(
        (e: StackEvent): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
          e.type === 'prompt.updated' && e.prompt.jobId === job.id && e.prompt.status === 'waiting',
        'the prompt',
      );
      const warned = async () => (await logsOf(job.id)).includes('refused the user name or app password');
      for (let i = 0; i < 300 && !(await warned()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(
        await logsOf(job.id),
        /the mailbox bob@example\.test@127\.0\.0\.1:\d+ refused the user name or app password: type the code instead/,
      );
      const [source] = await stack.codeSources.list(account.id);
      assert.match(source?.lastError ?? '', /refused the user name or app password/);
      const code = sites.controls.amazon.lastCode(BOB.login);
      assert.ok(code);
      assert.equal(await stack.prompts.answer(waiting.prompt.id, code), 'accepted');
      const ended = (await recorder.waitFor(isJobEnded(job.id), 'the job', 60_000)).job;
      assert.equal(ended.status, 'done', `${ended.error}`);
      assert.deepEqual(
        (await stack.storage.prompts.listByJob(job.id)).map((p) => p.answeredBy),
        ['person'],
      );
      const test = await stack.codeSources.test(account.id, 'email');
      assert.equal(test.ok, false);
      assert.match(test.message, /refused/);
    } finally {
      await imap.setPassword(BOB.email, MAILBOX_PASSWORDS[BOB.email]!);
    }
  });
  it('the canary: mailbox passwords and message bodies appear nowhere in clear (database, logs, job logs, event stream)', async () => {
    const database = readdirSync(dataDir)
      .filter((name) => name.startsWith('gleaner.db'))
      .map((name) => readFileSync(join(dataDir, name)).toString('latin1'))
      .join('\n');
    assert.ok(database.length > 0);
    const accounts = await stack.accounts.list();
    const jobLogs: string[] = [];
    for (const account of accounts)
      for (const job of await stack.jobs.list({ accountId: account.id }))
        jobLogs.push(...(await stack.jobs.logs(job.id)).map((line) => line.message));
    const streamed = JSON.stringify(recorder.events);
    const sources = JSON.stringify(await Promise.all(accounts.map((a) => stack.codeSources.list(a.id))));
    const needles = [...Object.values(MAILBOX_PASSWORDS), 'changed-by-bob', 'It expires in', 'verification code is'];
    for (const needle of needles)
      for (const [where, text] of [
        ['the database', database],
        ['the stack log', log.text],
        ['a job log', jobLogs.join('\n')],
        ['the event stream', streamed],
        ['the code sources API', sources],
      ] as const)
        assert.ok(!text.includes(needle), `${JSON.stringify(needle)} is in ${where}`);
  });
});
