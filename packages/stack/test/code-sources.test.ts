import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Account, Job, Prompt, StackEvent } from '@gleaner/contracts';
import { AMAZON_USERS, GITHUB_OCTOCAT_TOTP_SECRET, GITHUB_USERS, startSites, type RunningSites } from '@gleaner/sites';
import { parseForwardedSms, signWebhookBody, webhookAuthorized } from '../src/code-sources/sms-webhook.js';
import { parseTotpInput, totpCodeAt, TotpInputError, type TotpSpec } from '../src/code-sources/totp.js';
import { extractCode } from '../src/code-sources/matching.js';
import type { GleanerStack } from '../src/create-stack.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { LogCapture, SseClient } from './api-fixtures/http.js';
import { FIXTURES } from './helpers/stack-harness.js';

const REPO = resolve(FIXTURES, '../../../..');
const KONNECTORS = [resolve(REPO, 'konnectors/github'), resolve(REPO, 'konnectors/amazon')];
const ADMIN = 'admin-codes-Pw-5150';

describe('RFC 6238 and what a person pastes', () => {
  // RFC 6238 appendix B: the seeds are ASCII "1234567890" repeated to the hash's length; 8 digits.
  const seed = (length: number) => Buffer.from('1234567890'.repeat(7).slice(0, length));
  const base32 = (bytes: Buffer) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = '';
    for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
    let out = '';
    for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
    return out;
  };
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  it('every test vector of RFC 6238, for SHA-1, SHA-256 and SHA-512', () => {
    const specs: TotpSpec[] = [
      { secret: base32(seed(20)), algorithm: 'SHA1', digits: 8, period: 30 },
      { secret: base32(seed(32)), algorithm: 'SHA256', digits: 8, period: 30 },
      { secret: base32(seed(64)), algorithm: 'SHA512', digits: 8, period: 30 },
    ];
    for (const [seconds, ...expected] of vectors)
      assert.deepEqual(
        specs.map((spec) => totpCodeAt(spec, seconds * 1000)),
        expected,
        `T = ${seconds}`,
      );
  });

  it('an otpauth:// URI or a base32 secret (as apps print it) is read; anything else is refused with why', () => {
    const uri = parseTotpInput(
      `otpauth://totp/GitHub:octocat?secret=${GITHUB_OCTOCAT_TOTP_SECRET}&issuer=GitHub&algorithm=SHA256&digits=8&period=60`,
    );
    assert.deepEqual(uri, {
      secret: GITHUB_OCTOCAT_TOTP_SECRET,
      algorithm: 'SHA256',
      digits: 8,
      period: 60,
      issuer: 'GitHub',
      label: 'octocat',
    });
    const spaced = GITHUB_OCTOCAT_TOTP_SECRET.toLowerCase().replace(/(.{4})/g, '$1 ');
    assert.deepEqual(parseTotpInput(spaced), {
      secret: GITHUB_OCTOCAT_TOTP_SECRET,
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
    });
    for (const [input, message] of [
      ['', /empty/],
      ['not a secret!', /not base32/],
      ['MFRGGZDF', /too short/],
      [`otpauth://hotp/X?secret=${GITHUB_OCTOCAT_TOTP_SECRET}&counter=1`, /HOTP/],
      ['otpauth://totp/X', /does not parse/],
    ] as const) {
      assert.throws(
        () => parseTotpInput(input),
        (error: Error) => {
          assert.ok(error instanceof TotpInputError);
          assert.match(error.message, message);
          assert.ok(input === '' || !error.message.includes(input), 'the message never repeats the input');
          return true;
        },
      );
    }
  });

  it('forwarder payloads, signatures and the code pattern', () => {
    assert.deepEqual(parseForwardedSms({ from: 'Amazon', text: 'code 123456', receivedStamp: 1_700_000_000_000 }), {
      from: 'Amazon',
      text: 'code 123456',
      receivedAt: 1_700_000_000_000,
    });
    assert.deepEqual(parseForwardedSms({ sender: '+331', message: 'x', timestamp: '2030-01-01T00:00:00Z' }), {
      from: '+331',
      text: 'x',
      receivedAt: Date.parse('2030-01-01T00:00:00Z'),
    });
    assert.equal(
      parseForwardedSms({ from: 'a', content: 'y', sentStamp: 1_700_000_000 }).receivedAt,
      1_700_000_000_000,
    );
    assert.throws(() => parseForwardedSms({ from: 'a' }), /no message text/);
    const body = '{"text":"hi"}';
    assert.equal(webhookAuthorized('s3cret', { signature: signWebhookBody('s3cret', body), rawBody: body }), true);
    assert.equal(webhookAuthorized('s3cret', { signature: signWebhookBody('other', body), rawBody: body }), false);
    assert.equal(
      webhookAuthorized('s3cret', { signature: signWebhookBody('s3cret', body), rawBody: `${body} ` }),
      false,
    );
    assert.equal(webhookAuthorized('s3cret', { authorization: 'Bearer s3cret', rawBody: '' }), true);
    assert.equal(webhookAuthorized('s3cret', { authorization: 'Bearer s3cre', rawBody: '' }), false);
    assert.equal(webhookAuthorized('s3cret', { rawBody: '' }), false);
    const matcher = { from: 'amazon', pattern: 'verification code is (\\d{6})' };
    assert.equal(extractCode({ from: 'AMAZON', text: 'Your amazon verification code is 042917.' }, matcher), '042917');
    assert.equal(extractCode({ from: '+33 6', text: 'Your amazon verification code is 042917.' }, matcher), null);
    assert.equal(extractCode({ from: 'amazon', text: 'no code here' }, matcher), null);
  });
});

