import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Account } from '@gleaner/contracts';
import { api, launchBrowser, screenshots, signIn, sites, startDemo } from './harness.js';

/** octocat's authenticator secret on the fake GitHub (public on purpose, like the account). */
const OCTOCAT_URI = 'otpauth://totp/GitHub:octocat?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&issuer=GitHub';

/** Records, in the page, whether the 2FA dialog opens at all (even for a moment) from now on. */
async function watchTwoFaDialog(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate(() => {
    const w = window as unknown as { twoFaDialogOpened: boolean };
    w.twoFaDialogOpened = false;
    new MutationObserver(() => {
      const dialog = document.querySelector<HTMLDialogElement>('[data-testid="twofa-dialog"]');
      if (dialog?.open) w.twoFaDialogOpened = true;
    }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['open'] });
  });
  return () => page.evaluate(() => (window as unknown as { twoFaDialogOpened: boolean }).twoFaDialogOpened);
}

void describe('Home: "Try a background run" runs as the scheduled run does, on the account page', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let shots: ReturnType<typeof screenshots>;

  before(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
    page = browser.page;
    shots = screenshots('background-run', page);
    await signIn(page, demo.url);
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  /** "Reset session", confirmed: the site's saved session is forgotten. */
  const forgetSession = async () => {
    await page.getByRole('button', { name: 'Reset session' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reset session' }).click();
    await page.getByText('The saved session was forgotten.').waitFor();
  };
  /** Presses "Try a background run" and waits for its end; it is disabled while the run goes on. */
  const tryBackgroundRun = async (accountId: string) => {
    const button = page.getByRole('button', { name: 'Try a background run' });
    await button.click();
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('button')).some(
        (b) => b.textContent === 'Try a background run' && b.disabled,
      ),
    );
    const outcome = page.getByTestId('background-try-outcome');
    await outcome.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[data-testid="background-try-outcome"]')?.getAttribute('data-tone') !== 'running',
      undefined,
      { timeout: 90_000 },
    );
    assert.equal(new URL(page.url()).pathname, `/accounts/${accountId}`, 'Home stays on the account page');
    assert.equal(await button.isEnabled(), true, 'enabled again once the run ended');
    return outcome;
  };

  void test('octocat with a stored authenticator secret: its session forgotten, a background run signs in with no dialog; without the secret, it stops saying a person is needed', async () => {
    const created = await api<Account>(page, 'POST', '/api/accounts', {
      konnector: 'github',
      fields: { login: 'octocat', password: 'octocat-password' },
    });
    assert.equal(created.status, 201);
    const accountId = created.body.id;
    await page.goto(`${demo.url}/accounts/${accountId}`);
    const codes = page.getByTestId('code-sources');
    await codes.getByLabel(/Authenticator secret/).fill(OCTOCAT_URI);
    await codes.getByRole('button', { name: 'Save the authenticator secret' }).click();
    await codes.locator('li[data-kind="app_code"]').waitFor();
    // The first run is a manual one (Run now): it learns what the site asks; the secret answers it.
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('All done.').waitFor({ timeout: 60_000 });
    await page.goto(`${demo.url}/accounts/${accountId}`);
    await page
      .getByTestId('session-health')
      .getByText(/^Saved/)
      .waitFor();

    await forgetSession();
    const dialogOpened = await watchTwoFaDialog(page);
    const outcome = await tryBackgroundRun(accountId);
    assert.equal(await outcome.getAttribute('data-tone'), 'ok', (await outcome.textContent()) ?? '');
    await outcome.getByText('Done, with nobody asked.').waitFor();
    await outcome.getByText(/^Code computed from the stored authenticator secret\. \d+ new files?\.$/).waitFor();
    assert.equal(await dialogOpened(), false, 'no 2FA dialog opened for the background run');
    await page
      .getByTestId('session-health')
      .getByText(/^Saved/)
      .waitFor();
    await shots.shot('authenticator-done');

    // The history says which runs were background, and the run's log how its code came.
    const history = page.getByTestId('job-history');
    const newest = history.locator('li.job').first();
    await newest
      .locator('.job-meta')
      .getByText(/^Background · /)
      .waitFor();
    assert.match((await history.locator('li.job').nth(1).locator('.job-meta').textContent()) ?? '', /^Manual · /);
    await newest.locator('summary').click();
    await newest
      .getByLabel('Run log')
      .getByText(/code computed from the stored authenticator secret/)
      .waitFor();

    // No source any more: the background run does not post the password, and says a person is needed.
    await codes.locator('li[data-kind="app_code"]').getByRole('button', { name: 'Remove' }).click();
    await codes.getByText('No code source yet').waitFor();
    await forgetSession();
    const stopped = await tryBackgroundRun(accountId);
    assert.equal(await stopped.getAttribute('data-tone'), 'error', (await stopped.textContent()) ?? '');
    await stopped.getByText('The background run stopped: Sign in again to renew the session.').waitFor();
    await stopped.getByText(/a scheduled run cannot sign in alone: the website wants a second step from you/).waitFor();
    assert.equal(await dialogOpened(), false, 'no 2FA dialog opened for the background run');
    await page.getByTestId('action-needed-banner').getByText('Sign in again to renew the session').waitFor();
    const last = history.locator('li.job').first();
    await last.locator('.job-what').getByText('Sign in again to renew the session').waitFor();
    await last
      .locator('.job-meta')
      .getByText(/^Background · /)
      .waitFor();
    const jobs = await api<{ mode: string; status: string; error: string | null }[]>(
      page,
      'GET',
      `/api/accounts/${accountId}/jobs`,
    );
    assert.deepEqual(
      jobs.body.map((j) => [j.mode, j.status, j.error]),
      [
        ['background', 'errored', 'USER_ACTION_NEEDED.TWOFA_EXPIRED'],
        ['background', 'done', null],
        ['manual', 'done', null],
      ],
    );
    await shots.shot('person-needed');
  });

  void test('Amazon bob with the demo mailbox set through the Codes form: Test says what it finds; his session forgotten, a background run reads the code from the mailbox', async () => {
    const { mailbox } = demo;
    const bob = 'bob@example.test';
    const appPassword = mailbox.users[bob];
    assert.ok(appPassword, `the demo mailbox has ${bob}`);
    // No wait before the fake Amazon's next code: a manual and a background sign-in follow at once here
    // (the budget of codes respects the site's resend wait, 30 s by default).
    await sites(demo.sitesUrl, '/amazon/_control/settings', { method: 'POST', body: { resendCooldownMs: 0 } });
    const created = await api<Account>(page, 'POST', '/api/accounts', {
      konnector: 'amazon',
      fields: { login: bob, password: 'bob-amazon-password' },
    });
    assert.equal(created.status, 201);
    const accountId = created.body.id;
    await page.goto(`${demo.url}/accounts/${accountId}`);
    const codes = page.getByTestId('code-sources');
    await codes.getByText('No code source yet').waitFor();

    // The demo's settings, typed as a person would (plain IMAP on 127.0.0.1: no TLS).
    await codes.getByLabel('Mailbox host').fill(mailbox.host);
    await codes.getByLabel('Mailbox port').fill(String(mailbox.port));
    await codes.getByLabel('Mailbox user').fill(bob);
    await codes.getByLabel('App password').fill(appPassword);
    await codes.getByLabel('TLS').uncheck();
    await codes.getByRole('button', { name: 'Connect the mailbox' }).click();
    const status = codes.getByRole('status');
    await status.getByText('Connected. No code e-mail from this site in the last 30 days.').waitFor();
    assert.equal(await codes.getByLabel('App password').inputValue(), '', 'the app password is not kept in the form');
    const item = codes.locator('li[data-kind="email"]');
    await item.getByText(`${bob} on ${mailbox.host}`).waitFor();
    await item.getByRole('button', { name: 'Test' }).click();
    await status.getByText('Mailbox: connected; no matching message in the last 30 days').waitFor();

    // The first run is a manual one (Run now): it learns what the site asks; the mailbox answers it.
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('All done.').waitFor({ timeout: 60_000 });
    await page.goto(`${demo.url}/accounts/${accountId}`);
    await item.getByRole('button', { name: 'Test' }).click();
    await status.getByText(/^Mailbox: connected; the last matching message arrived at .+/).waitFor();
    assert.doesNotMatch(
      (await status.textContent()) ?? '',
      /\d{4}-\d\d-\d\dT/,
      'the time is shown as a person reads it',
    );

    await forgetSession();
    const dialogOpened = await watchTwoFaDialog(page);
    const outcome = await tryBackgroundRun(accountId);
    assert.equal(await outcome.getAttribute('data-tone'), 'ok', (await outcome.textContent()) ?? '');
    await outcome.getByText('Done, with nobody asked.').waitFor();
    await outcome.getByText(/^Code read from your mailbox\. \d+ new files?\.$/).waitFor();
    assert.equal(await dialogOpened(), false, 'no 2FA dialog opened for the background run');
    const newest = page.getByTestId('job-history').locator('li.job').first();
    await newest
      .locator('.job-meta')
      .getByText(/^Background · /)
      .waitFor();
    await newest.locator('summary').click();
    await newest
      .getByLabel('Run log')
      .getByText(/code read from your mailbox/)
      .waitFor();
    await shots.shot('mailbox-done');
  });
});
