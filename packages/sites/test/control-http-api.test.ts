import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestSite, totpCode, type RunningSite } from '../src/index.js';
import { Browser, inputValue } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());
beforeEach(async () => {
  assert.equal((await call('POST', '/_control/reset')).status, 200);
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${site.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const SECRET = 'KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU';

void describe('control API over HTTP', () => {
  void it('adds a TOTP user, tells its current code, and that code signs it in', async () => {
    const added = await call('POST', '/_control/users', {
      login: 'erin',
      password: 'erin-pw',
      twoFactor: 'totp',
      totpSecret: SECRET,
    });
    assert.equal(added.status, 200);
    const { json } = await call('GET', '/_control/totp/erin');
    const totp = json as { code: string; remainingMs: number };
    assert.equal(totp.code, totpCode(SECRET, site.control.clock.now()));
    assert.ok(totp.remainingMs > 0 && totp.remainingMs <= 30_000);
    const b = new Browser(site.url);
    const form = await b.get('/login');
    await b.post('/login', { _csrf: inputValue(form.text, '_csrf'), login: 'erin', password: 'erin-pw' });
    const twofa = await b.get('/2fa');
    const done = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: totp.code });
    assert.equal(done.location, '/account');
  });

  void it('reports codes sent and the outbox, and counts requests', async () => {
    const b = new Browser(site.url);
    const form = await b.get('/login');
    await b.post('/login', { _csrf: inputValue(form.text, '_csrf'), login: 'bob', password: 'bob-password' });
    const sent = (await call('GET', '/_control/codes-sent?login=bob')).json as { count: number; lastCode: string };
    assert.equal(sent.count, 1);
    assert.match(sent.lastCode, /^\d{6}$/);
    const outbox = (await call('GET', '/_control/outbox')).json as { code: string }[];
    assert.equal(outbox[0]?.code, sent.lastCode);
    const counts = (await call('GET', '/_control/requests')).json as Record<string, number>;
    assert.deepEqual(counts, { '/login': 2 });
  });

  void it('injects and clears faults, moves the clock, changes settings and adds bills', async () => {
    assert.equal((await call('POST', '/_control/faults', { status: 429, count: 1, paths: '^/login$' })).status, 200);
    assert.equal((await fetch(`${site.url}/login`)).status, 429);
    assert.equal((await fetch(`${site.url}/login`)).status, 200);
    const settings = (await call('POST', '/_control/settings', { sessionLifetimeMs: 1000, lockoutThreshold: 2 }))
      .json as { sessionLifetimeMs: number; lockoutThreshold: number };
    assert.equal(settings.sessionLifetimeMs, 1000);
    assert.equal(settings.lockoutThreshold, 2);
    const before = site.control.clock.now();
    const moved = (await call('POST', '/_control/clock/advance', { ms: 60_000 })).json as { now: number };
    assert.ok(moved.now - before >= 60_000);
    const bill = await call('POST', '/_control/documents/dave', {});
    assert.equal(bill.status, 201);
    assert.equal((bill.json as { id: string }).id, 'dave-0006');
    assert.equal(((await call('GET', '/_control/documents/dave')).json as unknown[]).length, 6);
  });

  void it('answers 400 with a reason to bad input', async () => {
    const noSecret = await call('POST', '/_control/users', { login: 'x', password: 'y', twoFactor: 'totp' });
    assert.equal(noSecret.status, 400);
    assert.match((noSecret.json as { error: string }).error, /totpSecret/);
    assert.equal((await call('POST', '/_control/settings', { lockoutThreshold: 0 })).status, 400);
    assert.equal((await call('POST', '/_control/faults', { paths: '^/' })).status, 400);
    assert.equal((await call('GET', '/_control/totp/dave')).status, 400);
    assert.equal((await call('POST', '/_control/documents/dave', { date: '15/01/2024' })).status, 400);
    assert.equal((await call('POST', '/_control/documents/nobody', {})).status, 400);
  });

  void it('resets users, settings, and the outbox', async () => {
    await call('POST', '/_control/users', { login: 'zoe', password: 'pw', twoFactor: 'none' });
    await call('POST', '/_control/settings', { lockoutThreshold: 9 });
    await call('POST', '/_control/reset');
    const state = (await call('GET', '/_control/state')).json as {
      users: { login: string }[];
      settings: { lockoutThreshold: number };
    };
    assert.deepEqual(state.users.map((u) => u.login).sort(), ['alice', 'bob', 'carol', 'dave']);
    assert.equal(state.settings.lockoutThreshold, 3);
  });
});
