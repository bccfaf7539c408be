import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AMAZON_CAROL_TOTP_SECRET, AMAZON_USERS, startAmazonSite, totpCode, type RunningSite } from '../src/index.js';
import { Browser, inputValue, pageName, type Page } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startAmazonSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

type Person = (typeof AMAZON_USERS)[keyof typeof AMAZON_USERS];

function tokens(page: Page): Record<string, string> {
  return {
    appActionToken: inputValue(page.text, 'appActionToken'),
    workflowState: inputValue(page.text, 'workflowState'),
  };
}

/** Email step then password step; returns the answer to the password POST. */
async function signIn(b: Browser, who: Person, opts: { rememberMe?: boolean; password?: string } = {}): Promise<Page> {
  const emailPage = await b.get('/ap/signin');
  assert.equal(pageName(emailPage.text), 'signin-email');
  const passwordPage = await b.post('/ap/signin', { ...tokens(emailPage), email: who.login });
  assert.equal(pageName(passwordPage.text), 'signin-password');
  assert.match(passwordPage.text, /id="ap_password"/);
  const fields: Record<string, string> = {
    ...tokens(passwordPage),
    email: who.login,
    password: opts.password ?? who.password,
  };
  if (opts.rememberMe) fields.rememberMe = 'true';
  return b.post('/ap/signin', fields);
}

async function chooseChannel(b: Browser, channel: 'sms' | 'email'): Promise<Page> {
  const choose = await b.get('/ap/cvf/request');
  assert.equal(pageName(choose.text), 'otp-choose');
  const sent = await b.post('/ap/cvf/request', { ...tokens(choose), otpDeviceContext: channel });
  assert.equal(sent.location, '/ap/mfa');
  return b.get('/ap/mfa');
}

