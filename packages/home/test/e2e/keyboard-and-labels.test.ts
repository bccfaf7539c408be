import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ADMIN_PASSWORD, githubTotp, launchBrowser, screenshots, startDemo, unlabelled } from './harness.js';

/** Presses Tab until the focused element matches `accessibleText` (its text or label), as a keyboard user would. */
async function tabTo(page: Page, accessibleText: RegExp, most = 40): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < most; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return '';
      const labels = (el as HTMLInputElement).labels;
      const label = labels && labels.length ? Array.from(labels, (l) => l.textContent ?? '').join(' ') : '';
      return `${el.getAttribute('aria-label') ?? ''} ${label} ${el.textContent ?? ''}`.replace(/\s+/g, ' ').trim();
    });
    seen.push(focused);
    if (accessibleText.test(focused)) return;
  }
  throw new Error(`Tab never reached ${accessibleText}; focus went through: ${seen.join(' | ')}`);
}

void test('keyboard only: sign in, add a GitHub account, type the authenticator code; every input on the way has a label', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('keyboard', page);

  await page.goto(demo.url);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.deepEqual(await unlabelled(page), [], 'sign-in page');
  await tabTo(page, /Admin password/);
  await page.keyboard.type(ADMIN_PASSWORD);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Your accounts' }).waitFor();

  await tabTo(page, /^Add an account$/);
  await page.keyboard.press('Enter');
  await page.getByTestId('konnector-card').first().waitFor();
  await tabTo(page, /GitHub/);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Connect' }).waitFor();
  assert.deepEqual(await unlabelled(page), [], 'add-account form');

  await tabTo(page, /Username or email address/);
  await page.keyboard.type('octocat');
  await tabTo(page, /^Password/);
  await page.keyboard.type('octocat-password');
  await shots.shot('form-filled');
  await page.keyboard.press('Enter');

  // The dialog takes the focus: the code can be typed at once.
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
  assert.deepEqual(await unlabelled(page), [], '2FA dialog');
  const focusedIsCode = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'twofa-code');
  assert.ok(focusedIsCode, 'the code input has the focus when the dialog opens');
  await page.keyboard.type(await githubTotp(demo.sitesUrl));
  await page.keyboard.press('Enter');
  await page.getByTestId('connected').waitFor();
  await shots.shot('connected');
  assert.deepEqual(await unlabelled(page), [], 'connecting page');
});
