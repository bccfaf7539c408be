import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAccount, launchBrowser, publish, screenshots, signIn, startDemo } from './harness.js';

void test('Amazon-like account that approves in its app: the dialog has no input, only a cancel button; approving on the phone connects', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('amazon-app-approval', page);

  await signIn(page, demo.url);
  await connectAccount(page, demo.url, 'amazon', {
    login: 'frank@example.test',
    password: 'frank-amazon-password',
  });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Approve the sign-in in the Amazon app' }).waitFor();
  assert.equal(await dialog.locator('input').count(), 0, 'nothing to type');
  await dialog.getByRole('button', { name: /Cancel/ }).waitFor();
  publish(await shots.shot('approval-dialog'), 'twofa-app-approval');

  // The person's phone: the outbox page shows the notification; they tap Approve.
  const phone = await browser.context.newPage();
  await phone.goto(`${demo.sitesUrl}/outbox`);
  const notification = phone.locator('li.approval[data-status="pending"]').first();
  await notification.waitFor();
  await shots.shot('phone-notification', phone);
  await notification.getByRole('button', { name: 'Approve' }).click();
  await phone.locator('li.approval[data-status="approved"]').first().waitFor();
  await phone.close();

  // The konnector sees the approval: the dialog closes by itself and the account connects.
  await page.getByTestId('connected').waitFor();
  assert.equal(await dialog.isVisible(), false);
  await shots.shot('connected');
});
