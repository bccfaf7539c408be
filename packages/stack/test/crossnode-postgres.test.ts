import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestSite, type RunningSite } from '@gleaner/sites';
import { codeFormatMessage, type Account, type StackEvent } from '@gleaner/contracts';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { LogCapture, SseClient } from './api-fixtures/http.js';
import { postgresForFile } from './helpers/postgres.js';

/**
 * Two API nodes on one PostgreSQL database (two stacks, two HTTP servers, one secrets key): what a
 * person does on one node holds on the other. Jobs started through node A run in A's queue, so a
 * code posted to B must cross to A's konnector.
 */
const here = dirname(fileURLToPath(import.meta.url));
const KONNECTOR_DIR = resolve(here, '../../test/fixtures/api-twofa-konnector');
const ADMIN = 'admin-crossnode-canary-Pw-77';
const SITE_PASSWORD_PREFIX = 'site-pw-canary-';

const pgServer = postgresForFile();

type Ev<T extends StackEvent['type']> = Extract<StackEvent, { type: T }>;
const is =
  <T extends StackEvent['type']>(type: T, check: (e: Ev<T>) => boolean = () => true) =>
  (e: StackEvent): e is Ev<T> =>
    e.type === type && check(e as Ev<T>);

type Node = {
  name: string;
  server: RunningServer;
  log: LogCapture;
  session: { cookie: string; csrfToken: string };
  call(
    path: string,
    init?: { method?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<{
    status: number;
    body: unknown;
    headers: Headers;
  }>;
};

async function login(url: string, password: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ password }),
  });
}

