import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Account, Prompt } from '@gleaner/contracts';
import { api, connectAccount, launchBrowser, publish, screenshots, signIn, sites, startDemo } from './harness.js';

type Demo = Awaited<ReturnType<typeof startDemo>>;
type Message = { channel: 'sms' | 'email'; code: string; to: string };

// One stack and its fake sites for the file: the scenarios run one after the other on it.
let demo: Demo;
before(async () => {
  demo = await startDemo();
  // A short cooldown and lockout, so that the test sees both without waiting half a minute.
  await sites(demo.sitesUrl, '/amazon/_control/settings', {
    method: 'POST',
    body: { resendCooldownMs: 4_000, lockoutThreshold: 2 },
  });
});
after(() => demo.close());

/** The codes the Amazon-like site "sent" to this login, oldest first (the outbox lists the newest first). */
async function outbox(login: string): Promise<Message[]> {
  return (
    await sites<Message[]>(demo.sitesUrl, `/amazon/_control/outbox?login=${encodeURIComponent(login)}`)
  ).reverse();
}

/** Waits until the site has sent `count` codes to this login; the last of them. */
async function nthCode(login: string, count: number): Promise<Message> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const sent = await outbox(login);
    const last = sent[count - 1];
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`the site sent ${sent.length} codes to ${login}, not ${count}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function waitingPrompt(page: Parameters<typeof api>[0], accountId: string): Promise<Prompt> {
  const { body } = await api<Account>(page, 'GET', `/api/accounts/${accountId}`);
  if (!body.prompt) throw new Error('no prompt on the account');
  return body.prompt;
}

/** "9:58" → 598 seconds. */
function seconds(text: string | null): number {
  const match = /^(\d+):(\d{2})$/.exec(text?.trim() ?? '');
  if (!match) throw new Error(`not a countdown: ${text}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

void test('the code dialog shows what the site says: where the code went, its own lifetime (a wrong code does not restart it), attempts left before the lockout, letters refused, a new code by e-mail after the cooldown, trust this device', async (t) => {
  const login = 'alice@example.test';
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('twofa-details', page);
  await signIn(page, demo.url);
  const accountId = await connectAccount(page, demo.url, 'amazon', { login, password: 'alice-amazon-password' });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code sent to you by SMS' }).waitFor();
  const first = await nthCode(login, 1);
  assert.equal(first.channel, 'sms');

  assert.equal((await dialog.getByTestId('twofa-destination').textContent())?.trim(), 'Sent to +33 6 •• •• •• 78');
  // The site's code lasts 10 minutes: the dialog counts down from there, not from 3:00.
  const shown = seconds(await dialog.getByTestId('twofa-time-left').textContent());
  assert.ok(shown > 9 * 60 && shown <= 10 * 60, `time left ${shown} s`);
  assert.equal(
    (await dialog.getByTestId('twofa-attempts-left').textContent())?.trim(),
    '2 attempts left before the site locks the account.',
  );
  const trust = dialog.getByTestId('twofa-trust-device');
  assert.equal(await trust.isChecked(), true);
  assert.match((await dialog.locator('.twofa-trust').textContent()) ?? '', /Don't require OTP on this browser/);

  // Letters in an SMS code: the field says what an SMS code is, nothing is sent; the stack says the same (422).
  const input = dialog.getByTestId('twofa-code');
  await input.fill('12ab56');
  await dialog.getByRole('button', { name: 'Verify' }).click();
  assert.match(
    (await dialog.getByTestId('twofa-problem').textContent()) ?? '',
    /^A code sent by SMS is 4 to 10 digits, with no letters/,
  );
  const before = await waitingPrompt(page, accountId);
  assert.equal(before.attempts, 0, 'the browser sent nothing');
  const refused = await api<{ outcome: string; message: string }>(page, 'POST', `/api/prompts/${before.id}/answer`, {
    code: '12ab56',
  });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.outcome, 'bad_format');
  assert.match(refused.body.message, /^A code sent by SMS is 4 to 10 digits, with no letters/);
  await shots.shot('details-letters-refused');

  // A wrong code: one attempt left, and the deadline is still the code's own.
  await page.waitForTimeout(1_500);
  await input.fill(first.code === '000000' ? '111111' : '000000');
  await dialog.getByRole('button', { name: 'Verify' }).click();
  await dialog.getByTestId('twofa-retry').waitFor();
  await dialog.getByText('Last attempt: one more wrong code and the site locks the account.').waitFor();
  const retry = await waitingPrompt(page, accountId);
  assert.notEqual(retry.id, before.id);
  assert.ok(
    Math.abs(Date.parse(retry.expiresAt) - Date.parse(before.expiresAt)) < 1_000,
    `deadline ${before.expiresAt} → ${retry.expiresAt}`,
  );
  assert.ok(seconds(await dialog.getByTestId('twofa-time-left').textContent()) < shown, 'the countdown went on');
  publish(await shots.shot('details-last-attempt'), 'twofa-details');

  // "Send a new code": disabled with the time left while the site's cooldown runs, then by e-mail.
  const resend = dialog.getByTestId('twofa-resend');
  await dialog.getByTestId('twofa-method-email').check();
  await dialog.getByRole('button', { name: /^Send the code there/ }).waitFor();
  if (await resend.isDisabled()) assert.match((await resend.textContent()) ?? '', /^Send the code there in 0:0\d$/);
  await page.waitForFunction(
    () => !document.querySelector<HTMLButtonElement>('[data-testid="twofa-resend"]')?.disabled,
  );
  await resend.click();
  await dialog.getByRole('heading', { name: 'Enter the code sent to you by e-mail' }).waitFor();
  await dialog.getByText('Sent to a••••@example.test').waitFor();
  const byEmail = await nthCode(login, 2);
  assert.equal(byEmail.channel, 'email', 'the choice reached the konnector, and the site');
  // Pressed again at once: the cooldown has started again, said on the button.
  await page.waitForFunction(
    () => document.querySelector<HTMLButtonElement>('[data-testid="twofa-resend"]')?.disabled === true,
  );
  assert.match((await resend.textContent()) ?? '', /^Send a new code in 0:0\d$/);
  const tooSoon = await api<{ outcome: string; message: string }>(page, 'POST', `/api/prompts/${retry.id}/resend`, {});
  assert.deepEqual([tooSoon.status, tooSoon.body.outcome], [429, 'cooldown']);
  assert.match(tooSoon.body.message, /^A new code can be asked in \d+ s\.$/);
  assert.equal((await outbox(login)).length, 2, 'no third code');
  await shots.shot('details-sent-by-email');

  // The e-mailed code signs in (the SMS one would not: the site only takes its latest).
  await input.fill(byEmail.code);
  await dialog.getByRole('button', { name: 'Verify' }).click();
  await page.getByTestId('connected').waitFor();
  const logs = await api<Array<{ message: string }>>(page, 'GET', `/api/jobs/${retry.jobId}/logs`);
  assert.ok(logs.body.some((line) => line.message.includes('asked the site for a new code (email)')));
  assert.ok(!JSON.stringify(logs.body).includes(byEmail.code), 'no code in the log');
});