void describe('Amazon-like sign-in and two-step verification', () => {
  void it('signs dave (no 2FA) in after the email and password steps', async () => {
    const b = new Browser(site.url);
    const done = await signIn(b, AMAZON_USERS.dave);
    assert.equal(done.status, 302);
    assert.equal(done.location, '/');
    const home = await b.get('/');
    assert.match(home.text, /Hello, Dave/);
  });

  void it('lets alice choose SMS, shows masked destinations, and signs in with the texted OTP', async () => {
    const b = new Browser(site.url);
    const posted = await signIn(b, AMAZON_USERS.alice);
    assert.equal(posted.location, '/ap/cvf/request');
    const choose = await b.get('/ap/cvf/request');
    assert.match(choose.text, /name="otpDeviceContext" value="sms" checked/);
    assert.match(choose.text, /Text me at •••• 78/);
    assert.match(choose.text, /Email me at a•+@example\.test/);
    assert.ok(!choose.text.includes('12 34 56 78'), 'the full phone number is not shown');
    const mfa = await chooseChannel(b, 'sms');
    assert.match(mfa.text, /id="auth-mfa-form"/);
    assert.match(mfa.text, /data-otp-channel="sms"/);
    const [sms] = site.control.outbox();
    assert.equal(sms?.channel, 'sms');
    assert.equal(sms?.to, AMAZON_USERS.alice.phone);
    const done = await b.post('/ap/mfa', { ...tokens(mfa), otpCode: sms?.code ?? '' });
    assert.equal(done.location, '/');
    assert.ok(b.cookie('at-main')?.httpOnly);
  });

  void it('sends bob his OTP by e-mail when he picks e-mail', async () => {
    const b = new Browser(site.url);
    await signIn(b, AMAZON_USERS.bob);
    const mfa = await chooseChannel(b, 'email');
    assert.match(mfa.text, /data-otp-channel="email"/);
    assert.equal(site.control.outbox()[0]?.channel, 'email');
    const done = await b.post('/ap/mfa', { ...tokens(mfa), otpCode: site.control.lastCode() ?? '' });
    assert.equal(done.location, '/');
  });

  void it('sends carol straight to the code page with authenticator instructions', async () => {
    const b = new Browser(site.url);
    const posted = await signIn(b, AMAZON_USERS.carol);
    assert.equal(posted.location, '/ap/mfa');
    const mfa = await b.get('/ap/mfa');
    assert.match(mfa.text, /id="auth-mfa-form"/);
    assert.match(mfa.text, /authenticator app/);
    const done = await b.post('/ap/mfa', {
      ...tokens(mfa),
      otpCode: totpCode(AMAZON_CAROL_TOTP_SECRET, site.control.clock.now()),
    });
    assert.equal(done.location, '/');
    assert.equal(site.control.codesSent(), 0);
  });

  void it('shows an error box for a wrong code, then locks after N', async () => {
    site.control.setLockoutThreshold(2);
    const b = new Browser(site.url);
    await signIn(b, AMAZON_USERS.alice);
    const mfa = await chooseChannel(b, 'sms');
    const bad = site.control.lastCode() === '000000' ? '111111' : '000000';
    const wrong = await b.post('/ap/mfa', { ...tokens(mfa), otpCode: bad });
    assert.equal(wrong.status, 200);
    assert.match(wrong.text, /id="auth-error-message-box"/);
    assert.match(wrong.text, /The code you entered is not valid/);
    assert.match(wrong.text, /id="auth-mfa-form"/);
    const locked = await b.post('/ap/mfa', { ...tokens(wrong), otpCode: bad });
    assert.match(locked.text, /data-error="locked"/);
    const stillLocked = await b.post('/ap/mfa', { ...tokens(wrong), otpCode: site.control.lastCode() ?? '' });
    assert.match(stillLocked.text, /data-error="locked"/);
  });

  void it('refuses a wrong password and an unknown e-mail with an error box', async () => {
    const b = new Browser(site.url);
    const page = await signIn(b, AMAZON_USERS.dave, { password: 'nope' });
    assert.equal(page.status, 200);
    assert.match(page.text, /Your password is incorrect/);
    const emailPage = await b.get('/ap/signin');
    const unknown = await b.post('/ap/signin', { ...tokens(emailPage), email: 'nobody@example.test' });
    assert.match(unknown.text, /data-error="unknown-email"/);
  });

  void it('skips the OTP on a browser remembered with "Don\'t require OTP on this browser"', async () => {
    const b = new Browser(site.url);
    await signIn(b, AMAZON_USERS.alice);
    const mfa = await chooseChannel(b, 'sms');
    await b.post('/ap/mfa', { ...tokens(mfa), otpCode: site.control.lastCode() ?? '', rememberDevice: 'true' });
    b.cookies.delete('at-main');
    const again = await signIn(b, AMAZON_USERS.alice);
    assert.equal(again.location, '/');
    assert.equal(site.control.codesSent(), 1);
  });

  void it('keeps a "Keep me signed in" session longer than a plain one', async () => {
    const plain = new Browser(site.url);
    await signIn(plain, AMAZON_USERS.dave);
    const kept = new Browser(site.url);
    await signIn(kept, AMAZON_USERS.dave, { rememberMe: true });
    site.control.advance(2 * 3600_000);
    assert.equal((await plain.get('/gp/css/order-history')).status, 302, 'plain session ended after an hour');
    assert.equal((await kept.get('/gp/css/order-history')).status, 200, 'kept session lives on');
    site.control.configure({ longSessionLifetimeMs: 3 * 3600_000 });
    site.control.advance(3600_000);
    const gone = await kept.get('/gp/css/order-history');
    assert.equal(gone.status, 302);
    assert.equal(gone.location, `/ap/signin?return_to=${encodeURIComponent('/gp/css/order-history')}`);
  });

  void it('rejects a password POST without the appActionToken (403)', async () => {
    const b = new Browser(site.url);
    const emailPage = await b.get('/ap/signin');
    const passwordPage = await b.post('/ap/signin', { ...tokens(emailPage), email: AMAZON_USERS.dave.login });
    const res = await b.post('/ap/signin', {
      workflowState: inputValue(passwordPage.text, 'workflowState'),
      email: AMAZON_USERS.dave.login,
      password: AMAZON_USERS.dave.password,
    });
    assert.equal(res.status, 403);
  });
});

