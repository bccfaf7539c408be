import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GITHUB_USERS, startGithubSite, type RunningSite } from '../src/index.js';
import { Browser, formAction, inputValue, pageName } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startGithubSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

const DAY = 24 * 3600_000;

async function postPassword(b: Browser, returnTo?: string) {
  const form = await b.get(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login');
  const fields: Record<string, string> = {
    authenticity_token: inputValue(form.text, 'authenticity_token'),
    login: 'monalisa',
    password: GITHUB_USERS.monalisa.password,
  };
  if (returnTo) fields.return_to = inputValue(form.text, 'return_to');
  return b.post('/session', fields);
}

async function verifyDevice(b: Browser) {
  const page = await b.get('/sessions/verified-device');
  return b.post(formAction(page.text, 'device-verification-form'), {
    authenticity_token: inputValue(page.text, 'authenticity_token'),
    otp: site.control.lastCode('monalisa') ?? '',
  });
}

void describe('GitHub-like device verification', () => {
  void it('sends a code by e-mail for an unknown device and signs in with it', async () => {
    const b = new Browser(site.url);
    const posted = await postPassword(b);
    assert.equal(posted.location, '/sessions/verified-device');
    const page = await b.get('/sessions/verified-device');
    assert.equal(pageName(page.text), 'verified-device');
    assert.match(page.text, /name="otp"/);
    assert.match(page.text, /via email to m•+@example\.test/);
    const [mail] = site.control.outbox('monalisa');
    assert.equal(mail?.channel, 'email');
    assert.equal(mail?.to, 'monalisa@example.test');
    const done = await verifyDevice(b);
    assert.equal(done.location, '/');
    assert.ok(b.cookie('_device_id')?.httpOnly);
    assert.equal(b.cookie('logged_in')?.value, 'yes');
  });

  void it('skips device verification on a device it remembers', async () => {
    const b = new Browser(site.url);
    await postPassword(b);
    await verifyDevice(b);
    b.cookies.delete('user_session');
    const again = await postPassword(b);
    assert.equal(again.location, '/');
    assert.equal(site.control.codesSent('monalisa'), 1);
  });

  void it('forgets the device after the device-cookie lifetime (1 year by default)', async () => {
    const b = new Browser(site.url);
    await postPassword(b);
    await verifyDevice(b);
    b.cookies.delete('user_session');
    site.control.advance(364 * DAY);
    assert.equal((await postPassword(b)).location, '/', 'still known after 364 days');
    b.cookies.delete('user_session');
    site.control.advance(2 * DAY);
    assert.equal((await postPassword(b)).location, '/sessions/verified-device');
  });

  void it('refuses a wrong device code with a message, then locks after 5', async () => {
    const b = new Browser(site.url);
    await postPassword(b);
    const page = await b.get('/sessions/verified-device');
    const token = inputValue(page.text, 'authenticity_token');
    const bad = site.control.lastCode('monalisa') === '000000' ? '111111' : '000000';
    const wrong = await b.post('/sessions/verified-device', { authenticity_token: token, otp: bad });
    assert.equal(wrong.status, 200);
    assert.match(wrong.text, /data-error="wrong-code"/);
    for (let i = 0; i < 3; i++) await b.post('/sessions/verified-device', { authenticity_token: token, otp: bad });
    const locked = await b.post('/sessions/verified-device', { authenticity_token: token, otp: bad });
    assert.match(locked.text, /data-error="locked"/);
  });

  void it('expires the session after 2 weeks and redirects to /login?return_to=', async () => {
    const b = new Browser(site.url);
    await postPassword(b);
    await verifyDevice(b);
    assert.equal((await b.get('/settings/billing/payment_history')).status, 200);
    site.control.advance(14 * DAY + 1000);
    const expired = await b.get('/settings/billing/payment_history');
    assert.equal(expired.status, 302);
    assert.equal(expired.location, `/login?return_to=${encodeURIComponent('/settings/billing/payment_history')}`);
    const back = await postPassword(b, '/settings/billing/payment_history');
    assert.equal(back.location, '/settings/billing/payment_history', 'known device, straight back to the page');
  });

  void it('rejects a sign-in POST without the authenticity token (403)', async () => {
    const b = new Browser(site.url);
    await b.get('/login');
    const page = await b.post('/session', { login: 'monalisa', password: GITHUB_USERS.monalisa.password });
    assert.equal(page.status, 403);
    assert.equal(site.control.codesSent(), 0);
  });
});
