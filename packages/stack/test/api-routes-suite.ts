import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Account, FileInfo, Job, Trigger } from '@gleaner/contracts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { codeFormatMessage } from '@gleaner/contracts';
import { MemoryStack } from './api-fixtures/memory-stack.js';
import { startTestApi, type AuthBackend, type Session, type TestApi } from './api-fixtures/http.js';

/** The API's routes over a Stack, signed in through `auth` (SQLite's auth.sqlite, or a PostgreSQL database). */
export function apiRoutesSuite(name: string, auth: AuthBackend): void {
  describe(`API routes over a Stack (${name})`, { concurrency: true }, () => {
    let stack: MemoryStack;
    let api: TestApi;
    let session: Session;
    before(async () => {
      stack = new MemoryStack();
      api = await startTestApi(stack, {}, auth);
      session = await api.login();
    });
    after(async () => api.close());

    test('accounts: create, read, update, delete; credentials are write-only', async () => {
      const konnectors = await api.call('/api/konnectors', { session });
      assert.equal((konnectors.body as { slug: string }[])[0]?.slug, 'shop');
      assert.equal((await api.call('/api/konnectors/nope', { session })).status, 404);

      const created = await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'shop', label: 'Mine', fields: { login: 'ada', password: 'pw-canary-551' } },
      });
      assert.equal(created.status, 201);
      const account = created.body as Account;
      assert.deepEqual(account.fields, { login: 'ada' });
      assert.deepEqual(account.secretFieldsSet, ['password']);

      const patched = await api.call(`/api/accounts/${account.id}`, {
        method: 'PATCH',
        session,
        json: { label: 'Renamed', fields: { password: '' } },
      });
      assert.equal((patched.body as Account).label, 'Renamed');
      assert.equal(
        stack.accountsById.get(account.id)?.fieldValues.password,
        'pw-canary-551',
        'an empty secret leaves it unchanged',
      );

      assert.equal((await api.call('/api/accounts', { session })).status, 200);
      assert.equal(
        (await api.call(`/api/accounts/${account.id}/reset-session`, { method: 'POST', session })).status,
        200,
      );
      assert.equal((await api.call(`/api/accounts/${account.id}`, { method: 'DELETE', session })).status, 204);
      const gone = await api.call(`/api/accounts/${account.id}`, { session });
      assert.equal(gone.status, 404);
      assert.equal((gone.body as { error: string }).error, 'not_found');
      assert.ok(!api.bodies.join('\n').includes('pw-canary-551'), 'no response shows the password');
      assert.ok(!api.log.text.includes('pw-canary-551'), 'the log does not show it');
    });

    test('bad bodies and params are refused with the path of the problem, never the value', async () => {
      const unknownKey = await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'shop', fields: {}, admin: 'secret-value-9' },
      });
      assert.equal(unknownKey.status, 422);
      assert.equal((unknownKey.body as { error: string }).error, 'invalid');
      assert.ok(!JSON.stringify(unknownKey.body).includes('secret-value-9'));
      const wrongType = await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'shop', fields: { password: 42 } },
      });
      assert.equal(wrongType.status, 422);
      assert.deepEqual(
        (wrongType.body as { details: { path: string }[] }).details.map((d) => d.path),
        ['fields.password'],
      );
      const unknownKonnector = await api.call('/api/accounts', {
        method: 'POST',
        session,
        json: { konnector: 'nope', fields: {} },
      });
      assert.equal(unknownKonnector.status, 422);
      const badJson = await api.call('/api/accounts', {
        method: 'POST',
        headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'content-type': 'application/json' },
        body: '{"konnector":',
      });
      assert.equal(badJson.status, 400);
      const badQuery = await api.call('/api/jobs?limit=0', { session });
      assert.equal(badQuery.status, 400);
    });

    test('jobs: start (409 when active), list, logs, cancel; triggers; files with download', async () => {
      const account = (
        await api.call('/api/accounts', {
          method: 'POST',
          session,
          json: { konnector: 'shop', fields: { login: 'bob' } },
        })
      ).body as Account;
      const started = await api.call(`/api/accounts/${account.id}/jobs`, {
        method: 'POST',
        session,
        json: { mode: 'manual' },
      });
      assert.equal(started.status, 201);
      const job = started.body as Job;
      const again = await api.call(`/api/accounts/${account.id}/jobs`, { method: 'POST', session });
      assert.equal(again.status, 409);
      assert.equal((again.body as { error: string }).error, 'conflict');

      stack.log(job.id, 'logged in');
      const file = stack.saveFile(job.id, 'facture été.pdf', '%PDF-1.4 test');
      assert.deepEqual(
        ((await api.call(`/api/jobs/${job.id}/logs`, { session })).body as { message: string }[]).map((l) => l.message),
        ['logged in'],
      );
      assert.equal(((await api.call(`/api/accounts/${account.id}/jobs`, { session })).body as Job[])[0]?.id, job.id);
      assert.equal(
        ((await api.call(`/api/jobs?accountId=${account.id}&limit=5`, { session })).body as Job[]).length,
        1,
      );
      const cancelled = await api.call(`/api/jobs/${job.id}/cancel`, { method: 'POST', session });
      assert.equal((cancelled.body as Job).error, 'JOB_CANCELLED');
      assert.equal((await api.call(`/api/jobs/${job.id}`, { session })).status, 200);

      const files = (await api.call(`/api/accounts/${account.id}/files`, { session })).body as FileInfo[];
      assert.equal(files[0]?.bill?.amount, 12.5);
      const download = await api.call(`/api/files/${file.id}/content`, { session });
      assert.equal(download.status, 200);
      assert.equal(download.body, '%PDF-1.4 test');
      assert.equal(download.headers.get('content-type'), 'application/pdf');
      assert.equal(
        download.headers.get('content-disposition'),
        `attachment; filename="facture _t_.pdf"; filename*=UTF-8''facture%20%C3%A9t%C3%A9.pdf`,
      );
      assert.equal((await api.call('/api/files/nope/content', { session })).status, 404);

      assert.equal(
        ((await api.call(`/api/accounts/${account.id}/trigger`, { session })).body as Trigger).frequency,
        'off',
      );
      const put = await api.call(`/api/accounts/${account.id}/trigger`, {
        method: 'PUT',
        session,
        json: { frequency: 'daily', time: '06:30' },
      });
      assert.deepEqual(put.body, {
        accountId: account.id,
        frequency: 'daily',
        time: '06:30',
        weekday: 0,
        timeZone: 'UTC',
        nextRunAt: null,
        lastSkippedAt: null,
        skipReason: null,
      });
      assert.equal(
        (
          await api.call(`/api/accounts/${account.id}/trigger`, {
            method: 'PUT',
            session,
            json: { frequency: 'hourly' },
          })
        ).status,
        422,
      );
    });

    test('codes: 202 accepted once, 409 not waiting, 410 expired, 422 bad format, 429 too many attempts', async () => {
      const account = (
        await api.call('/api/accounts', { method: 'POST', session, json: { konnector: 'shop', fields: {} } })
      ).body as Account;
      const job = (await api.call(`/api/accounts/${account.id}/jobs`, { method: 'POST', session })).body as Job;
      const { prompt, received } = stack.askCode(account.id, { type: 'sms' });
      const answer = (id: string, code: string) =>
        api.call(`/api/prompts/${id}/answer`, { method: 'POST', session, json: { code } });

      const bad = await answer(prompt.id, '12');
      assert.deepEqual(
        [bad.status, bad.body],
        [422, { outcome: 'bad_format', message: codeFormatMessage('sms') }],
        "the 422 says what a code of the prompt's type looks like",
      );
      const [a, b] = await Promise.all([answer(prompt.id, '123 456'), answer(prompt.id, '654321')]);
      assert.deepEqual([a.status, b.status].sort(), [202, 409]);
      assert.match(await received, /^(123456|654321)$/);
      assert.equal(stack.delivered.length, 1, 'the konnector received one code');
      assert.deepEqual((await answer(prompt.id, '111111')).body, { outcome: 'not_waiting' });

      const expiring = stack.askCode(account.id, { expiresInMs: -1 });
      assert.deepEqual(await answer(expiring.prompt.id, '222222').then((r) => [r.status, r.body]), [
        410,
        { outcome: 'expired' },
      ]);

      const many = stack.askCode(account.id);
      for (let i = 0; i < 5; i++) assert.equal((await answer(many.prompt.id, 'x')).status, 422);
      assert.equal((await answer(many.prompt.id, '333333')).status, 429);

      const cancelling = stack.askCode(account.id);
      assert.equal(
        (await api.call(`/api/prompts/${cancelling.prompt.id}/cancel`, { method: 'POST', session })).status,
        204,
      );
      assert.equal((await answer(cancelling.prompt.id, '444444')).status, 409);
      assert.equal((await answer('no-such-prompt', '444444')).status, 404);
      void job;

      for (const code of ['123456', '654321', '222222', '333333', '444444']) {
        assert.ok(!api.bodies.join('\n').includes(code), `code ${code} is never echoed`);
        assert.ok(!api.log.text.includes(code), `code ${code} is never logged`);
      }
    });

    test('OpenAPI 3.1 document lists every route, and /api/docs renders it', async () => {
      const doc = (await api.call('/api/openapi.json', { session })).body as {
        openapi: string;
        paths: Record<
          string,
          Record<string, { requestBody?: { content: Record<string, { schema: { properties: object } }> } }>
        >;
      };
      assert.equal(doc.openapi, '3.1.0');
      const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      );
      for (const route of [
        'POST /api/auth/login',
        'POST /api/auth/logout',
        'GET /api/auth/session',
        'POST /api/tokens',
        'GET /api/tokens',
        'DELETE /api/tokens/{id}',
        'GET /api/konnectors',
        'GET /api/accounts',
        'POST /api/accounts',
        'GET /api/accounts/{id}',
        'PATCH /api/accounts/{id}',
        'DELETE /api/accounts/{id}',
        'POST /api/accounts/{id}/jobs',
        'GET /api/accounts/{id}/jobs',
        'POST /api/accounts/{id}/reset-session',
        'GET /api/jobs/{id}',
        'GET /api/jobs/{id}/logs',
        'POST /api/jobs/{id}/cancel',
        'GET /api/accounts/{id}/trigger',
        'PUT /api/accounts/{id}/trigger',
        'GET /api/accounts/{id}/files',
        'GET /api/files/{id}/content',
        'GET /api/prompts/{id}',
        'POST /api/prompts/{id}/answer',
        'POST /api/prompts/{id}/resend',
        'POST /api/prompts/{id}/cancel',
        'GET /api/events',
        'GET /api/health',
      ]) {
        assert.ok(routes.includes(route), `${route} is documented`);
      }
      const create = doc.paths['/api/accounts']?.post?.requestBody?.content['application/json']?.schema.properties;
      assert.deepEqual(Object.keys(create ?? {}).sort(), ['connect', 'fields', 'konnector', 'label']);
      const docs = await api.call('/api/docs', { session });
      assert.equal(docs.status, 200);
      assert.match(docs.headers.get('content-type') ?? '', /text\/html/);
      assert.match(String(docs.body), /\/api\/prompts\/\{id\}\/answer/);
    });

    test('the OpenAPI document is valid (checked by an OpenAPI validator), names its server, and its 401/403 are the truth; /api/docs shows response schemas', async () => {
      const doc = (await api.call('/api/openapi.json', { session })).body as {
        servers?: { url: string }[];
        paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>;
      };
      const validator = new Validator();
      const result = await validator.validate(doc);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
      assert.equal(validator.version, '3.1');
      assert.deepEqual(
        doc.servers?.map((server) => server.url),
        ['/'],
      );

      const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
      );
      const isProtected = (op: { security: unknown[] }) => op.security.length > 0;
      const protectedOps = operations.filter(({ op }) => isProtected(op));
      assert.ok(protectedOps.length >= 27, `${protectedOps.length} protected operations`);
      for (const { method, path, op } of operations) {
        const url = path.replace(/\{[^}]+\}/g, 'no-such-id');
        if (!isProtected(op)) continue;
        assert.ok(op.responses['401'], `${method} ${path} documents its 401`);
        // Each documented 401 is what the route answers without a session or token.
        const anonymous = await api.call(url, { method, session: null });
        assert.equal(anonymous.status, 401, `${method} ${path} without a session`);
        if (method === 'GET') {
          assert.equal(op.responses['403'], undefined, `${method} ${path} needs no CSRF header: no 403`);
        } else {
          assert.ok(op.responses['403'], `${method} ${path} documents its 403`);
          const forged = await api.call(url, { method, session: { ...session, csrfToken: 'wrong' } });
          assert.equal(forged.status, 403, `${method} ${path} with a wrong CSRF header`);
        }
      }

      const docs = String((await api.call('/api/docs', { session })).body);
      assert.match(docs, /<summary>application\/json schema<\/summary>/, 'response schemas are shown');
      assert.match(docs, /&quot;sessionSaved&quot;/, "the Account schema's fields are listed");
      assert.match(docs, /Not authenticated/);
    });

    test('Home is served at / with a fallback to index.html for its own routes; /api misses stay JSON', async () => {
      const home = mkdtempSync(join(tmpdir(), 'gleaner-home-'));
      writeFileSync(join(home, 'index.html'), '<!doctype html><title>Home</title>');
      writeFileSync(join(home, 'app.js'), 'console.log(1)');
      const api = await startTestApi(new MemoryStack(), { homeDir: home }, auth);
      try {
        const index = await fetch(`${api.url}/`);
        assert.equal(index.status, 200);
        assert.match(await index.text(), /<title>Home<\/title>/);
        assert.equal(await (await fetch(`${api.url}/app.js`)).text(), 'console.log(1)');
        const deep = await fetch(`${api.url}/accounts/123`);
        assert.equal(deep.status, 200);
        assert.match(await deep.text(), /<title>Home<\/title>/);
        const session = await api.login();
        const miss = await api.call('/api/nope', { session });
        assert.equal(miss.status, 404);
        assert.equal((miss.body as { error: string }).error, 'not_found');
      } finally {
        await api.close();
      }
    });
  });
}
