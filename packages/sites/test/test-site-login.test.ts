import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestSite, TEST_SITE_TOTP_SECRET, TEST_SITE_USERS, totpCode, type RunningSite } from '../src/index.js';
import { Browser, formAction, inputValue, pageName } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function signIn(b: Browser, login: string, password: string) {
  const form = await b.get('/login');
  return b.post(formAction(form.text, 'login-form'), { _csrf: inputValue(form.text, '_csrf'), login, password });
}

void describe('test site sign-in', () => {
  void it('signs alice in with a code sent by SMS to the outbox', async () => {
    const b = new Browser(site.url);
    const posted = await signIn(b, 'alice', TEST_SITE_USERS.alice.password);
    assert.equal(posted.status, 303);
    assert.equal(posted.location, '/2fa');
    const twofa = await b.get('/2fa');
    assert.equal(pageName(twofa.text), 'twofa');
    assert.match(twofa.text, /data-twofa-method="sms"/);
    assert.match(twofa.text, /ending in •••• 78/);
    const [message] = site.control.outbox('alice');
    assert.ok(message);
    assert.equal(message.channel, 'sms');
    assert.equal(message.to, TEST_SITE_USERS.alice.phone);
    assert.match(message.code, /^\d{6}$/);
    const done = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: message.code });
    assert.equal(done.status, 303);
    assert.equal(done.location, '/account');
    const account = await b.get('/account', 'application/json');
    assert.equal(account.status, 200);
    assert.match(account.contentType, /^application\/json/);
    assert.deepEqual(JSON.parse(account.text), { login: 'alice', name: 'Alice', email: 'alice@example.test' });
    const session = b.cookie('session');
    assert.ok(session?.httpOnly, 'session cookie is httpOnly');
    assert.equal(session.path, '/');
  });

  void it('signs bob in with a code sent by e-mail, listed in /outbox.json', async () => {
    const b = new Browser(site.url);
    await signIn(b, 'bob', TEST_SITE_USERS.bob.password);
    const twofa = await b.get('/2fa');
    assert.match(twofa.text, /data-twofa-method="email"/);
    const outbox = (await (await fetch(`${site.url}/outbox.json`)).json()) as {
      to: string;
      channel: string;
      code: string;
      site: string;
      sentAt: string;
    }[];
    assert.equal(outbox.length, 1);
    const [mail] = outbox;
    assert.ok(mail);
    assert.equal(mail.channel, 'email');
    assert.equal(mail.to, 'bob@example.test');
    assert.equal(mail.site, 'test');
    assert.ok(!Number.isNaN(Date.parse(mail.sentAt)));
    const done = await b.postFollow('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: mail.code });
    assert.equal(pageName(done.text), 'account');
    assert.match(done.text, /data-login="bob"/);
    assert.equal(site.control.codesSent('bob'), 1);
  });

  void it('signs carol in with a code from her authenticator app', async () => {
    const b = new Browser(site.url);
    await signIn(b, 'carol', TEST_SITE_USERS.carol.password);
    const twofa = await b.get('/2fa');
    assert.match(twofa.text, /data-twofa-method="totp"/);
    assert.match(twofa.text, /authenticator app/);
    const code = totpCode(TEST_SITE_TOTP_SECRET, site.control.clock.now());
    assert.equal(code, site.control.currentTotp('carol'));
    const done = await b.postFollow('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code });
    assert.match(done.text, /data-login="carol"/);
    assert.equal(site.control.codesSent(), 0, 'no code is sent to an authenticator user');
  });

  void it('signs dave in without 2FA', async () => {
    const b = new Browser(site.url);
    const posted = await signIn(b, 'dave', TEST_SITE_USERS.dave.password);
    assert.equal(posted.location, '/account');
    assert.equal((await b.get('/account')).status, 200);
  });

  void it('refuses a wrong password with a marker and no session', async () => {
    const b = new Browser(site.url);
    const page = await signIn(b, 'alice', 'nope');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-error="bad-credentials"/);
    assert.equal(b.cookie('session'), undefined);
    assert.equal(site.control.codesSent(), 0);
  });

  void it('goes back to the page asked for before sign-in (return_to)', async () => {
    const b = new Browser(site.url);
    const bounced = await b.get('/bills');
    assert.equal(bounced.status, 302);
    assert.equal(bounced.location, `/login?return_to=${encodeURIComponent('/bills')}`);
    const form = await b.get(bounced.location);
    const done = await b.post('/login', {
      _csrf: inputValue(form.text, '_csrf'),
      return_to: inputValue(form.text, 'return_to'),
      login: 'dave',
      password: 'dave-password',
    });
    assert.equal(done.location, '/bills');
  });

  void it('does not follow a return_to that leaves the site', async () => {
    const b = new Browser(site.url);
    const form = await b.get('/login');
    const done = await b.post('/login', {
      _csrf: inputValue(form.text, '_csrf'),
      return_to: '//evil.example/',
      login: 'dave',
      password: 'dave-password',
    });
    assert.equal(done.location, '/account');
  });
});
