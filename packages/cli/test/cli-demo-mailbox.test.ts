import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Job } from '@gleaner/contracts';
import { AMAZON_USERS } from '@gleaner/sites';
import { openSqliteStorage } from '@gleaner/stack';
import { startDemo } from '../src/demo.js';
import { signIn, until } from './support/admin-api.js';

const PASSWORD = 'demo-mailbox-Pw-5120';
const BOB = AMAZON_USERS.bob;

test("the demo's background e-mail story: bob's Amazon account with the demo mailbox as its code source runs in the background, the code read from the mailbox", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-demo-mailbox-'));
  const demo = await startDemo({
    dataDir,
    port: 0,
    sitesPort: 0,
    mailboxPort: 0,
    adminPassword: PASSWORD,
    print: () => {},
    logLevel: 'silent',
  });
  let job: Job;
  let accountId: string;
  try {
    assert.equal(demo.mailbox.users[BOB.email], 'bob-mail-password');
    const api = await signIn(demo.url, PASSWORD);
    // Each step of the story asks a new code right after the last: no wait for the site's resend
    // interval here (30 s; the budget of codes respects it, and a newcomer takes longer than that).
    const settings = await fetch(`${demo.sitesUrl}/amazon/_control/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resendCooldownMs: 0 }),
    });
    assert.equal(settings.status, 200);

    // As Home adds an account: Connect at once, and the person types the e-mailed code from the outbox.
    const created = await api('/api/accounts', {
      method: 'POST',
      json: { konnector: 'amazon', fields: { login: BOB.login, password: BOB.password }, connect: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    accountId = (created.body as { id: string }).id;
    const prompt = await until('the code prompt of the first run', async () => {
      const { body } = await api(`/api/accounts/${accountId}`);
      return (body as { prompt: { id: string; type: string; status: string } | null }).prompt ?? undefined;
    });
    assert.equal(prompt.type, 'email');
    const mailed = await until('the code in the outbox', async () => {
      const sent = (await (await fetch(`${demo.outbox}.json`)).json()) as { login: string; code: string }[];
      return sent.find((m) => m.login === BOB.login)?.code;
    });
    assert.equal(
      (await api(`/api/prompts/${prompt.id}/answer`, { method: 'POST', json: { code: mailed } })).status,
      202,
    );
    const manual = await until(
      'the first run to end',
      async () => {
        const { body } = await api(`/api/accounts/${accountId}`);
        const last = (body as { lastJob: Job | null }).lastJob;
        return last && (last.status === 'done' || last.status === 'errored') ? last : undefined;
      },
      60_000,
    );
    assert.equal(manual.status, 'done', `the first run: ${manual.error}`);
    // No wait here: the typed code's e-mail, even of the second the next run begins, is spent once
    // the mailbox is set (packages/stack/test/code-sources-mailbox.test.ts proves it).

    // What the banner tells the newcomer to type in the account's Codes section.
    const source = await api(`/api/accounts/${accountId}/code-sources/email`, {
      method: 'PUT',
      json: {
        host: demo.mailbox.host,
        port: demo.mailbox.port,
        tls: false,
        user: BOB.email,
        password: demo.mailbox.users[BOB.email],
        folder: 'INBOX',
      },
    });
    assert.equal(source.status, 200, JSON.stringify(source.body));
    assert.equal((await api(`/api/accounts/${accountId}/reset-session`, { method: 'POST', json: {} })).status, 200);

    const started = await api(`/api/accounts/${accountId}/jobs`, { method: 'POST', json: { mode: 'background' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    const jobId = (started.body as Job).id;
    job = await until(
      'the background job to end',
      async () => {
        const { body } = await api(`/api/jobs/${jobId}`);
        const current = body as Job;
        return current.status === 'done' || current.status === 'errored' ? current : undefined;
      },
      60_000,
    );
    const logs = ((await api(`/api/jobs/${jobId}/logs`)).body as { message: string }[])
      .map((l) => l.message)
      .join('\n');
    assert.equal(job.mode, 'background');
    assert.equal(job.status, 'done', `${job.error}\n${logs}`);
    assert.match(logs, /code read from your mailbox/);
    const files = (await api(`/api/accounts/${accountId}/files`)).body as unknown[];
    assert.ok(files.length > 0, 'the invoices are saved');
    // The outbox page keeps showing the codes: the site sent two, both by e-mail.
    const sent = (await (await fetch(`${demo.outbox}.json`)).json()) as { login: string; channel: string }[];
    assert.deepEqual(
      sent.filter((m) => m.login === BOB.login).map((m) => m.channel),
      ['email', 'email'],
    );
  } finally {
    await demo.close(1000);
  }
  const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
  try {
    const prompts = await storage.prompts.listByJob(job.id);
    assert.deepEqual(
      prompts.map((p) => [p.type, p.status, p.answeredBy]),
      [['email', 'answered', 'email']],
      'one prompt, answered by the mailbox: nobody typed a code',
    );
  } finally {
    await storage.close();
  }
});