void describe('Amazon-like captcha', () => {
  void it('asks erin to type the word shown before the password step', async () => {
    const b = new Browser(site.url);
    const emailPage = await b.get('/ap/signin');
    const captcha = await b.post('/ap/signin', { ...tokens(emailPage), email: AMAZON_USERS.erin.login });
    assert.equal(pageName(captcha.text), 'captcha');
    assert.match(captcha.text, /id="auth-captcha-guess"/);
    const word = /id="auth-captcha-word"[^>]*>([A-Z]+)</.exec(captcha.text)?.[1] ?? '';
    assert.match(word, /^[A-Z]{6}$/);
    const wrong = await b.post('/ap/signin', { ...tokens(captcha), guess: 'nope' });
    assert.equal(pageName(wrong.text), 'captcha');
    assert.match(wrong.text, /data-error="wrong-captcha"/);
    const word2 = /id="auth-captcha-word"[^>]*>([A-Z]+)</.exec(wrong.text)?.[1] ?? '';
    const passwordPage = await b.post('/ap/signin', { ...tokens(wrong), guess: word2.toLowerCase() });
    assert.equal(pageName(passwordPage.text), 'signin-password');
    const done = await b.post('/ap/signin', {
      ...tokens(passwordPage),
      email: AMAZON_USERS.erin.login,
      password: AMAZON_USERS.erin.password,
    });
    assert.equal(done.location, '/');
  });

  void it('asks everyone when the control switch is on', async () => {
    site.control.configure({ captcha: true });
    const b = new Browser(site.url);
    const emailPage = await b.get('/ap/signin');
    const page = await b.post('/ap/signin', { ...tokens(emailPage), email: AMAZON_USERS.dave.login });
    assert.match(page.text, /id="auth-captcha-guess"/);
  });

  void it('asks frank to approve a notification: the poll says pending until he approves on his phone, then he is signed in', async () => {
    const b = new Browser(site.url);
    const posted = await signIn(b, AMAZON_USERS.frank);
    assert.equal(posted.location, '/ap/cvf/approval');
    const approval = await b.get('/ap/cvf/approval');
    assert.equal(pageName(approval.text), 'approval');
    assert.deepEqual(JSON.parse((await b.get('/ap/cvf/approval/poll')).text), { status: 'pending' });
    const early = await b.post('/ap/cvf/approval', tokens(approval));
    assert.match(early.text, /not been approved yet/);

    const [request] = site.control.approvals(AMAZON_USERS.frank.login);
    assert.equal(request?.status, 'pending');
    const answered = await fetch(`${site.url}/outbox/approvals/${request?.id}/approve`, {
      method: 'POST',
      headers: { accept: 'application/json' },
    });
    assert.equal(answered.status, 200);
    assert.deepEqual(JSON.parse((await b.get('/ap/cvf/approval/poll')).text), { status: 'approved' });
    const done = await b.post('/ap/cvf/approval', tokens(early));
    assert.equal(done.status, 302);
    assert.match((await b.get('/')).text, /Hello, Frank/);
  });

  void it('a denied notification is sent again; a second answer to the same one is refused', async () => {
    const b = new Browser(site.url);
    await signIn(b, AMAZON_USERS.frank);
    const approval = await b.get('/ap/cvf/approval');
    const [first] = site.control.approvals(AMAZON_USERS.frank.login);
    assert.ok(site.control.answerApproval(first?.id ?? '', false));
    assert.equal(site.control.answerApproval(first?.id ?? '', true), false, 'answered once only');
    const again = await b.post('/ap/cvf/approval', tokens(approval));
    assert.match(again.text, /was denied\. We sent a new one/);
    assert.equal(site.control.approvals(AMAZON_USERS.frank.login).length, 2);
  });
});
