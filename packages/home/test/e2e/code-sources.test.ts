import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Account } from '@gleaner/contracts';
import { api, launchBrowser, screenshots, signIn, sites, startDemo } from './harness.js';

/** octocat's authenticator secret on the fake GitHub (public on purpose, like the account). */
const OCTOCAT_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';

void test('Codes: the authenticator secret pasted in Home shows the code the app shows, answers a run with no dialog, tests and removes', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('code-sources', page);
  await signIn(page, demo.url);

  const created = await api<Account>(page, 'POST', '/api/accounts', {
    konnector: 'github',
    fields: { login: 'octocat', password: 'octocat-password' },
  });
  assert.equal(created.status, 201);
  const accountId = created.body.id;
  await page.goto(`${demo.url}/accounts/${accountId}`);
  const codes = page.getByTestId('code-sources');
  await codes.getByText('No code source yet').waitFor();

  const before = await sites<{ code: string }>(demo.sitesUrl, '/github/_control/totp/octocat');
  await codes
    .getByLabel(/Authenticator secret/)
    .fill(`otpauth://totp/GitHub:octocat?secret=${OCTOCAT_SECRET}&issuer=GitHub`);
  await codes.getByRole('button', { name: 'Save the authenticator secret' }).click();
  const status = codes.getByRole('status');
  await status.getByText(/Your authenticator app should show \d{6} now/).waitFor();
  const after = await sites<{ code: string }>(demo.sitesUrl, '/github/_control/totp/octocat');
  const shown = /show (\d{6}) now/.exec((await status.textContent()) ?? '')?.[1];
  assert.ok(
    shown === before.code || shown === after.code,
    `Home shows ${shown}, the app ${before.code} or ${after.code}`,
  );
  assert.equal(await codes.getByLabel(/Authenticator secret/).inputValue(), '', 'the secret is not kept in the form');
  await codes.locator('li[data-kind="app_code"]').getByText('GitHub').waitFor();
  await shots.shot('authenticator-set');

  // Run now: the stored secret answers, no dialog opens.
  await page.getByRole('button', { name: 'Run now' }).click();
  await page.waitForURL(/\/connecting$/);
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('twofa-dialog').isVisible(), false);

  await page.goto(`${demo.url}/accounts/${accountId}`);
  const item = codes.locator('li[data-kind="app_code"]');
  await item.getByRole('button', { name: 'Test' }).click();
  await status.getByText(/Authenticator app: the code your authenticator app shows now \(\d{6}\)/).waitFor();
  await item.getByRole('button', { name: 'Remove' }).click();
  await status.getByText('Authenticator app removed.').waitFor();
  await codes.getByText('No code source yet').waitFor();
  const listed = await api<unknown[]>(page, 'GET', `/api/accounts/${accountId}/code-sources`);
  assert.deepEqual(listed.body, []);
});
