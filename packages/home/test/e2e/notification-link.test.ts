import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Page } from 'playwright-core';
import { api, launchBrowser, publish, screenshots, signIn, startDemo } from './harness.js';

/** A real SMTP server on 127.0.0.1 for the test: every e-mail it took, parsed. */
async function startSmtp(): Promise<{
  port: number;
  mails: { subject: string; text: string }[];
  close(): Promise<void>;
}> {
  const mails: { subject: string; text: string }[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push({ subject: mail.subject ?? '', text: mail.text ?? '' });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    mails,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function runToEnd(
  page: Page,
  accountId: string,
  mode: 'manual' | 'background',
): Promise<{ error: string | null }> {
  const started = await api<{ id: string }>(page, 'POST', `/api/accounts/${accountId}/jobs`, { mode });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  for (let i = 0; i < 200; i++) {
    const job = await api<{ status: string; error: string | null }>(page, 'GET', `/api/jobs/${started.body.id}`);
    if (job.body.status === 'done' || job.body.status === 'errored') return job.body;
    await page.waitForTimeout(100);
  }
  throw new Error('the job did not end');
}

void test('a background run that needs a person sends one e-mail; its link, opened signed in, lands on the account with Reconnect ready; a second failing night sends none', async (t) => {
  const smtp = await startSmtp();
  t.after(() => smtp.close());
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('notification-link', page);
  await signIn(page, demo.url);

  // The admin's channel, added in Home's Notifications page, then its test button.
  await page.getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('heading', { name: 'Notifications' }).waitFor();
  await page.getByLabel('Name').fill('My mailbox');
  await page.getByLabel('SMTP server').fill('127.0.0.1');
  await page.getByLabel('Port').fill(String(smtp.port));
  await page.getByLabel('From address').fill('gleaner@example.test');
  await page.getByLabel('Send to').fill('alice@example.test');
  await page.getByRole('button', { name: 'Add the channel' }).click();
  const channel = page.getByTestId('notification-channel');
  await channel.getByText('My mailbox').waitFor();
  await channel.getByRole('button', { name: 'Send a test' }).click();
  await channel.getByText('Test sent.').waitFor();
  assert.equal(smtp.mails.length, 1);
  await shots.shot('channels');

  const created = await api<{ id: string }>(page, 'POST', '/api/accounts', {
    konnector: 'amazon',
    label: 'Alice',
    fields: { login: 'alice@example.test', password: 'alice-amazon-password' },
  });
  assert.equal(created.status, 201);
  const id = created.body.id;
  const night = await runToEnd(page, id, 'background');
  assert.equal(night.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  for (let i = 0; i < 100 && smtp.mails.length < 2; i++) await page.waitForTimeout(100);
  assert.equal(smtp.mails.length, 2, 'one e-mail for the run that needs a person');
  const mail = smtp.mails[1]!;
  assert.match(mail.subject, /Amazon — Alice: Gleaner needs you/);
  const link = /(http:\/\/\S+\?action=reconnect)/.exec(mail.text)?.[1];
  assert.ok(link, mail.text);
  assert.equal(link, `${demo.url}/accounts/${id}?action=reconnect`);

  await page.goto(link);
  const banner = page.getByTestId('action-needed-banner');
  await banner.waitFor();
  const reconnect = banner.getByRole('button', { name: 'Reconnect' });
  await reconnect.waitFor();
  assert.equal(await reconnect.isEnabled(), true);
  assert.equal(await reconnect.evaluate((el) => el === document.activeElement), true, 'Reconnect is ready (focused)');
  publish(await shots.shot('link-lands-on-reconnect'), 'notification-reconnect');

  const second = await runToEnd(page, id, 'background');
  assert.equal(second.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  await page.waitForTimeout(1500);
  assert.equal(smtp.mails.length, 2, 'a second failing night sends none');

  // Enter pressed on the ready button starts the manual run.
  await reconnect.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/accounts/${id}/connecting$`));
});
