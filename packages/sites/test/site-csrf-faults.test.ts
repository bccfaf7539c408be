import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

void describe('CSRF protection', () => {
  void it('answers 403 to a login POST without the token', async () => {
    const b = new Browser(site.url);
    await b.get('/login');
    const page = await b.post('/login', { login: 'dave', password: 'dave-password' });
    assert.equal(page.status, 403);
    assert.equal(b.cookie('session'), undefined);
  });

  void it('answers 403 to a token taken from another visitor', async () => {
    const mallory = new Browser(site.url);
    const token = inputValue((await mallory.get('/login')).text, '_csrf');
    const victim = new Browser(site.url);
    await victim.get('/login');
    const page = await victim.post('/login', { _csrf: token, login: 'dave', password: 'dave-password' });
    assert.equal(page.status, 403);
  });

  void it('answers 403 to a POST without any cookie', async () => {
    const b = new Browser(site.url);
    const token = inputValue((await b.get('/login')).text, '_csrf');
    b.cookies.clear();
    assert.equal((await b.post('/login', { _csrf: token, login: 'dave', password: 'dave-password' })).status, 403);
  });
});

void describe('fault injection', () => {
  void it('answers 503 for `count` requests, then serves normally', async () => {
    site.control.injectFault({ status: 503, count: 2 });
    const first = await fetch(`${site.url}/login`);
    assert.equal(first.status, 503);
    assert.equal(first.headers.get('retry-after'), '30');
    assert.equal((await fetch(`${site.url}/login`)).status, 503);
    assert.equal((await fetch(`${site.url}/login`)).status, 200);
  });

  void it('limits a fault to paths matching a regex', async () => {
    site.control.injectFault({ status: 429, paths: '^/bills' });
    assert.equal((await fetch(`${site.url}/login`)).status, 200);
    assert.equal((await fetch(`${site.url}/bills`, { redirect: 'manual' })).status, 429);
    site.control.clearFaults();
    assert.equal((await fetch(`${site.url}/bills`, { redirect: 'manual' })).status, 302);
  });

  void it('slows one path without blocking others', async () => {
    site.control.injectFault({ delayMs: 600, paths: '^/login$', count: 1 });
    const started = Date.now();
    const slow = fetch(`${site.url}/login`).then((r) => ({ status: r.status, at: Date.now() - started }));
    const fast = await fetch(`${site.url}/account`, { redirect: 'manual' });
    const fastAt = Date.now() - started;
    assert.equal(fast.status, 302);
    const slowDone = await slow;
    assert.equal(slowDone.status, 200);
    assert.ok(slowDone.at >= 550, `slow response took ${slowDone.at} ms`);
    assert.ok(fastAt < slowDone.at, 'the fast request finished first');
  });

  void it('never faults the control API, so a test can always clear faults', async () => {
    site.control.injectFault({ status: 503 });
    const res = await fetch(`${site.url}/_control/faults`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal((await fetch(`${site.url}/login`)).status, 200);
  });

  void it('counts requests per path', async () => {
    await fetch(`${site.url}/login`);
    await fetch(`${site.url}/login`);
    await fetch(`${site.url}/bills`, { redirect: 'manual' });
    assert.equal(site.control.requestCount('/login'), 2);
    assert.equal(site.control.requestCount('/login', 'GET'), 2);
    assert.deepEqual(site.control.requestCounts(), { '/login': 2, '/bills': 1 });
  });
});
