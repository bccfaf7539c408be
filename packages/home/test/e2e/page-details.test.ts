import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  api,
  connectAccount,
  enterCode,
  githubTotp,
  launchBrowser,
  screenshots,
  signIn,
  startDemo,
} from './harness.js';

void test('the details: page titles without the icon letter, "Run now" is a run, a too long name is refused with its limit, the same login twice is warned, the schedule says its weekday and zone', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser(390, 844);
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('page-details', page);
  await signIn(page, demo.url);

  // A label of 5 000 characters: the form says the limit instead of cutting it, and so does the API.
  await page.goto(`${demo.url}/add/github`);
  await page.locator('input[name="login"]').fill('octocat');
  await page.locator('input[name="password"]').fill('octocat-password');
  await page.getByLabel(/Name for this account/).fill('x'.repeat(5_000));
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('The name is at most 200 characters; this one has 5000.').waitFor();
  assert.equal((await page.getByLabel(/Name for this account/).inputValue()).length, 5_000, 'nothing was cut');
  const refused = await api<{ message: string }>(page, 'POST', '/api/accounts', {
    konnector: 'github',
    label: 'x'.repeat(5_000),
    fields: { login: 'octocat', password: 'octocat-password' },
  });
  assert.equal(refused.status, 422);
  assert.match(refused.body.message, /label: at most 200 characters/);
  await shots.shot('label-too-long');

  // A long name that fits wraps in the breadcrumb rather than widening the page.
  const id = await connectAccount(page, demo.url, 'github', {
    login: 'octocat',
    password: 'octocat-password',
    label: 'Receipts'.repeat(25),
  });
  assert.equal(await page.title(), 'Connecting GitHub · Gleaner', 'no icon letter in the title');
  await enterCode(page, await githubTotp(demo.sitesUrl));
  await page.getByText('All done.').waitFor({ timeout: 60_000 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page stays within the phone's width (${width} px)`);
  await shots.shot('long-label');

  await page.goto(`${demo.url}/accounts/${id}`);
  await page.getByRole('button', { name: 'Run now' }).waitFor();
  assert.equal(await page.title(), 'GitHub · Gleaner');
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await page.getByRole('button', { name: 'Run now' }).click();
  await page.getByRole('heading', { name: 'Running GitHub' }).waitFor();
  assert.equal(await page.title(), 'Running GitHub · Gleaner');
  await page.getByText('All done.').waitFor({ timeout: 60_000 });

  // The schedule: weekly runs name their day, and every time names the stack's zone.
  await page.goto(`${demo.url}/accounts/${id}`);
  const put = await api(page, 'PUT', `/api/accounts/${id}/trigger`, { frequency: 'weekly', time: '03:12' });
  assert.equal(put.status, 200);
  await page.reload();
  const summary = page.getByTestId('schedule-summary');
  await summary.waitFor();
  assert.match(
    (await summary.textContent()) ?? '',
    /^Every (Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day at 03:12 \([\w/+-]+ time\) · Next run: /,
  );
  await shots.shot('schedule');

  // The same login again: warned, with the way to the one that exists.
  await page.goto(`${demo.url}/add/github`);
  await page.locator('input[name="login"]').fill('octocat');
  await page.locator('input[name="password"]').fill('octocat-password');
  await page.getByRole('button', { name: 'Connect' }).click();
  const warning = page.getByTestId('duplicate-warning');
  await warning.waitFor();
  assert.match((await warning.textContent()) ?? '', /You already have this account/);
  assert.equal(
    (await api<unknown[]>(page, 'GET', '/api/accounts')).body.length,
    1,
    'nothing was created before the person chose',
  );
  await shots.shot('duplicate-warning');
  await warning.getByRole('link', { name: 'Open it' }).click();
  await page.waitForURL(new RegExp(`/accounts/${id}$`));
});
