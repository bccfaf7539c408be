import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Job, NotificationChannel, NotificationPayload, StackEvent } from '@gleaner/contracts';
import type { GleanerStack } from '../src/create-stack.js';
import { startTestApi, type Session, type TestApi } from './api-fixtures/http.js';
import { databaseBytes, EventRecorder, GOOD_CODE, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';

/**
 * Notifications over real channels: a real SMTP server (smtp-server) and a webhook receiver on
 * 127.0.0.1, the real stack running the 2FA test konnector. A background run that needs a person is
 * told once, until a manual run fixes it.
 */
const SMTP_USER = 'gleaner';
const SMTP_PASSWORD = 'smtp-canary-Pw-4410';
const WEBHOOK_SECRET = 'webhook-canary-secret-9921';
const HOME = 'http://home.example.test:3000';

type Mail = { subject: string; text: string; to: string };

async function startSmtp(): Promise<{ port: number; mails: Mail[]; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) callback(null, { user: SMTP_USER });
      else callback(new Error('bad login'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push({
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            to: (mail.to as { text: string } | undefined)?.text ?? '',
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('notifications', () => {
  let stack: GleanerStack;
  let api: TestApi;
  let session: Session;
  let recorder: EventRecorder;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let dataDir: string;

  before(async () => {
    smtp = await startSmtp();
    dataDir = tmpDataDir();
    stack = await openStack(dataDir, {
      publicUrl: HOME,
      notifications: { retryDelaysMs: [50, 100, 200] },
      // The 'hang' runs end JOB_TIMEOUT quickly: failed nights.
      jobTimeLimitMs: 2500,
    });
    api = await startTestApi(stack);
    session = await api.login();
    recorder = new EventRecorder(stack);
  });
  after(async () => {
    recorder.stop();
    await api.close();
    await stack.close(2000);
    await smtp.close();
  });

  const run = async (accountId: string, mode: Job['mode']): Promise<Job> => {
    const job = await stack.jobs.start(accountId, mode);
    if (mode === 'manual') {
      const isWaiting = (e: StackEvent): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
        e.type === 'prompt.updated' && e.prompt.jobId === job.id && e.prompt.status === 'waiting';
      const waiting = await recorder.waitFor(isWaiting, 'the prompt');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'accepted');
    }
    const ended = (await recorder.waitFor(isJobEnded(job.id), 'the job', 30_000)).job;
    await stack.notifications!.idle();
    return ended;
  };

  it('e-mail: the test button, one e-mail per cause until fixed, with the link into Home; the password sealed', async () => {
    const created = await api.call('/api/notification-channels', {
      method: 'POST',
      session,
      json: {
        kind: 'email',
        name: 'My mailbox',
        settings: {
          host: '127.0.0.1',
          port: smtp.port,
          user: SMTP_USER,
          from: 'gleaner@example.test',
          to: 'ada@example.test',
        },
        secret: SMTP_PASSWORD,
      },
    });
    assert.equal(created.status, 201);
    const channel = created.body as NotificationChannel;
    assert.equal(channel.secretSet, true);
    assert.ok(!JSON.stringify(created.body).includes(SMTP_PASSWORD), 'the password is write-only');
    const listed = await api.call('/api/notification-channels', { session });
    assert.deepEqual(
      (listed.body as NotificationChannel[]).map((c) => c.id),
      [channel.id],
    );

    const tested = await api.call(`/api/notification-channels/${channel.id}/test`, { method: 'POST', session });
    assert.deepEqual(tested.body, { ok: true, message: 'sent through My mailbox' });
    assert.equal(smtp.mails.length, 1);
    assert.match(smtp.mails[0]!.subject, /a test notification/);
    assert.equal(smtp.mails[0]!.to, 'ada@example.test');

    const account = await stack.accounts.create({
      konnector: 'twofa-test',
      label: 'Phone bills',
      fields: { login: 'ada', password: 'pw-notify-1' },
    });
    const first = await run(account.id, 'background');
    assert.equal(first.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
    assert.equal(smtp.mails.length, 2, 'exactly one e-mail for the background run that needs a person');
    const mail = smtp.mails[1]!;
    assert.equal(mail.subject, '2FA test konnector — Phone bills: Gleaner needs you');
    assert.match(mail.text, /the site asks for a code, and nobody can type one during a scheduled run/);
    assert.ok(mail.text.includes(`${HOME}/accounts/${account.id}?action=reconnect`), mail.text);

    const second = await run(account.id, 'background');
    assert.equal(second.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
    assert.equal(smtp.mails.length, 2, 'a second failing night sends none');

    const fixed = await run(account.id, 'manual');
    assert.equal(fixed.status, 'done', `${fixed.error}`);
    assert.deepEqual(await stack.storage.notifications.openCauses(account.id), [], 'the manual run resolved it');
    // Its session saved, the next background run logs in with no code: the session is then dropped.
    await stack.accounts.resetSession(account.id);
    const again = await run(account.id, 'background');
    assert.equal(again.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
    assert.equal(smtp.mails.length, 3, 'fixed, then failing again: one e-mail');

    assert.ok(!databaseBytes(dataDir).includes(SMTP_PASSWORD), 'the SMTP password is sealed in the database');
    assert.ok(!api.log.text.includes(SMTP_PASSWORD), 'and never in the log');
    const off = await api.call(`/api/notification-channels/${channel.id}`, {
      method: 'PATCH',
      session,
      json: { enabled: false },
    });
    assert.equal((off.body as NotificationChannel).enabled, false);
    assert.equal((off.body as NotificationChannel).secretSet, true, 'a PATCH without secret keeps it');
  });

  it('the channels are in the OpenAPI document, which stays valid', async () => {
    const doc = (await api.call('/api/openapi.json', { session })).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const result = await new Validator().validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.deepEqual(Object.keys(doc.paths['/api/notification-channels'] ?? {}).sort(), ['get', 'post']);
    assert.deepEqual(Object.keys(doc.paths['/api/notification-channels/{id}'] ?? {}).sort(), [
      'delete',
      'get',
      'patch',
    ]);
    assert.ok(doc.paths['/api/notification-channels/{id}/test']?.post);
  });

  it('webhook: signed (HMAC-SHA256 over timestamp.body), a receiver that fails twice gets the third try', async () => {
    const received: Array<{ status: number; body: string; signature: string; timestamp: string }> = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        const status = received.length < 2 ? 503 : 200;
        received.push({
          status,
          body,
          signature: String(req.headers['x-gleaner-signature']),
          timestamp: String(req.headers['x-gleaner-timestamp']),
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const missing = await api.call('/api/notification-channels', {
        method: 'POST',
        session,
        json: { kind: 'webhook', name: 'Ops', settings: { url } },
      });
      assert.equal(missing.status, 422, 'a webhook without its secret is refused');
      assert.match(JSON.stringify(missing.body), /secret/);
      const created = await api.call('/api/notification-channels', {
        method: 'POST',
        session,
        json: { kind: 'webhook', name: 'Ops', settings: { url }, secret: WEBHOOK_SECRET },
      });
      assert.equal(created.status, 201);

      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        label: 'Energy',
        fields: { login: 'bo', password: 'pw-notify-2' },
      });
      const job = await run(account.id, 'background');
      assert.equal(job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.deepEqual(
        received.map((r) => r.status),
        [503, 503, 200],
        'two failures, then the third try',
      );
      const last = received[2]!;
      const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(`${last.timestamp}.${last.body}`).digest('hex')}`;
      assert.equal(last.signature, expected, 'the signature verifies');
      assert.ok(Math.abs(Number(last.timestamp) - Date.now() / 1000) < 60, 'a current timestamp');
      const payload = JSON.parse(last.body) as NotificationPayload;
      assert.equal(payload.event, 'needs_person');
      assert.equal(payload.accountId, account.id);
      assert.equal(payload.account, 'Energy');
      assert.equal(payload.link, `${HOME}/accounts/${account.id}?action=reconnect`);
      assert.ok(!last.body.includes(WEBHOOK_SECRET));
      assert.equal(received[0]!.body, last.body, 'each try carries the same message');
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it('a code nobody typed, and three failed nights in a row, are each told once', async () => {
    for (const channel of await stack.notifications!.list())
      await stack.notifications!.update(channel.id, { enabled: false });
    const payloads: NotificationPayload[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        payloads.push(JSON.parse(body) as NotificationPayload);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      await stack.notifications!.create({
        kind: 'webhook',
        name: 'Causes',
        settings: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/` },
        secret: 'causes-secret',
      });
      const quiet = await stack.accounts.create({
        konnector: 'twofa-test',
        label: 'Quiet',
        fields: { login: 'cy', password: 'pw-notify-3', timeout: '300' },
      });
      const job = await stack.jobs.start(quiet.id, 'manual');
      const ended = (await recorder.waitFor(isJobEnded(job.id), 'the unanswered job', 30_000)).job;
      await stack.notifications!.idle();
      assert.equal(ended.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.deepEqual(
        payloads.map((p) => [p.event, p.account]),
        [['code_unanswered', 'Quiet']],
      );
      assert.match(payloads[0]!.title, /a code was not typed in time/);

      const hanging = await stack.accounts.create({
        konnector: 'twofa-test',
        label: 'Slow site',
        fields: { login: 'di', password: 'pw-notify-4', scenario: 'hang' },
      });
      for (let night = 1; night <= 4; night++) {
        const failed = await run(hanging.id, 'background');
        assert.equal(failed.error, 'JOB_TIMEOUT');
        const told = payloads.filter((p) => p.accountId === hanging.id);
        assert.equal(told.length, night < 3 ? 0 : 1, `night ${night}`);
      }
      const told = payloads.find((p) => p.accountId === hanging.id)!;
      assert.equal(told.event, 'failed_nights');
      assert.match(told.title, /Slow site: 3 failed runs in a row/);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