type Ev<T extends StackEvent['type']> = Extract<StackEvent, { type: T }>;

describe('code sources under the real stack: the fake GitHub and Amazon, over HTTP', () => {
  let sites: RunningSites;
  let server: RunningServer;
  let log: LogCapture;
  let events: SseClient;
  let dataDir: string;
  let session: { cookie: string; csrfToken: string };
  /** Every response body but the one that shows the webhook secret (once, on purpose). */
  const bodies: string[] = [];
  const secrets: string[] = [GITHUB_OCTOCAT_TOTP_SECRET];

  const call = async (
    path: string,
    init: { method?: string; json?: unknown; keep?: boolean } = {},
  ): Promise<{ status: number; body: unknown }> => {
    const headers: Record<string, string> = { cookie: session.cookie, 'x-csrf-token': session.csrfToken };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers,
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
    const text = await response.text();
    if (init.keep !== false) bodies.push(text);
    return {
      status: response.status,
      body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  before(async () => {
    sites = await startSites();
    log = new LogCapture();
    dataDir = mkdtempSync(join(tmpdir(), 'gleaner-codes-'));
    server = await startServer({
      dataDir,
      port: 0,
      konnectorDirs: KONNECTORS,
      adminPassword: ADMIN,
      logger: createLogger({ level: 'debug', destination: log }),
      print: () => {},
      stackOptions: { schedulerIntervalMs: false },
    });
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: ADMIN }),
    });
    session = {
      cookie: login.headers.getSetCookie()[0]?.split(';')[0] ?? '',
      csrfToken: ((await login.json()) as { csrfToken: string }).csrfToken,
    };
    events = await SseClient.open(`${server.url}/api/events`, { cookie: session.cookie });
  });
  after(async () => {
    await events?.close();
    await server?.close(2000);
    await sites?.close();
  });

  const createAccount = async (konnector: 'github' | 'amazon', user: { login: string; password: string }) => {
    const created = await call('/api/accounts', {
      method: 'POST',
      json: { konnector, fields: { login: user.login, password: user.password, baseUrl: sites[konnector] } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as Account;
  };
  const start = async (accountId: string, mode: Job['mode']): Promise<Job> => {
    const started = await call(`/api/accounts/${accountId}/jobs`, { method: 'POST', json: { mode } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    return started.body as Job;
  };
  const ended = async (jobId: string, ms = 60_000): Promise<Job> =>
    (
      await events.waitFor(
        (e): e is Ev<'job.updated'> =>
          e.type === 'job.updated' && e.job.id === jobId && (e.job.status === 'done' || e.job.status === 'errored'),
        ms,
      )
    ).job;
  const waitingPrompt = async (jobId: string): Promise<Prompt> =>
    (
      await events.waitFor(
        (e): e is Ev<'prompt.updated'> =>
          e.type === 'prompt.updated' && e.prompt.jobId === jobId && e.prompt.status === 'waiting',
        30_000,
      )
    ).prompt;
  const logsOf = async (jobId: string) =>
    ((await call(`/api/jobs/${jobId}/logs`)).body as { message: string }[]).map((line) => line.message).join('\n');

  it('a stored authenticator secret: the code shown once matches, a manual and then a background run log in by themselves', async () => {
    const octocat = GITHUB_USERS.octocat;
    const account = await createAccount('github', octocat);
    const bad = await call(`/api/accounts/${account.id}/code-sources/app_code`, {
      method: 'PUT',
      json: { secret: 'abc!' },
    });
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(bad.body), /not base32/);

    const uri = `otpauth://totp/GitHub:${octocat.login}?secret=${GITHUB_OCTOCAT_TOTP_SECRET}&issuer=GitHub`;
    const set = await call(`/api/accounts/${account.id}/code-sources/app_code`, {
      method: 'PUT',
      json: { secret: uri },
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const shown = set.body as {
      code: string;
      validForMs: number;
      source: { kind: string; settings: Record<string, unknown> };
    };
    const current = sites.controls.github.currentTotp(octocat.login);
    assert.equal(shown.code, current, 'the code shown is the one the app shows');
    assert.deepEqual(shown.source.settings, {
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      issuer: 'GitHub',
      label: octocat.login,
    });
    const test = await call(`/api/accounts/${account.id}/code-sources/app_code/test`, { method: 'POST' });
    assert.equal((test.body as { code: string }).code, sites.controls.github.currentTotp(octocat.login));
    const listed = (await call(`/api/accounts/${account.id}/code-sources`)).body as { kind: string }[];
    assert.deepEqual(
      listed.map((s) => s.kind),
      ['app_code'],
    );

    // Connect: nobody types anything, the stored secret answers.
    const manual = await start(account.id, 'manual');
    const manualEnd = await ended(manual.id);
    assert.equal(manualEnd.status, 'done', `manual run: ${manualEnd.error}`);
    const answered = await promptsOf(manual.id);
    assert.deepEqual(
      answered.map((p) => [p.type, p.status, p.answeredBy]),
      [['app_code', 'answered', 'app_code']],
    );
    assert.match(await logsOf(manual.id), /code computed from the stored authenticator secret/);

    // The session lapses; the nightly run logs in again with the secret (within the same 30 s
    // step, the source waits for the next code: a site refuses one used twice).
    await call(`/api/accounts/${account.id}/reset-session`, { method: 'POST' });
    const background = await start(account.id, 'background');
    const backgroundEnd = await ended(background.id, 90_000);
    assert.equal(
      backgroundEnd.status,
      'done',
      `background run: ${backgroundEnd.error}\n${await logsOf(background.id)}`,
    );
    assert.equal(backgroundEnd.loginStatus, 'succeeded');
    assert.deepEqual(
      (await promptsOf(background.id)).map((p) => p.answeredBy),
      ['app_code'],
    );
    assert.ok((await call(`/api/accounts/${account.id}/files`)).body instanceof Array);

    // Removed: the next background run stops before the password, as without a source.
    const removed = await call(`/api/accounts/${account.id}/code-sources/app_code`, { method: 'DELETE' });
    assert.equal(removed.status, 204);
    await call(`/api/accounts/${account.id}/reset-session`, { method: 'POST' });
    const after = await ended((await start(account.id, 'background')).id);
    assert.equal(after.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  });

  it('a forwarded SMS answers the waiting SMS prompt; a bad signature is 401 and changes nothing; a message older than the prompt is ignored', async () => {
    const alice = AMAZON_USERS.alice;
    const account = await createAccount('amazon', alice);
    const made = await call(`/api/accounts/${account.id}/code-sources/sms`, { method: 'PUT', keep: false });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const { secret, source } = made.body as { secret: string; source: { webhookPath: string } };
    secrets.push(secret);
    assert.match(source.webhookPath, /^\/api\/hooks\/sms\/[\w-]{20,}$/);
    const listed = (await call(`/api/accounts/${account.id}/code-sources`)).body as { webhookPath?: string }[];
    assert.equal(listed[0]?.webhookPath, source.webhookPath, 'the URL is shown again; the secret is not');

    const forward = async (payload: Record<string, unknown>, sign: (raw: string) => Record<string, string>) => {
      const raw = JSON.stringify(payload);
      const response = await fetch(`${server.url}${source.webhookPath}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...sign(raw) },
        body: raw,
      });
      const text = await response.text();
      bodies.push(text);
      return { status: response.status, body: JSON.parse(text) as { answered?: string } };
    };
    const signed = (raw: string) => ({ 'x-gleaner-signature': signWebhookBody(secret, raw) });

    const job = await start(account.id, 'manual');
    const prompt = await waitingPrompt(job.id);
    assert.equal(prompt.type, 'sms');
    const sms = sites.controls.amazon.outbox(alice.login)[0];
    assert.ok(sms && sms.channel === 'sms', 'Amazon sent an SMS');

    // Sent before this prompt began: the code of an earlier sign-in, never this one's.
    const stale = await forward(
      {
        from: 'Amazon',
        text: `Your amazon verification code is 000000.`,
        receivedStamp: Date.parse(prompt.createdAt) - 60_000,
      },
      signed,
    );
    assert.deepEqual([stale.status, stale.body.answered], [200, 'older_than_prompt']);
    // A wrong signature and a wrong bearer: 401, the prompt as it was.
    const forged = await forward({ from: 'Amazon', text: sms.text }, (raw) => ({
      'x-gleaner-signature': signWebhookBody('not-the-secret', raw),
    }));
    assert.equal(forged.status, 401);
    assert.equal(
      (await forward({ from: 'Amazon', text: sms.text }, () => ({ authorization: 'Bearer nope' }))).status,
      401,
    );
    const unknown = await fetch(`${server.url}/api/hooks/sms/not-a-webhook-id`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      body: JSON.stringify({ text: sms.text }),
    });
    assert.equal(unknown.status, 401, 'another webhook id with this secret is refused too');
    const still = (await promptsOf(job.id))[0];
    assert.deepEqual([still?.status, still?.attempts], ['waiting', 0], 'nothing changed');

    // The forwarder's real message, as a form this time: it answers.
    const form = new URLSearchParams({ from: sms.to, text: sms.text, receivedStamp: String(Date.now()) }).toString();
    const taken = await fetch(`${server.url}${source.webhookPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${secret}` },
      body: form,
    });
    const takenText = await taken.text();
    bodies.push(takenText);
    assert.deepEqual([taken.status, JSON.parse(takenText)], [200, { received: true, answered: 'accepted' }]);
    const done = await ended(job.id);
    assert.equal(done.status, 'done', `the job ended ${done.error}`);
    assert.deepEqual(
      (await promptsOf(job.id)).map((p) => [p.status, p.answeredBy]),
      [['answered', 'sms']],
    );
    assert.match(await logsOf(job.id), /code read from a forwarded SMS/);
    const shown = (
      (await call(`/api/accounts/${account.id}/code-sources`)).body as {
        lastMessageAt: string | null;
        lastCodeAt: string | null;
      }[]
    )[0];
    assert.ok(shown?.lastMessageAt && shown.lastCodeAt, 'the last message and code are shown');
  });

  it('the canary: authenticator and webhook secrets appear nowhere in clear (database, logs, API bodies, event stream)', async () => {
    assert.ok(secrets.length >= 2, 'both sources were set up by the tests above');
    const database = readdirSync(dataDir)
      .filter((name) => name.startsWith('gleaner.db'))
      .map((name) => readFileSync(join(dataDir, name)).toString('latin1'))
      .join('\n');
    assert.ok(database.length > 0, 'the database was read');
    const streamed = JSON.stringify(events.events);
    for (const secret of secrets) {
      for (const [where, text] of [
        ['the database', database],
        ['the stack log', log.text],
        ['an API body', bodies.join('\n')],
        ['the event stream', streamed],
      ] as const)
        assert.ok(!text.includes(secret), `a secret is in ${where}`);
    }
  });

  const promptsOf = (jobId: string) => (server.stack as GleanerStack).storage.prompts.listByJob(jobId);
});
