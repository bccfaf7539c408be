import assert from 'node:assert/strict';
import { after, before, beforeEach, it } from 'node:test';
import { AMAZON_USERS, startAmazonSite, type RunningSite } from '../src/index.js';
import { Browser, inputValue, pageName, type Page } from './support/browser.js';

let site: RunningSite;
before(async () => {
  site = await startAmazonSite();
});
after(() => site.close());
beforeEach(() => site.control.reset());

const tokens = (page: Page): Record<string, string> => ({
  appActionToken: inputValue(page.text, 'appActionToken'),
  workflowState: inputValue(page.text, 'workflowState'),
});
const attr = (page: Page, name: string): string | undefined => new RegExp(`${name}="([^"]*)"`).exec(page.text)?.[1];
/** Whole seconds left, floored by the site while real time runs on: `full` or one less. */
const about = (value: string | undefined, full: number): boolean =>
  value === String(full) || value === String(full - 1);

/** alice up to the code page, her OTP sent by SMS. */
async function codePage(b: Browser): Promise<Page> {
  const alice = AMAZON_USERS.alice;
  const email = await b.get('/ap/signin');
  const password = await b.post('/ap/signin', { ...tokens(email), email: alice.login });
  await b.post('/ap/signin', { ...tokens(password), email: alice.login, password: alice.password });
  const choose = await b.get('/ap/cvf/request');
  await b.post('/ap/cvf/request', { ...tokens(choose), otpDeviceContext: 'sms' });
  return b.get('/ap/mfa');
}

void it('the code page says where the OTP went, how long it lives, the attempts left and when a new one may be asked; a wrong code keeps the lifetime', async () => {
  const b = new Browser(site.url);
  const mfa = await codePage(b);
  assert.equal(pageName(mfa.text), 'mfa');
  assert.equal(attr(mfa, 'data-otp-destination'), '+33 6 •• •• •• 78');
  assert.ok(about(attr(mfa, 'data-code-expires-in'), 600));
  assert.equal(attr(mfa, 'data-attempts-left'), '5');
  assert.equal(attr(mfa, 'data-resend-wait-seconds'), '30');
  assert.match(mfa.text, /value="email"> Email me at a••••@example\.test/);

  site.control.advance(20_000);
  const wrong = await b.post('/ap/mfa', {
    ...tokens(mfa),
    otpCode: '000000' === site.control.lastCode() ? '111111' : '000000',
  });
  assert.equal(attr(wrong, 'data-attempts-left'), '4', 'the lockout counter, as the site reports it');
  assert.ok(about(attr(wrong, 'data-code-expires-in'), 580), 'the same code, 20 s older');
  assert.equal(attr(wrong, 'data-resend-wait-seconds'), '10');
});

void it('Resend OTP: refused (429) during the cooldown, then sent by the method picked', async () => {
  const b = new Browser(site.url);
  const mfa = await codePage(b);
  const early = await b.post('/ap/mfa/resend', { ...tokens(mfa), otpDeviceContext: 'email' });
  assert.equal(early.status, 429);
  assert.match(early.text, /data-error="resend-too-soon"/);
  assert.match(early.text, /You can ask for a new OTP in 30 seconds\./);
  assert.equal(site.control.codesSent(), 1);

  site.control.advance(30_000);
  const sent = await b.post('/ap/mfa/resend', { ...tokens(mfa), otpDeviceContext: 'email' });
  assert.equal(sent.location, '/ap/mfa');
  const [latest] = site.control.outbox();
  assert.equal(latest?.channel, 'email');
  const again = await b.get('/ap/mfa');
  assert.equal(attr(again, 'data-otp-channel'), 'email');
  assert.equal(attr(again, 'data-otp-destination'), 'a••••@example.test');
  assert.ok(about(attr(again, 'data-code-expires-in'), 600), 'a new code, a new lifetime');
  const done = await b.post('/ap/mfa', { ...tokens(again), otpCode: latest?.code ?? '' });
  assert.equal(done.location, '/');
});
