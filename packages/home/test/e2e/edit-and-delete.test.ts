import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Job } from '@gleaner/contracts';
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

void test('renaming saves without a new sign-in; deleting keeps the documents by default, listed on the accounts page and still downloadable', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('edit-and-delete', page);
  await signIn(page, demo.url);

  const id = await connectAccount(page, demo.url, 'github', { login: 'octocat', password: 'octocat-password' });
  await page.getByTestId('twofa-dialog').getByTestId('twofa-code').waitFor();
  await enterCode(page, await githubTotp(demo.sitesUrl));
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  const jobs = async () => (await api<Job[]>(page, 'GET', `/api/accounts/${id}/jobs`)).body;
  assert.equal((await jobs()).length, 1);

  // Rename: the button says Save (not "Save and reconnect"), and no run starts.
  await page.goto(`${demo.url}/accounts/${id}/edit`);
  const label = page.getByLabel(/Name for this account/);
  await label.fill('Work receipts');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(new RegExp(`/accounts/${id}$`));
  await page.locator('.account-label', { hasText: 'Work receipts' }).waitFor();
  assert.equal((await jobs()).length, 1, 'no new run, so no new code');
  assert.equal(await page.getByTestId('twofa-dialog').isVisible(), false);
  // Typing a new password turns the button into "Save and reconnect".
  await page.goto(`${demo.url}/accounts/${id}/edit`);
  await page.locator('input[name="password"]').fill('another-password');
  await page.getByRole('button', { name: 'Save and reconnect' }).waitFor();
  await page.locator('input[name="password"]').fill('');
  await page.getByRole('button', { name: 'Save', exact: true }).waitFor();

  // Delete: the confirmation says the documents are kept, and keeps them unless asked.
  await page.goto(`${demo.url}/accounts/${id}`);
  await page.getByTestId('file-row').first().waitFor();
  const rows = await page.getByTestId('file-row').count();
  await page.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.locator('dialog.confirm-dialog[open]');
  await confirm.getByText(/kept/).waitFor();
  assert.equal(await confirm.getByRole('checkbox').isChecked(), false, 'keeping is the default');
  publish(await shots.shot('delete-keeps'), 'delete-keeps-documents');
  await confirm.getByRole('button', { name: 'Delete account' }).click();
  await page.getByRole('heading', { name: 'Your accounts' }).waitFor();
  const kept = page.getByTestId('kept-account');
  await kept.waitFor();
  assert.match((await kept.textContent()) ?? '', /GitHub — Work receipts/);
  assert.equal(await kept.getByTestId('file-row').count(), rows, 'every document kept');
  publish(await shots.shot('kept-documents'), 'kept-documents');

  // Still downloadable, through the same link as before.
  const href = await kept
    .getByRole('link', { name: /^Download / })
    .first()
    .getAttribute('href');
  assert.ok(href);
  const download = await page.evaluate(async (url) => {
    const response = await fetch(url);
    return { status: response.status, size: (await response.arrayBuffer()).byteLength };
  }, href);
  assert.equal(download.status, 200);
  assert.ok(download.size > 0);

  // Deleting them is a choice of its own.
  await kept.getByRole('button', { name: 'Delete these documents' }).click();
  await page.locator('dialog.confirm-dialog[open]').getByRole('button', { name: 'Delete documents' }).click();
  await page.getByTestId('kept-documents').waitFor({ state: 'detached' });
  assert.equal(await page.evaluate(async (url) => (await fetch(url)).status, href), 404);
});
