import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue, pageName } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function toTwoFa(b: Browser, login: string) {
  const form = await b.get('/login');
  await b.post('/login', { _csrf: inputValue(form.text, '_csrf'), login, password: `${login}-password` });
  return b.get('/2fa');
}

function wrongCode(real: string): string {
  return real === '000000' ? '111111' : '000000';
}

void describe('test site wrong codes', () => {
  void it('shows the 2FA page again with a wrong-code marker, then accepts the right code', async () => {
    const b = new Browser(site.url);
    const twofa = await toTwoFa(b, 'alice');
    const code = site.control.lastCode('alice') ?? '';
    const wrong = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: wrongCode(code) });
    assert.equal(wrong.status, 200);
    assert.equal(pageName(wrong.text), 'twofa');
    assert.match(wrong.text, /data-error="wrong-code"/);
    const right = await b.post('/2fa', { _csrf: inputValue(wrong.text, '_csrf'), code });
    assert.equal(right.location, '/account');
  });

  void it('locks the login after N wrong codes, even for the right code, until the lockout ends', async () => {
    site.control.setLockoutThreshold(3);
    const b = new Browser(site.url);
    const twofa = await toTwoFa(b, 'bob');
    const csrf = inputValue(twofa.text, '_csrf');
    const code = site.control.lastCode('bob') ?? '';
    for (let i = 0; i < 2; i++) {
      const page = await b.post('/2fa', { _csrf: csrf, code: wrongCode(code) });
      assert.match(page.text, /data-error="wrong-code"/);
    }
    const locked = await b.post('/2fa', { _csrf: csrf, code: wrongCode(code) });
    assert.match(locked.text, /data-error="locked"/);
    assert.match(locked.text, /Too many attempts/);
    const stillLocked = await b.post('/2fa', { _csrf: csrf, code });
    assert.match(stillLocked.text, /data-error="locked"/, 'the right code does not unlock');
    const other = new Browser(site.url);
    const otherForm = await other.get('/login');
    const again = await other.post('/login', {
      _csrf: inputValue(otherForm.text, '_csrf'),
      login: 'bob',
      password: 'bob-password',
    });
    assert.match(again.text, /data-error="locked"/, 'a fresh sign-in is locked too');
    site.control.advance(site.control.settings().lockoutMs + 1000);
    const fresh = new Browser(site.url);
    await toTwoFa(fresh, 'bob');
    const page = await fresh.get('/2fa');
    const ok = await fresh.post('/2fa', {
      _csrf: inputValue(page.text, '_csrf'),
      code: site.control.lastCode('bob') ?? '',
    });
    assert.equal(ok.location, '/account');
  });

  void it('expires an SMS code after 5 minutes of site clock and sends a new one', async () => {
    const b = new Browser(site.url);
    const twofa = await toTwoFa(b, 'alice');
    const old = site.control.lastCode('alice') ?? '';
    site.control.advance(5 * 60_000 + 1);
    const page = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: old });
    assert.match(page.text, /data-error="expired-code"/);
    assert.equal(site.control.codesSent('alice'), 2);
    const ok = await b.post('/2fa', {
      _csrf: inputValue(page.text, '_csrf'),
      code: site.control.lastCode('alice') ?? '',
    });
    assert.equal(ok.location, '/account');
  });

  void it('accepts a fresh code after "send a new code"', async () => {
    const b = new Browser(site.url);
    const twofa = await toTwoFa(b, 'alice');
    const first = site.control.lastCode('alice');
    const resent = await b.post('/2fa/resend', { _csrf: inputValue(twofa.text, '_csrf') });
    assert.equal(resent.location, '/2fa');
    assert.equal(site.control.codesSent('alice'), 2);
    const second = site.control.lastCode('alice') ?? '';
    if (second !== first) {
      const stale = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: first ?? '' });
      assert.match(stale.text, /data-error="wrong-code"/, 'the replaced code no longer works');
    }
    const ok = await b.post('/2fa', { _csrf: inputValue(twofa.text, '_csrf'), code: second });
    assert.equal(ok.location, '/account');
  });
});