describe('two API nodes on one PostgreSQL database', { concurrency: true }, () => {
  let site: RunningSite;
  let database: string;
  let a: Node;
  let b: Node;
  /** Every payload sent on the cross-node channels, to look for secrets in them. */
  const payloads: string[] = [];
  let spy: pg.Client;
  const secrets: string[] = [];

  const startNode = async (name: string, worker = true): Promise<Node> => {
    const log = new LogCapture();
    // application_name tells this node's connections apart (the lost-notification case ends its LISTEN one).
    const url = new URL(database);
    url.searchParams.set('application_name', `gleaner-${name}`);
    const server = await startServer({
      dataDir: mkdtempSync(join(tmpdir(), `gleaner-crossnode-${name}-`)),
      port: 0,
      konnectorDirs: [KONNECTOR_DIR],
      adminPassword: ADMIN,
      logger: createLogger({ level: 'debug', destination: log }),
      print: () => {},
      // As behind a proxy: the rate-limit case is a client (X-Forwarded-For) of its own.
      trustProxy: true,
      stackOptions: { database: url.href, env: keyEnv, schedulerIntervalMs: false, sandbox: false, worker },
    });
    const response = await login(server.url, ADMIN);
    assert.equal(response.status, 200);
    const session = {
      cookie: response.headers.getSetCookie()[0]?.split(';')[0] ?? '',
      csrfToken: ((await response.json()) as { csrfToken: string }).csrfToken,
    };
    const call: Node['call'] = async (path, init = {}) => {
      const headers: Record<string, string> = {
        cookie: session.cookie,
        'x-csrf-token': session.csrfToken,
        ...init.headers,
      };
      if (init.json !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text,
        headers: res.headers,
      };
    };
    return { name, server, log, session, call };
  };
  const keyEnv = { GLEANER_SECRET_KEY: randomBytes(32).toString('base64'), GLEANER_SECRET_KEY_ID: 'shared1' };

  before(async () => {
    site = await startTestSite();
    database = await (await pgServer()).createDatabase();
    a = await startNode('a');
    // B runs no jobs (serve --no-worker): every job runs on A, every code and event crosses.
    b = await startNode('b', false);
    spy = new pg.Client({ connectionString: database });
    await spy.connect();
    spy.on('notification', (message) => payloads.push(`${message.channel}:${message.payload ?? ''}`));
    await spy.query('listen gleaner_events');
    await spy.query('listen gleaner_prompts');
    await spy.query('listen gleaner_jobs');
  });
  after(async () => {
    await spy?.end();
    await Promise.all([a?.server.close(1000), b?.server.close(1000)]);
    await site?.close();
    const dump = await (async () => {
      const client = new pg.Client({ connectionString: database });
      await client.connect();
      try {
        const tables = ['events', 'prompts', 'prompt_messages', 'job_logs', 'accounts', 'auth_sessions', 'auth_tokens'];
        const rows = await Promise.all(
          tables.map(async (t) => JSON.stringify((await client.query(`select * from ${t}`)).rows)),
        );
        return rows.join('\n');
      } finally {
        await client.end();
      }
    })();
    // The canary check, once every case is done: no code or password in clear anywhere it could leak.
    for (const secret of secrets) {
      assert.ok(!payloads.some((p) => p.includes(secret)), 'no secret in a NOTIFY payload');
      assert.ok(!dump.includes(secret), 'no secret in a row in clear');
      assert.ok(!a.log.text.includes(secret) && !b.log.text.includes(secret), 'no secret in either log');
    }
  });

  /** A site user of its own for each case (cases run at once), and its account created through `node`. */
  const newAccount = async (node: Node, login: string, extra: Record<string, string> = {}): Promise<Account> => {
    const password = `${SITE_PASSWORD_PREFIX}${login}`;
    secrets.push(password);
    site.control.addUser({
      login,
      password,
      name: login,
      phone: '+33 6 12 34 56 78',
      email: `${login}@example.test`,
      twoFactor: 'sms',
    });
    const created = await node.call('/api/accounts', {
      method: 'POST',
      json: { konnector: 'api-twofa-test', fields: { login, password, baseUrl: site.url, ...extra }, connect: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as Account;
  };
  const waitingPrompt = (events: SseClient, accountId: string) =>
    events.waitFor(
      is('prompt.updated', (e) => e.prompt.accountId === accountId && e.prompt.status === 'waiting'),
      20_000,
    );
  const jobEnd = (events: SseClient, accountId: string) =>
    events.waitFor(
      is(
        'job.updated',
        (e) => e.job.accountId === accountId && (e.job.status === 'done' || e.job.status === 'errored'),
      ),
      30_000,
    );

  test("a code posted to node B reaches the konnector on node A, once; A's events reach B's stream", async () => {
    const onB = await SseClient.open(`${b.server.url}/api/events`, { cookie: b.session.cookie });
    const account = await newAccount(a, 'xn-code');
    const waiting = await waitingPrompt(onB, account.id);
    const code = site.control.lastCode('xn-code') ?? '';
    secrets.push(code);

    const malformed = await b.call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code: 'x' } });
    assert.deepEqual(
      [malformed.status, malformed.body],
      [422, { outcome: 'bad_format', message: codeFormatMessage(waiting.prompt.type) }],
    );
    const answered = await b.call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code } });
    assert.deepEqual([answered.status, answered.body], [202, { outcome: 'accepted' }]);
    const again = await a.call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code } });
    assert.deepEqual([again.status, again.body], [409, { outcome: 'not_waiting' }], 'used once, on either node');

    const done = await jobEnd(onB, account.id);
    assert.equal(done.job.status, 'done', `job ended ${done.job.error}`);
    assert.equal(done.job.loginStatus, 'succeeded');
    const started = (log: LogCapture) =>
      log.text.includes(`"jobId":"${done.job.id}"`) && /"msg":"job started"/.test(log.text);
    assert.deepEqual(
      [started(a.log), b.log.text.includes(`"jobId":"${done.job.id}"`)],
      [true, false],
      'A ran it, not B (which runs no jobs)',
    );
    const files = (await b.call(`/api/accounts/${account.id}/files`)).body as unknown[];
    assert.equal(files.length, 5, "A's files are listed by B");
    await onB.close();
  });

  test('a prompt cancelled on node B ends the job on node A JOB_CANCELLED', async () => {
    const onB = await SseClient.open(`${b.server.url}/api/events`, { cookie: b.session.cookie });
    const account = await newAccount(a, 'xn-cancel');
    const waiting = await waitingPrompt(onB, account.id);
    assert.equal((await b.call(`/api/prompts/${waiting.prompt.id}/cancel`, { method: 'POST' })).status, 204);
    const done = await jobEnd(onB, account.id);
    assert.deepEqual([done.job.status, done.job.error], ['errored', 'JOB_CANCELLED']);
    await onB.close();
  });

  test("malformed codes posted to B lock the prompt: A's job ends LOGIN_FAILED.TOO_MANY_ATTEMPTS, the right code then 429 on A", async () => {
    const onB = await SseClient.open(`${b.server.url}/api/events`, { cookie: b.session.cookie });
    const account = await newAccount(a, 'xn-lock');
    const waiting = await waitingPrompt(onB, account.id);
    const path = `/api/prompts/${waiting.prompt.id}/answer`;
    for (let i = 0; i < 5; i++) {
      const refused = await b.call(path, { method: 'POST', json: { code: `x${i}` } });
      assert.deepEqual(
        [refused.status, refused.body],
        [422, { outcome: 'bad_format', message: codeFormatMessage(waiting.prompt.type) }],
      );
    }
    const done = await jobEnd(onB, account.id);
    assert.deepEqual([done.job.status, done.job.error], ['errored', 'LOGIN_FAILED.TOO_MANY_ATTEMPTS']);
    const code = site.control.lastCode('xn-lock') ?? '';
    secrets.push(code);
    const late = await a.call(path, { method: 'POST', json: { code } });
    assert.deepEqual([late.status, late.body], [429, { outcome: 'too_many_attempts' }]);
    await onB.close();
  });

  test('a prompt expired on node A answers 410 on node B', async () => {
    const onB = await SseClient.open(`${b.server.url}/api/events`, { cookie: b.session.cookie });
    const account = await newAccount(a, 'xn-expired', { codeTimeoutMs: '1500' });
    const waiting = await waitingPrompt(onB, account.id);
    await onB.waitFor(
      is('prompt.updated', (e) => e.prompt.id === waiting.prompt.id && e.prompt.status === 'expired'),
      15_000,
    );
    const late = await b.call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code: '123456' } });
    assert.deepEqual([late.status, late.body], [410, { outcome: 'expired' }]);
    const done = await jobEnd(onB, account.id);
    assert.equal(done.job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
    await onB.close();
  });

  test("a code posted while node A's LISTEN connection is down is not lost: A takes it on reconnection", async () => {
    const onB = await SseClient.open(`${b.server.url}/api/events`, { cookie: b.session.cookie });
    const onA = await SseClient.open(`${a.server.url}/api/events`, { cookie: a.session.cookie });
    const account = await newAccount(a, 'xn-lost');
    const waiting = await waitingPrompt(onB, account.id);
    const code = site.control.lastCode('xn-lost') ?? '';
    secrets.push(code);

    const admin = new pg.Client({ connectionString: database });
    await admin.connect();
    try {
      // A's LISTEN connection is the one of A that listens; ended, A misses what is sent until it reconnects.
      const { rows } = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity
          where application_name = 'gleaner-a' and (query ilike 'listen%' or query ilike 'select pg_notify%')`,
      );
      assert.equal(rows.length, 1, 'node A has one LISTEN connection');
      const pid = rows[0]!.pid;
      await admin.query('select pg_terminate_backend($1)', [pid]);
      while ((await admin.query('select 1 from pg_stat_activity where pid = $1', [pid])).rows.length) await sleep(2);
      const answered = await b.call(`/api/prompts/${waiting.prompt.id}/answer`, { method: 'POST', json: { code } });
      assert.deepEqual([answered.status, answered.body], [202, { outcome: 'accepted' }]);

      const done = await jobEnd(onB, account.id);
      assert.equal(done.job.status, 'done', `job ended ${done.job.error}`);
      assert.match(a.log.text, /the LISTEN connection to PostgreSQL dropped/);
      const taken = a.log.text
        .split('\n')
        .find((line) => line.includes(waiting.prompt.id) && line.includes('taken from the mailbox'));
      assert.match(
        taken ?? '',
        /"after":"reconnection"/,
        'taken when A came back, not from the notification it missed',
      );
      const left = await admin.query('select 1 from prompt_messages where prompt_id = $1', [waiting.prompt.id]);
      assert.equal(left.rows.length, 0, 'the message was taken');
      // A's stream missed nothing B published while A was away: the same events, in the same order.
      const doneOnA = await jobEnd(onA, account.id);
      const range = (events: SseClient) =>
        events.events.map((e) => e.id).filter((id) => id > waiting.id && id <= doneOnA.id);
      assert.deepEqual(range(onA), range(onB));
    } finally {
      await admin.end();
      await onB.close();
      await onA.close();
    }
  });

  test('Last-Event-ID resume on either node: the same events, in one id order, no gap, no duplicate', async () => {
    const fromStart = await SseClient.open(`${a.server.url}/api/events?lastEventId=0`, { cookie: a.session.cookie });
    // Events made on both nodes at once.
    const labels = Array.from({ length: 12 }, (_, i) => `xn-events-${i}`);
    const created = await Promise.all(
      labels.map(async (label, i) => {
        const node = i % 2 ? b : a;
        const res = await node.call('/api/accounts', {
          method: 'POST',
          json: { konnector: 'api-twofa-test', label, fields: { login: label, password: 'x', baseUrl: site.url } },
        });
        assert.equal(res.status, 201);
        return res.body as Account;
      }),
    );
    for (const account of created)
      await fromStart.waitFor(
        is('account.updated', (e) => e.account.id === account.id),
        10_000,
      );
    const ids = fromStart.events.map((e) => e.id);
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((x, y) => x - y),
      'one stream: increasing ids, no duplicate',
    );
    const mid = ids[Math.floor(ids.length / 2)]!;
    const last = ids.at(-1)!;

    for (const node of [a, b]) {
      const resumed = await SseClient.open(`${node.server.url}/api/events`, {
        cookie: node.session.cookie,
        'last-event-id': String(mid),
      });
      await resumed.waitFor((e) => e.id >= last, 10_000);
      const got = resumed.events.map((e) => e.id).filter((id) => id <= last);
      assert.deepEqual(
        got,
        ids.filter((id) => id > mid),
        `resumed on ${node.name}: every event after ${mid}, once`,
      );
      await resumed.close();
    }
    await fromStart.close();
    for (const account of created) await a.call(`/api/accounts/${account.id}`, { method: 'DELETE' });
  });

  test('a session made on node A works on B, logout on B ends it on A; a token revoked on A is refused on B', async () => {
    const response = await login(a.server.url, ADMIN);
    const cookie = response.headers.getSetCookie()[0]?.split(';')[0] ?? '';
    const { csrfToken } = (await response.json()) as { csrfToken: string };
    const session = { cookie, 'x-csrf-token': csrfToken };
    assert.equal((await b.call('/api/accounts', { headers: session })).status, 200);
    const token = await b.call('/api/tokens', { method: 'POST', headers: session, json: { name: 'script' } });
    assert.equal(token.status, 201);
    const { id, token: value } = token.body as { id: string; token: string };
    secrets.push(value);
    const bearer = (node: Node) =>
      fetch(`${node.server.url}/api/accounts`, { headers: { authorization: `Bearer ${value}` } }).then((r) => r.status);
    assert.deepEqual([await bearer(a), await bearer(b)], [200, 200]);
    assert.equal((await a.call(`/api/tokens/${id}`, { method: 'DELETE', headers: session })).status, 204);
    assert.deepEqual([await bearer(a), await bearer(b)], [401, 401], 'revoked everywhere');

    assert.equal((await b.call('/api/auth/logout', { method: 'POST', headers: session })).status, 204);
    assert.equal((await a.call('/api/accounts', { headers: session })).status, 401, 'logged out everywhere');
  });

  test('two nodes started at once on a new database with no admin password: one generated, printed once, valid on both', async () => {
    const fresh = await (await pgServer()).createDatabase();
    const printed: string[] = [];
    const start = (name: string) =>
      startServer({
        dataDir: mkdtempSync(join(tmpdir(), `gleaner-crossnode-first-${name}-`)),
        port: 0,
        konnectorDirs: [KONNECTOR_DIR],
        logger: createLogger({ level: 'silent' }),
        print: (line) => printed.push(line),
        stackOptions: { database: fresh, env: keyEnv, schedulerIntervalMs: false, sandbox: false },
      });
    const saved = process.env.GLEANER_ADMIN_PASSWORD;
    delete process.env.GLEANER_ADMIN_PASSWORD;
    const nodes = await Promise.all([start('a'), start('b')]).finally(() => {
      if (saved !== undefined) process.env.GLEANER_ADMIN_PASSWORD = saved;
    });
    try {
      assert.equal(printed.length, 1, printed.join('\n'));
      const password = /: (\S+)$/.exec(printed[0]!)?.[1] ?? '';
      secrets.push(password);
      for (const node of nodes) assert.equal((await login(node.url, password)).status, 200);
    } finally {
      await Promise.all(nodes.map((node) => node.close(0)));
    }
  });

  test('failed logins count across nodes: three on A and two on B, the sixth is refused on either', async () => {
    const client = { 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (const node of [a, a, a, b, b]) statuses.push((await login(node.server.url, 'wrong', client)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
    const admin = new pg.Client({ connectionString: database });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ n: string }>(
        "select count(*) as n from login_failures where client = '203.0.113.9'",
      );
      assert.equal(Number(rows[0]?.n), 5, 'the failures of both nodes are in the database');
    } finally {
      await admin.end();
    }
    const limited = await Promise.all([login(a.server.url, 'wrong', client), login(b.server.url, ADMIN, client)]);
    assert.deepEqual(
      limited.map((r) => r.status),
      [429, 429],
      'refused on both nodes, even the right password',
    );
    assert.ok(Number(limited[1].headers.get('retry-after')) > 0);
    assert.equal((await login(b.server.url, ADMIN)).status, 200, 'another client is not limited');
  });
});
