import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LoginLimiter } from '../src/api/login-limiter.js';
import { MemoryStack } from './api-fixtures/memory-stack.js';
import { ADMIN_PASSWORD, startTestApi, type AuthBackend, type TestApi } from './api-fixtures/http.js';

/** Where the suite keeps sign-in: the auth store, and a login limiter with these bounds. */
export type AuthSuiteBackend = {
  auth: AuthBackend;
  limiter(maxFailures: number, windowMs: number): Promise<LoginLimiter>;
};

/** The API's authentication, on the SQLite auth store and in-memory limiter, or on PostgreSQL's. */
export function apiAuthSuite(name: string, backend: AuthSuiteBackend): void {
  describe(`API authentication (${name})`, { concurrency: true }, () => {
    let api: TestApi;
    before(async () => {
      api = await startTestApi(new MemoryStack(), {}, backend.auth);
    });
    after(async () => api.close());

    test('every route but login and health needs a session or a token', async () => {
      assert.equal((await api.call('/api/health')).status, 200);
      for (const path of [
        '/api/accounts',
        '/api/konnectors',
        '/api/jobs/x',
        '/api/openapi.json',
        '/api/events',
        '/api/tokens',
        '/api/no-such-route',
      ]) {
        const { status, body } = await api.call(path);
        assert.equal(status, 401, path);
        assert.equal((body as { error: string }).error, 'unauthenticated');
      }
      const post = await api.call('/api/prompts/p1/answer', { method: 'POST', json: { code: '123456' } });
      assert.equal(post.status, 401);
      const forged = await api.call('/api/accounts', { headers: { cookie: 'gleaner_session=forged' } });
      assert.equal(forged.status, 401);
      assert.deepEqual((await api.call('/api/auth/session')).body, { authenticated: false });
    });

    test('login sets an httpOnly SameSite=Strict cookie; the session works and logout ends it', async () => {
      const response = await fetch(`${api.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: ADMIN_PASSWORD }),
      });
      assert.equal(response.status, 200);
      const setCookie = response.headers.getSetCookie()[0] ?? '';
      assert.match(setCookie, /^gleaner_session=[A-Za-z0-9_-]{43};/);
      assert.match(setCookie, /HttpOnly/);
      assert.match(setCookie, /SameSite=Strict/);
      assert.match(setCookie, /Path=\//);
      assert.doesNotMatch(setCookie, /Secure/, 'plain http on 127.0.0.1');
      const { csrfToken } = (await response.json()) as { csrfToken: string };
      const session = { cookie: setCookie.split(';')[0] ?? '', csrfToken };

      assert.deepEqual((await api.call('/api/auth/session', { session })).body, {
        authenticated: true,
        via: 'session',
        csrfToken,
      });
      assert.equal((await api.call('/api/accounts', { session })).status, 200);
      assert.equal((await api.call('/api/auth/logout', { method: 'POST', session })).status, 204);
      assert.equal((await api.call('/api/accounts', { session })).status, 401);
    });

    test('a session needs the CSRF header for requests that change state', async () => {
      const session = await api.login();
      const withoutCsrf = await api.call('/api/accounts', {
        method: 'POST',
        headers: { cookie: session.cookie },
        json: { konnector: 'shop', fields: { login: 'ada' } },
      });
      assert.equal(withoutCsrf.status, 403);
      const wrongCsrf = await api.call('/api/accounts', {
        method: 'POST',
        headers: { cookie: session.cookie, 'x-csrf-token': 'x'.repeat(43) },
        json: { konnector: 'shop', fields: { login: 'ada' } },
      });
      assert.equal(wrongCsrf.status, 403);
      const ok = await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'shop', fields: { login: 'ada' } },
      });
      assert.equal(ok.status, 201);
      // Reading needs no CSRF header.
      assert.equal((await api.call('/api/accounts', { headers: { cookie: session.cookie } })).status, 200);
    });

    test('API tokens: shown once, stored hashed, usable as Bearer without CSRF, revocable', async () => {
      const session = await api.login();
      const created = await api.call('/api/tokens', { method: 'POST', session, json: { name: 'backup script' } });
      assert.equal(created.status, 201);
      const { id, token } = created.body as { id: string; token: string };
      assert.match(token, /^glt_/);
      const listed = await api.call('/api/tokens', { session });
      assert.ok(!JSON.stringify(listed.body).includes(token), 'the token is never shown again');
      assert.equal((listed.body as { id: string }[]).find((t) => t.id === id)?.id, id);

      const bearer = { authorization: `Bearer ${token}` };
      assert.equal((await api.call('/api/accounts', { headers: bearer })).status, 200);
      const write = await api.call('/api/accounts', {
        method: 'POST',
        headers: bearer,
        json: { konnector: 'shop', fields: {} },
      });
      assert.equal(write.status, 201, 'a token needs no CSRF header');
      assert.deepEqual((await api.call('/api/auth/session', { headers: bearer })).body, {
        authenticated: true,
        via: 'token',
      });
      assert.equal((await api.call('/api/accounts', { headers: { authorization: `Bearer ${token}x` } })).status, 401);

      assert.equal((await api.call(`/api/tokens/${id}`, { method: 'DELETE', session })).status, 204);
      assert.equal((await api.call('/api/accounts', { headers: bearer })).status, 401);
      assert.equal((await api.call(`/api/tokens/${id}`, { method: 'DELETE', session })).status, 404);
    });

    test('a wrong admin password is rate-limited per client, with Retry-After', async () => {
      let now = Date.parse('2025-06-01T10:00:00Z');
      const api = await startTestApi(
        new MemoryStack(),
        { loginLimiter: await backend.limiter(5, 5 * 60_000), now: () => new Date(now) },
        backend.auth,
      );
      try {
        const attempt = (password: string) => api.call('/api/auth/login', { method: 'POST', json: { password } });
        for (let i = 0; i < 5; i++) assert.equal((await attempt('wrong')).status, 401);
        const limited = await attempt('wrong');
        assert.equal(limited.status, 429);
        assert.equal(limited.headers.get('retry-after'), '300');
        // The body says when too, for people: Home turns it into "try again in 5 min (at 11:45)".
        assert.equal((limited.body as { retryAfterSeconds: number }).retryAfterSeconds, 300);
        assert.match((limited.body as { message: string }).message, /try again in 300 s/);
        assert.equal((await attempt(ADMIN_PASSWORD)).status, 429, 'even the right password waits');
        now += 5 * 60_000 + 1;
        assert.equal((await attempt(ADMIN_PASSWORD)).status, 200);
        assert.ok(!api.log.text.includes(ADMIN_PASSWORD), 'the password is not in the log');
        assert.ok(!api.bodies.join('\n').includes(ADMIN_PASSWORD));
      } finally {
        await api.close();
      }
    });

    test('the login limiter forgets failures after the window and on success; a refused attempt is not counted', async () => {
      const limiter = await backend.limiter(3, 1000);
      try {
        for (let i = 0; i < 3; i++) assert.equal(await limiter.attempt('a', i * 100), 0);
        assert.equal(await limiter.attempt('a', 250), 750);
        assert.equal(await limiter.attempt('a', 260), 740, 'the refused attempt at 250 did not count');
        assert.equal(await limiter.attempt('b', 250), 0, 'per client');
        assert.equal(await limiter.attempt('a', 1001), 0, 'the failure at 0 left the window');
        await limiter.succeeded('a');
        for (let i = 0; i < 3; i++) assert.equal(await limiter.attempt('a', 1100), 0);
      } finally {
        await limiter.close();
      }
    });

    test('a first password set twice at once: one stands, the other is told', async () => {
      const store = await backend.auth();
      try {
        const set = await Promise.all([store.setPasswordHashIfNone('hash-1'), store.setPasswordHashIfNone('hash-2')]);
        assert.deepEqual([...set].sort(), [false, true]);
        assert.equal(await store.passwordHash(), set[0] ? 'hash-1' : 'hash-2');
        assert.equal(await store.setPasswordHashIfNone('hash-3'), false);
      } finally {
        await store.close();
      }
    });

    test('attempts sent at once: exactly the limit go ahead', async () => {
      const limiter = await backend.limiter(3, 60_000);
      try {
        const waits = await Promise.all(Array.from({ length: 20 }, () => limiter.attempt('burst', 1000)));
        const ahead = waits.filter((w) => w === 0).length;
        assert.equal(ahead, 3, `${ahead} of 20 went ahead`);
        assert.ok(
          waits.every((w) => w === 0 || w === 60_000),
          waits.join(' '),
        );
      } finally {
        await limiter.close();
      }
    });
  });
}
