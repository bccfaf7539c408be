import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { GITHUB_OCTOCAT_TOTP_SECRET, GITHUB_USERS, startGithubSite, totpCode, type RunningSite } from '../src/index.js';
import { Browser, formAction, inputValue, pageName } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startGithubSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

async function postPassword(b: Browser, login: string, password: string) {
  const form = await b.get('/login');
  assert.equal(formAction(form.text, 'login'), '/session');
  return b.post('/session', { authenticity_token: inputValue(form.text, 'authenticity_token'), login, password });
}

async function toAppPage(b: Browser) {
  const posted = await postPassword(b, 'octocat', GITHUB_USERS.octocat.password);
  assert.equal(posted.status, 302);
  assert.equal(posted.location, '/sessions/two-factor/app');
  return b.get('/sessions/two-factor/app');
}

function otherCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

void describe('GitHub-like sign-in with an authenticator app', () => {
  void it('signs octocat in with the current TOTP code', async () => {
    const b = new Browser(site.url);
    const app = await toAppPage(b);
    assert.equal(pageName(app.text), 'two-factor-app');
    assert.match(app.text, /name="app_otp"/);
    const code = totpCode(GITHUB_OCTOCAT_TOTP_SECRET, site.control.clock.now());
    const done = await b.post(formAction(app.text, 'two-factor-form'), {
      authenticity_token: inputValue(app.text, 'authenticity_token'),
      app_otp: code,
    });
    assert.equal(done.status, 302);
    assert.equal(done.location, '/');
    assert.ok(b.cookie('user_session')?.httpOnly);
    const home = await b.get('/');
    assert.match(home.text, /<meta name="user-login" content="octocat">/);
    assert.equal(site.control.codesSent(), 0, 'an authenticator user gets no e-mail');
  });

  void it('accepts the code of the previous 30 s step, but not one two steps old', async () => {
    const b = new Browser(site.url);
    const app = await toAppPage(b);
    const token = inputValue(app.text, 'authenticity_token');
    const now = site.control.clock.now();
    const stale = totpCode(GITHUB_OCTOCAT_TOTP_SECRET, now - 90_000);
    const current = totpCode(GITHUB_OCTOCAT_TOTP_SECRET, now);
    if (stale !== current && stale !== totpCode(GITHUB_OCTOCAT_TOTP_SECRET, now - 30_000)) {
      const refused = await b.post('/sessions/two-factor', { authenticity_token: token, app_otp: stale });
      assert.match(refused.text, /data-error="wrong-code"/);
    }
    const previous = totpCode(GITHUB_OCTOCAT_TOTP_SECRET, now - 30_000);
    const ok = await b.post('/sessions/two-factor', { authenticity_token: token, app_otp: previous });
    assert.equal(ok.location, '/');
  });

  void it('refuses a code that was already used', async () => {
    const first = new Browser(site.url);
    const app = await toAppPage(first);
    const code = site.control.currentTotp('octocat');
    assert.equal(
      (
        await first.post('/sessions/two-factor', {
          authenticity_token: inputValue(app.text, 'authenticity_token'),
          app_otp: code,
        })
      ).location,
      '/',
    );
    const second = new Browser(site.url);
    const app2 = await toAppPage(second);
    const replay = await second.post('/sessions/two-factor', {
      authenticity_token: inputValue(app2.text, 'authenticity_token'),
      app_otp: code,
    });
    assert.equal(replay.status, 200);
    assert.match(replay.text, /Two-factor authentication failed\./);
    site.control.advance(30_000);
    const fresh = await second.post('/sessions/two-factor', {
      authenticity_token: inputValue(app2.text, 'authenticity_token'),
      app_otp: site.control.currentTotp('octocat'),
    });
    assert.equal(fresh.location, '/');
  });

  void it('answers a wrong password with the flash on a 200 page', async () => {
    const b = new Browser(site.url);
    const page = await postPassword(b, 'octocat', 'wrong');
    assert.equal(page.status, 200);
    assert.equal(pageName(page.text), 'login');
    assert.match(page.text, /Incorrect username or password\./);
  });

  void it('locks the login after 5 wrong codes until the lockout has passed on the site clock', async () => {
    const b = new Browser(site.url);
    const app = await toAppPage(b);
    const token = inputValue(app.text, 'authenticity_token');
    const bad = otherCode(site.control.currentTotp('octocat'));
    for (let i = 1; i <= 4; i++) {
      const page = await b.post('/sessions/two-factor', { authenticity_token: token, app_otp: bad });
      assert.match(page.text, /data-error="wrong-code"/, `attempt ${i}`);
    }
    const locked = await b.post('/sessions/two-factor', { authenticity_token: token, app_otp: bad });
    assert.match(locked.text, /data-error="locked"/);
    assert.match(locked.text, /Too many attempts\. Try again later\./);
    const relogin = await postPassword(new Browser(site.url), 'octocat', GITHUB_USERS.octocat.password);
    assert.match(relogin.text, /data-error="locked"/, 'the login itself is locked');
    site.control.advance(site.control.settings().lockoutMs);
    const fresh = new Browser(site.url);
    const page = await toAppPage(fresh);
    const ok = await fresh.post('/sessions/two-factor', {
      authenticity_token: inputValue(page.text, 'authenticity_token'),
      app_otp: site.control.currentTotp('octocat'),
    });
    assert.equal(ok.location, '/');
  });

  void it('honours a lockout threshold set through control', async () => {
    site.control.setLockoutThreshold(1);
    const b = new Browser(site.url);
    const app = await toAppPage(b);
    const page = await b.post('/sessions/two-factor', {
      authenticity_token: inputValue(app.text, 'authenticity_token'),
      app_otp: otherCode(site.control.currentTotp('octocat')),
    });
    assert.match(page.text, /data-error="locked"/);
  });
});
