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
  sites,
  startDemo,
} from './harness.js';

const DAY = 86_400_000;

void test('a session whose cookies expire in 2 days: Home shows "no code needed until" its date, and the warning to reconnect now', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('session-health', page);

  // The fake GitHub keeps its session, and remembers the device, for 2 days only.
  await sites(demo.sitesUrl, '/github/_control/settings', {
    method: 'POST',
    body: { sessionLifetimeMs: 2 * DAY, deviceLifetimeMs: 2 * DAY },
  });
  await signIn(page, demo.url);
  const id = await connectAccount(page, demo.url, 'github', { login: 'octocat', password: 'octocat-password' });
  await page
    .getByTestId('twofa-dialog')
    .getByRole('heading', { name: 'Enter the code from your authenticator app' })
    .waitFor();
  await enterCode(page, await githubTotp(demo.sitesUrl));
  await page.getByText('All done.').waitFor({ timeout: 60_000 });

  const account = (await api<Account>(page, 'GET', `/api/accounts/${id}`)).body;
  const lapses = Date.parse(account.sessionHealth?.sessionExpiresAt ?? '');
  assert.ok(
    Math.abs(lapses - (Date.now() + 2 * DAY)) < 5 * 60_000,
    `in 2 days: ${account.sessionHealth?.sessionExpiresAt}`,
  );
  const date = new Date(lapses).toLocaleDateString('en-GB', { day: 'numeric', month: 'long' });

  await page.goto(`${demo.url}/accounts/${id}`);
  const health = page.getByTestId('session-health');
  await health.waitFor();
  assert.equal((await health.textContent())?.trim(), `Saved · No code needed until ${date}`);
  const warning = page.getByTestId('session-warning');
  await warning.waitFor();
  assert.match(
    (await warning.textContent()) ?? '',
    new RegExp(`ask for a code again after ${date}\\. Reconnect now to avoid a code at 3 a\\.m\\.`),
  );
  assert.equal(await warning.getByRole('button', { name: 'Reconnect' }).isEnabled(), true);
  publish(await shots.shot('warning'), 'session-warning');

  // Renew before it lapses: a time the person will be here, an hour ahead.
  const at = await page.evaluate(() => {
    const d = new Date(Date.now() + 3_600_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  });
  await warning.getByLabel('Or renew it at a time you will be here').fill(at);
  await warning.getByRole('button', { name: 'Plan the renewal' }).click();
  await warning.getByTestId('renewal-planned').waitFor();
  const planned = (await api<Account>(page, 'GET', `/api/accounts/${id}`)).body.sessionHealth?.renewAt;
  assert.ok(planned && Math.abs(Date.parse(planned) - (Date.now() + 3_600_000)) < 2 * 60_000, `planned: ${planned}`);
  await shots.shot('renewal-planned');
  await warning.getByRole('button', { name: 'Cancel it' }).click();
  await warning.getByRole('button', { name: 'Plan the renewal' }).waitFor();
  assert.equal((await api<Account>(page, 'GET', `/api/accounts/${id}`)).body.sessionHealth?.renewAt, null);
});