void test('on a phone, "Later" puts the dialog aside; the waiting code shows in the header and the title on any page, and reopens it', async (t) => {
  const login = 'bob@example.test';
  const browser = await launchBrowser(390, 844);
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('twofa-later', page);
  await signIn(page, demo.url);
  const accountId = await connectAccount(page, demo.url, 'amazon', { login, password: 'bob-amazon-password' });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code sent to you by e-mail' }).waitFor();
  const later = dialog.getByTestId('twofa-later');
  const cancel = dialog.getByRole('button', { name: 'Cancel sign-in' });
  const [laterBox, cancelBox] = [await later.boundingBox(), await cancel.boundingBox()];
  assert.ok(laterBox && cancelBox, 'both buttons are on screen');
  assert.ok(laterBox.x + laterBox.width <= 390 && laterBox.y + laterBox.height <= 844, 'Later fits the phone screen');
  publish(await shots.shot('dialog-phone'), 'twofa-details-phone');

  await later.click();
  await dialog.waitFor({ state: 'hidden' });
  const header = page.getByTestId('waiting-code');
  await header.waitFor();
  assert.match((await header.textContent()) ?? '', /^Code waiting · /);
  assert.match(await page.title(), /^Code waiting · /);
  publish(await shots.shot('put-aside'), 'twofa-put-aside-phone');

  // Another page: the reminder stays; pressing it brings the dialog back, the code still expected.
  await page.getByRole('link', { name: 'Add an account' }).click();
  await page.waitForURL(/\/catalogue|\/add/);
  await header.waitFor();
  assert.match(await page.title(), /^Code waiting · /);
  await header.click();
  await dialog.getByRole('heading', { name: 'Enter the code sent to you by e-mail' }).waitFor();
  // Untick "Don't require OTP on this browser": the konnector reads it back and tells Amazon so.
  await dialog.getByTestId('twofa-trust-device').uncheck();
  const code = await nthCode(login, 1);
  await dialog.getByTestId('twofa-code').fill(code.code);
  await dialog.getByRole('button', { name: 'Verify' }).click();
  await header.waitFor({ state: 'detached', timeout: 30_000 });
  assert.doesNotMatch(await page.title(), /Code waiting/);
  const { body: bob } = await api<Account>(page, 'GET', `/api/accounts/${accountId}`);
  const logs = await api<Array<{ message: string }>>(page, 'GET', `/api/jobs/${bob.lastJob?.id}/logs`);
  assert.ok(
    logs.body.some(
      (line) => line.message === 'sending the code without remembering this browser (the person unticked the box)',
    ),
    'the box reached the konnector',
  );
});
