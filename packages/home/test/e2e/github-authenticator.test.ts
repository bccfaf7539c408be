import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Account } from '@gleaner/contracts';
import {
  api,
  connectAccount,
  enterCode,
  githubTotp,
  launchBrowser,
  publish,
  screenshots,
  signIn,
  startDemo,
} from './harness.js';

void test('GitHub-like account with an authenticator: code asked, connected, receipts saved; a second run asks nothing; a background run that needs a code raises the banner and its button resolves it', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('github-authenticator', page);

  await signIn(page, demo.url);
  await shots.shot('accounts-empty');
  await page.getByRole('navigation').getByRole('link', { name: 'Add an account' }).click();
  await page.getByTestId('konnector-card').first().waitFor();
  await shots.shot('catalogue');

  // Connect: the konnector signs in and asks for the authenticator's code.
  const accountId = await connectAccount(page, demo.url, 'github', {
    login: 'octocat',
    password: 'octocat-password',
  });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  const input = dialog.getByTestId('twofa-code');
  assert.equal(await input.getAttribute('autocomplete'), 'one-time-code');
  assert.equal(await input.getAttribute('inputmode'), 'numeric');
  assert.match((await dialog.getByTestId('twofa-time-left').textContent()) ?? '', /^\d+:\d\d$/);
  assert.equal(await page.locator('[data-step="code"]').getAttribute('data-status'), 'active');
  publish(await shots.shot('twofa-dialog'), 'twofa-authenticator');

  // Typed (here: pasted with a space in the middle, as authenticator apps show it).
  const first = await githubTotp(demo.sitesUrl);
  await enterCode(page, `${first.slice(0, 3)} ${first.slice(3)}`);
  await page.getByTestId('connected').waitFor();
  assert.equal(await dialog.isVisible(), false, 'the dialog closed on success');
  await shots.shot('connected');

  // The receipts appear in the account once the run is done.
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  await page.getByRole('link', { name: 'See the account' }).click();
  await page.getByTestId('file-row').first().waitFor();
  const rows = await page.getByTestId('file-row').count();
  assert.ok(rows >= 1, `receipts listed (${rows})`);
  assert.match((await page.getByTestId('file-list').textContent()) ?? '', /\$|USD/);
  assert.equal((await page.getByTestId('status-badge').textContent())?.trim(), 'Up to date');
  publish(await shots.shot('account'), 'account');

  // A second run reuses the saved session: no dialog at all.
  await page.evaluate(() => {
    const w = window as unknown as { twoFaDialogOpened: boolean };
    w.twoFaDialogOpened = false;
    new MutationObserver(() => {
      if (document.querySelector('dialog[data-testid="twofa-dialog"][open]')) w.twoFaDialogOpened = true;
    }).observe(document.body, { subtree: true, attributes: true, childList: true });
  });
  await page.getByRole('button', { name: 'Run now' }).click();
  await page.waitForURL(/\/connecting$/);
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  assert.equal(
    await page.evaluate(() => (window as unknown as { twoFaDialogOpened: boolean }).twoFaDialogOpened),
    false,
    'no dialog on the second run',
  );
  assert.equal(await page.locator('[data-step="code"]').getAttribute('data-status'), 'skipped');
  await shots.shot('second-run-no-code');

  // A background run after the session was lost cannot ask anyone: it ends needing the person.
  assert.equal((await api(page, 'POST', `/api/accounts/${accountId}/reset-session`)).status, 200);
  const started = await api(page, 'POST', `/api/accounts/${accountId}/jobs`, { mode: 'background' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  await page.getByRole('navigation').getByRole('link', { name: 'Accounts' }).click();
  const banner = page.getByTestId('action-needed-banner');
  await banner.waitFor({ timeout: 60_000 });
  assert.match((await banner.textContent()) ?? '', /Sign in again to renew the session/);
  assert.equal(
    (await page.getByTestId('account-card').getByTestId('status-badge').textContent())?.trim(),
    'Sign in again to renew the session',
  );
  const account = (await api<Account>(page, 'GET', `/api/accounts/${accountId}`)).body;
  assert.equal(account.needsAction, true);
  assert.equal(account.lastJob?.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  publish(await shots.shot('action-needed'), 'action-needed');

  // One click: a manual run, the dialog, the code, and the banner is gone.
  await banner.getByRole('button', { name: 'Reconnect' }).click();
  await dialog.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  await shots.shot('reconnect-dialog');
  await enterCode(page, await githubTotp(demo.sitesUrl, 'octocat', first));
  await page.getByTestId('connected').waitFor();
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  await page.getByRole('navigation').getByRole('link', { name: 'Accounts' }).click();
  await page.getByTestId('account-card').waitFor();
  assert.equal(await banner.count(), 0, 'the banner is gone');
  assert.equal(
    (await page.getByTestId('account-card').getByTestId('status-badge').textContent())?.trim(),
    'Up to date',
  );
  await shots.shot('resolved');
});
