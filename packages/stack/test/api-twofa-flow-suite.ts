import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startTestSite, type RunningSite } from '@gleaner/sites';
import type { Account, FileInfo, Job, StackEvent } from '@gleaner/contracts';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { LogCapture, SseClient } from './api-fixtures/http.js';

/**
 * The acceptance run, through the HTTP API of the REAL stack: a real database (the SQLite file,
 * or a PostgreSQL database from `database()`), a real konnector child process, the fake test site.
 */
const here = dirname(fileURLToPath(import.meta.url));
const KONNECTOR_DIR = resolve(here, '../../test/fixtures/api-twofa-konnector');
const ADMIN = 'admin-canary-Pw-4242';
const SITE_PASSWORD = 'alice-password';

type Ev<T extends StackEvent['type']> = Extract<StackEvent, { type: T }>;
const is =
  <T extends StackEvent['type']>(type: T, test: (e: Ev<T>) => boolean = () => true) =>
  (e: StackEvent): e is Ev<T> =>
    e.type === type && test(e as Ev<T>);

export function twofaFlowSuite(backend: string, database?: () => Promise<string>): void {
  void describe(`2FA over the HTTP API, with the real stack on ${backend}`, () => {
    let site: RunningSite;
    let server: RunningServer;
    let log: LogCapture;
    let session: { cookie: string; csrfToken: string };
    let databasePassword: string | undefined;
    const bodies: string[] = [];
    const codes: string[] = [];

    const call = async (path: string, init: { method?: string; json?: unknown; auth?: boolean } = {}) => {
      const headers: Record<string, string> = {};
      if (init.auth !== false) Object.assign(headers, { cookie: session.cookie, 'x-csrf-token': session.csrfToken });
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      });
      const text = await response.text();
      bodies.push(text, ...response.headers.getSetCookie());
      return {
        status: response.status,
        body: text && response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text,
        headers: response.headers,
      };
    };

    before(async () => {
      site = await startTestSite();
      log = new LogCapture();
      const url = await database?.();
      databasePassword = url === undefined ? undefined : new URL(url).password;
      server = await startServer({
        dataDir: mkdtempSync(join(tmpdir(), 'gleaner-api-2fa-')),
        ...(url !== undefined ? { stackOptions: { database: url } } : {}),
        port: 0,
        konnectorDirs: [KONNECTOR_DIR],
        adminPassword: ADMIN,
        logger: createLogger({ level: 'debug', destination: log }),
        print: () => {},
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
    });
    after(async () => {
      await server?.close(1000);
      await site?.close();
    });

    const createAccount = async (connect: boolean, extra: Record<string, string> = {}): Promise<Account> => {
      const created = await call('/api/accounts', {
        method: 'POST',
        json: {
          konnector: 'api-twofa-test',
          fields: { login: 'alice', password: SITE_PASSWORD, baseUrl: site.url, ...extra },
          connect,
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body as Account;
    };

    test('HANDLE_LOGIN_SUCCESS → TWOFA_NEEDED.SMS → code posted → LOGIN_SUCCESS → done, files listed', async () => {
      const events = await SseClient.open(`${server.url}/api/events`, { cookie: session.cookie });
      assert.equal(events.status, 200);
      const account = await createAccount(true);
      const mine = (e: StackEvent) => e.type === 'account.updated' && e.account.id === account.id;

      await events.waitFor(
        (e) => mine(e) && (e as Ev<'account.updated'>).account.state === 'HANDLE_LOGIN_SUCCESS',
        20_000,
      );
      const waiting = await events.waitFor(
        is('prompt.updated', (e) => e.prompt.accountId === account.id && e.prompt.status === 'waiting'),
        20_000,
      );
      await events.waitFor((e) => mine(e) && (e as Ev<'account.updated'>).account.state === 'TWOFA_NEEDED.SMS', 5000);
      assert.equal(waiting.prompt.type, 'sms');

      const code = site.control.lastCode('alice');
      assert.ok(code);
      codes.push(code);
      const answered = await call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code } });
      assert.deepEqual([answered.status, answered.body], [202, { outcome: 'accepted' }]);

      await events.waitFor((e) => mine(e) && (e as Ev<'account.updated'>).account.state === 'LOGIN_SUCCESS', 20_000);
      const done = await events.waitFor(
        is(
          'job.updated',
          (e) => e.job.accountId === account.id && (e.job.status === 'done' || e.job.status === 'errored'),
        ),
        30_000,
      );
      assert.equal(done.job.status, 'done', `job ended ${done.job.error}`);
      assert.equal(done.job.loginStatus, 'succeeded');
      const states = events.events.filter(mine).map((e) => (e as Ev<'account.updated'>).account.state);
      const order = ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.SMS', 'LOGIN_SUCCESS'].map((s) =>
        states.indexOf(s as Account['state']),
      );
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
        `states in order: ${states.join(' → ')}`,
      );
      await events.close();

      const files = (await call(`/api/accounts/${account.id}/files`)).body as FileInfo[];
      assert.equal(files.length, 5);
      assert.ok(files.every((f) => f.bill?.vendor === 'Test Site'));
      const pdf = await call(`/api/files/${files[0]?.id}/content`);
      assert.equal(pdf.status, 200);
      assert.match(String(pdf.body), /^%PDF/);
      assert.match(pdf.headers.get('content-disposition') ?? '', /^attachment/);

      const again = await call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code } });
      assert.deepEqual([again.status, again.body], [409, { outcome: 'not_waiting' }]);
      await call(`/api/accounts/${account.id}`, { method: 'DELETE' });
    });

    test('two codes posted at once: exactly one 202, the konnector gets one', async () => {
      const account = await createAccount(true);
      const events = await SseClient.open(`${server.url}/api/events?lastEventId=0`, { cookie: session.cookie });
      const waiting = await events.waitFor(
        is('prompt.updated', (e) => e.prompt.accountId === account.id && e.prompt.status === 'waiting'),
        20_000,
      );
      const code = site.control.lastCode('alice') ?? '';
      codes.push(code);
      const answers = await Promise.all(
        [code, code, code].map((c) =>
          call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code: c } }),
        ),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [202, 409, 409]);
      const done = await events.waitFor(
        is(
          'job.updated',
          (e) => e.job.accountId === account.id && (e.job.status === 'done' || e.job.status === 'errored'),
        ),
        30_000,
      );
      assert.equal(done.job.status, 'done');
      assert.equal(site.control.requestCount('/2fa', 'POST'), 2, 'one code per run reached the site');
      await events.close();
      await call(`/api/accounts/${account.id}`, { method: 'DELETE' });
    });

    test('a code posted after the prompt expired answers 410', async () => {
      // The prompt's lifetime is the konnector's timeout: this account's konnector waits 3 s.
      const account = await createAccount(true, { codeTimeoutMs: '3000' });
      const events = await SseClient.open(`${server.url}/api/events?lastEventId=0`, { cookie: session.cookie });
      const waiting = await events.waitFor(
        is('prompt.updated', (e) => e.prompt.accountId === account.id && e.prompt.status === 'waiting'),
        20_000,
      );
      const expiresIn = Date.parse(waiting.prompt.expiresAt) - Date.now();
      assert.ok(expiresIn <= 3_000, `the prompt expires in ${expiresIn} ms`);
      await events.waitFor(
        is('prompt.updated', (e) => e.prompt.id === waiting.prompt.id && e.prompt.status === 'expired'),
        expiresIn + 10_000,
      );
      const late = await call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code: '123456' } });
      assert.deepEqual([late.status, late.body], [410, { outcome: 'expired' }]);
      await events.close();
    });

    test('no session: 401; a wrong admin password again and again: 429', async () => {
      assert.equal((await call('/api/accounts', { auth: false })).status, 401);
      assert.equal((await call('/api/events', { auth: false })).status, 401);
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push(
          (await call('/api/auth/login', { method: 'POST', json: { password: 'wrong' }, auth: false })).status,
        );
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.deepEqual(statuses.slice(5), [429, 429]);
    });

    test('the site password, the admin password and the codes appear in no API response and not in the log', async () => {
      const jobs = (await call('/api/jobs?limit=50')).body as Job[];
      for (const job of jobs) bodies.push(JSON.stringify((await call(`/api/jobs/${job.id}/logs`)).body));
      const everything = bodies.join('\n');
      for (const secret of [SITE_PASSWORD, ADMIN, ...codes, ...(databasePassword ? [databasePassword] : [])]) {
        assert.ok(!everything.includes(secret), `${secret} is in an API response`);
        assert.ok(!log.text.includes(secret), `${secret} is in the server's log`);
      }
    });
  });
}
