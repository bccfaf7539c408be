import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAccount, enterCode, githubTotp, launchBrowser, screenshots, signIn, startDemo } from './harness.js';

const TWOFA_TIMEOUT_MS = 6_000;

void test('a code left unanswered until it expires: the dialog closes and "No answer in time" offers to reconnect', async (t) => {
  const demo = await startDemo({ twoFaTimeoutMs: TWOFA_TIMEOUT_MS });
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('twofa-expiry', page);

  await signIn(page, demo.url);
  await connectAccount(page, demo.url, 'github', {
    login: 'octocat',
    password: 'octocat-password',
  });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  const left = (await dialog.getByTestId('twofa-time-left').textContent()) ?? '';
  assert.match(left, /^0:0\d$/, `a short countdown (${left})`);
  await shots.shot('countdown');

  // Nobody answers: the dialog closes by itself and the error says what to do.
  await dialog.waitFor({ state: 'hidden', timeout: TWOFA_TIMEOUT_MS + 20_000 });
  const notice = page.getByTestId('error-notice');
  await notice.waitFor({ timeout: 20_000 });
  assert.equal(await notice.getAttribute('data-code'), 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  assert.match((await notice.textContent()) ?? '', /No answer in time/);
  assert.equal(await page.locator('[data-step="code"]').getAttribute('data-status'), 'error');
  await shots.shot('no-answer-in-time');

  // Reconnect starts a manual run that asks again; answering it connects.
  await notice.getByRole('button', { name: 'Reconnect' }).click();
  await dialog.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  await shots.shot('reconnect-dialog');
  await enterCode(page, await githubTotp(demo.sitesUrl));
  await page.getByTestId('connected').waitFor();
  await shots.shot('connected');
});
