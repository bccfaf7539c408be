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

async function signInWithSms(b: Browser, remember: boolean) {
  const form = await b.get('/login');
  const posted = await b.post('/login', {
    _csrf: inputValue(form.text, '_csrf'),
    login: 'alice',
    password: 'alice-password',
  });
  if (posted.location !== '/2fa') return posted;
  const twofa = await b.get('/2fa');
  const fields: Record<string, string> = {
    _csrf: inputValue(twofa.text, '_csrf'),
    code: site.control.lastCode('alice') ?? '',
  };
  if (remember) fields.remember = 'on';
  return b.post('/2fa', fields);
}

void describe('test site sessions and remembered devices', () => {
  void it('redirects /account to /login once the session lifetime has passed on the site clock', async () => {
    site.control.setSessionLifetime(10 * 60_000);
    const b = new Browser(site.url);
    await signInWithSms(b, false);
    assert.equal((await b.get('/account')).status, 200);
    site.control.advance(9 * 60_000);
    assert.equal((await b.get('/account')).status, 200, 'still valid before the lifetime');
    site.control.advance(2 * 60_000);
    const expired = await b.get('/account');
    assert.equal(expired.status, 302);
    assert.equal(expired.location, `/login?return_to=${encodeURIComponent('/account')}`);
  });

  void it('skips 2FA on the next sign-in when "Remember this device" was ticked', async () => {
    const b = new Browser(site.url);
    await signInWithSms(b, true);
    const device = b.cookie('device');
    assert.ok(device?.httpOnly);
    b.cookies.delete('session');
    const again = await signInWithSms(b, false);
    assert.equal(again.location, '/account', 'straight to the account');
    assert.equal(site.control.codesSent('alice'), 1, 'no second code sent');
  });

  void it('asks for 2FA again once the device cookie lifetime has passed', async () => {
    site.control.setDeviceLifetime(24 * 3600_000);
    const b = new Browser(site.url);
    await signInWithSms(b, true);
    b.cookies.delete('session');
    site.control.advance(25 * 3600_000);
    const form = await b.get('/login');
    const posted = await b.post('/login', {
      _csrf: inputValue(form.text, '_csrf'),
      login: 'alice',
      password: 'alice-password',
    });
    assert.equal(posted.location, '/2fa');
    assert.equal(site.control.codesSent('alice'), 2);
  });

  void it('does not let a device remembered for alice skip 2FA for bob', async () => {
    const b = new Browser(site.url);
    await signInWithSms(b, true);
    b.cookies.delete('session');
    const form = await b.get('/login');
    const posted = await b.post('/login', {
      _csrf: inputValue(form.text, '_csrf'),
      login: 'bob',
      password: 'bob-password',
    });
    assert.equal(posted.location, '/2fa');
  });

  void it('ends the session on sign-out', async () => {
    const b = new Browser(site.url);
    await signInWithSms(b, false);
    const account = await b.get('/account');
    const out = await b.post('/logout', { _csrf: inputValue(account.text, '_csrf') });
    assert.equal(out.location, '/login');
    assert.equal((await b.get('/account')).status, 302);
  });
});
