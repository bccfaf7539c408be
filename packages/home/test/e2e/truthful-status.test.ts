import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { api, connectAccount, launchBrowser, publish, screenshots, signIn, startDemo } from './harness.js';

/** The person's phone: the fake outbox's newest pending notification, answered with `button`. */
async function answerOnPhone(page: Page, sitesUrl: string, button: 'Approve' | 'Deny'): Promise<void> {
  const phone = await page.context().newPage();
  await phone.goto(`${sitesUrl}/outbox`);
  const notification = phone.locator('li.approval[data-status="pending"]').first();
  await notification.waitFor();
  await notification.getByRole('button', { name: button }).click();
  await phone
    .locator(`li.approval[data-status="${button === 'Approve' ? 'approved' : 'denied'}"]`)
    .first()
    .waitFor();
  await phone.close();
}

void test('each end has its own words: Deny in the app says "denied, try again"; a waiting approval shows no banner and no active Reconnect; a background run that needed a person asks to sign in again, claiming no code', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('truthful-status', page);
  await signIn(page, demo.url);

  // 1. Denied in the provider's app.
  const amazon = await connectAccount(page, demo.url, 'amazon', {
    login: 'frank@example.test',
    password: 'frank-amazon-password',
  });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: /Approve the sign-in/ }).waitFor();
  await answerOnPhone(page, demo.sitesUrl, 'Deny');
  const notice = page.getByTestId('error-notice');
  await notice.waitFor();
  assert.equal(await notice.getAttribute('data-code'), 'USER_ACTION_NEEDED.TWOFA_DENIED');
  const said = (await notice.textContent()) ?? '';
  assert.match(said, /denied in the app/);
  assert.match(said, /try again/);
  assert.doesNotMatch(said, /Action needed on the website|Sign in there yourself/);
  publish(await shots.shot('denied'), 'status-denied');

  // 2. Reconnect: a new approval waits. It is no error to fix: no banner, and no button that would answer 409.
  await notice.getByRole('button', { name: 'Reconnect' }).click();
  await dialog.getByRole('heading', { name: /Approve the sign-in/ }).waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  await page.goto(demo.url);
  const card = page.locator(`[data-testid="account-card"][data-account-id="${amazon}"]`);
  await card.getByText('Waiting for your approval').waitFor();
  const listed = await api<{ needsAction: boolean }>(page, 'GET', `/api/accounts/${amazon}`);
  assert.equal(listed.body.needsAction, true, 'scheduled runs are still paused by the denial');
  assert.equal(await page.getByTestId('action-needed-banner').count(), 0, 'no banner while the approval waits');
  await shots.shot('waiting-list');
  await page.goto(`${demo.url}/accounts/${amazon}`);
  await page.getByTestId('status-badge').getByText('Waiting for your approval').waitFor();
  assert.equal(await page.getByTestId('action-needed-banner').count(), 0, 'no banner on the account page either');
  assert.equal(await page.getByRole('button', { name: 'Run now' }).isDisabled(), true, 'Run now waits for the run');
  await shots.shot('waiting-account');
  await answerOnPhone(page, demo.sitesUrl, 'Approve');
  await page
    .getByTestId('status-badge')
    .getByText(/Running|Up to date/)
    .waitFor();

  // 3. A scheduled run of an account whose site wants a second step: nobody is there, nobody is asked.
  const created = await api<{ id: string }>(page, 'POST', '/api/accounts', {
    konnector: 'github',
    label: 'Background',
    fields: { login: 'octocat', password: 'octocat-password' },
  });
  assert.equal(created.status, 201);
  const github = created.body.id;
  const started = await api<{ id: string }>(page, 'POST', `/api/accounts/${github}/jobs`, { mode: 'background' });
  assert.equal(started.status, 201);
  await page.goto(`${demo.url}/accounts/${github}`);
  const banner = page.getByTestId('action-needed-banner');
  await banner.waitFor();
  const bannerText = (await banner.textContent()) ?? '';
  assert.match(bannerText, /Sign in again to renew the session/);
  assert.doesNotMatch(bannerText, /code/i, 'a background run asked nobody for a code');
  assert.equal(await page.getByTestId('status-badge').textContent(), 'Sign in again to renew the session');
  const { body: jobs } = await api<
    { mode: string; error: string | null }[] | { jobs: { mode: string; error: string | null }[] }
  >(page, 'GET', `/api/accounts/${github}/jobs`);
  const list = Array.isArray(jobs) ? jobs : jobs.jobs;
  assert.deepEqual(
    list.map((job) => [job.mode, job.error]),
    [['background', 'USER_ACTION_NEEDED.TWOFA_EXPIRED']],
  );
  publish(await shots.shot('renew-session'), 'status-renew-session');
});
