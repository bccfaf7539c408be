import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GITHUB_USERS, startSites, startTestSite, TEST_SITE_USERS, type RunningSites } from '../src/index.js';
import { Browser, formAction, inputValue, pageName } from './support/browser.js';

let sites: RunningSites;
before(async () => {
  sites = await startSites();
});
after(() => sites.close());
beforeEach(async () => {
  const res = await fetch(`${sites.url}/_control/reset`, { method: 'POST' });
  assert.equal(res.status, 200);
});

void describe('all sites on one port (startSites)', () => {
  void it('serves each site under its prefix, with prefixed links, redirects, form actions and cookie paths', async () => {
    assert.equal(sites.github, `${sites.url}/github`);
    const b = new Browser(sites.url);
    const bounced = await b.get('/github/settings/billing/payment_history');
    assert.equal(bounced.status, 302);
    assert.equal(
      bounced.location,
      `/github/login?return_to=${encodeURIComponent('/github/settings/billing/payment_history')}`,
    );
    const form = await b.get(bounced.location);
    assert.equal(formAction(form.text, 'login'), '/github/session');
    assert.equal(b.cookie('_gh_sess')?.path, '/github');
    const posted = await b.post('/github/session', {
      authenticity_token: inputValue(form.text, 'authenticity_token'),
      return_to: inputValue(form.text, 'return_to'),
      login: 'monalisa',
      password: GITHUB_USERS.monalisa.password,
    });
    assert.equal(posted.location, '/github/sessions/verified-device');
    const device = await b.get(posted.location);
    assert.equal(formAction(device.text, 'device-verification-form'), '/github/sessions/verified-device');
    const done = await b.post('/github/sessions/verified-device', {
      authenticity_token: inputValue(device.text, 'authenticity_token'),
      otp: sites.controls.github.lastCode('monalisa') ?? '',
    });
    assert.equal(done.location, '/github/settings/billing/payment_history');
    assert.equal(b.cookie('user_session')?.path, '/github');
    const history = await b.get(done.location);
    assert.equal(history.status, 200);
    assert.match(history.text, /href="\/github\/account\/receipts\/\d+\.pdf"/);
    const testSite = await b.get('/test/account');
    assert.equal(
      testSite.location,
      `/test/login?return_to=${encodeURIComponent('/test/account')}`,
      'a GitHub session does not sign in to the test site',
    );
  });

  void it('shares one outbox between sites, newest first, as JSON and as a readable page', async () => {
    const gh = new Browser(sites.url);
    const ghForm = await gh.get('/github/login');
    await gh.post('/github/session', {
      authenticity_token: inputValue(ghForm.text, 'authenticity_token'),
      login: 'monalisa',
      password: GITHUB_USERS.monalisa.password,
    });
    const t = new Browser(sites.url);
    const tForm = await t.get('/test/login');
    await t.post('/test/login', {
      _csrf: inputValue(tForm.text, '_csrf'),
      login: 'alice',
      password: TEST_SITE_USERS.alice.password,
    });
    const list = (await (await fetch(`${sites.url}/outbox.json`)).json()) as {
      site: string;
      channel: string;
      code: string;
    }[];
    assert.deepEqual(
      list.map((m) => [m.site, m.channel]),
      [
        ['test', 'sms'],
        ['github', 'email'],
      ],
    );
    const page = await fetch(sites.outbox);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.equal(pageName(html), 'outbox');
    for (const m of list) assert.ok(html.includes(m.code), `outbox page shows the ${m.site} code`);
    assert.match(html, /fake authenticator/i);
    assert.ok(html.includes(sites.controls.github.currentTotp('octocat')), "shows octocat's current TOTP code");
    assert.match(html, /data-login="carol"/);
    assert.match(html, /\d+ s</, 'shows the seconds left');
  });

  void it('shares one clock: advancing it over HTTP expires sessions on every site', async () => {
    const t = new Browser(sites.url);
    const form = await t.get('/test/login');
    await t.post('/test/login', {
      _csrf: inputValue(form.text, '_csrf'),
      login: 'dave',
      password: TEST_SITE_USERS.dave.password,
    });
    assert.equal((await t.get('/test/account')).status, 200);
    const before = sites.clock.now();
    const res = await fetch(`${sites.url}/_control/clock/advance`, {
      method: 'POST',
      body: JSON.stringify({ ms: 2 * 3600_000 }),
    });
    assert.equal(res.status, 200);
    assert.ok(sites.controls.github.clock.now() - before >= 2 * 3600_000);
    assert.equal((await t.get('/test/account')).status, 302);
  });

  void it('links to every site from the index page', async () => {
    const html = await (await fetch(sites.url)).text();
    for (const href of ['/github/login', '/amazon/ap/signin', '/test/login', '/outbox'])
      assert.ok(html.includes(`href="${href}"`), href);
  });

  void it('faults one mounted site without touching the others', async () => {
    sites.controls.amazon.injectFault({ status: 503 });
    assert.equal((await fetch(`${sites.amazon}/ap/signin`)).status, 503);
    assert.equal((await fetch(`${sites.test}/login`)).status, 200);
  });
});

void describe('a single site under a prefix', () => {
  void it('keeps every link under the prefix and 404s outside it', async () => {
    const site = await startTestSite({ prefix: '/shop/' });
    try {
      assert.match(site.url, /^http:\/\/127\.0\.0\.1:\d+\/shop$/);
      const origin = new URL(site.url).origin;
      assert.equal((await fetch(`${origin}/login`)).status, 404);
      const b = new Browser(origin);
      const form = await b.get('/shop/login');
      assert.equal(formAction(form.text, 'login-form'), '/shop/login');
      const done = await b.post('/shop/login', {
        _csrf: inputValue(form.text, '_csrf'),
        login: 'dave',
        password: TEST_SITE_USERS.dave.password,
      });
      assert.equal(done.location, '/shop/account');
      assert.equal(b.cookie('session')?.path, '/shop');
      const bills = await b.get('/shop/bills');
      assert.match(bills.text, /href="\/shop\/bills\/dave-0001\.pdf"/);
    } finally {
      await site.close();
    }
  });
});
