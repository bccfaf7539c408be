import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectAccount, launchBrowser, publish, screenshots, signIn, sites, startDemo } from './harness.js';

const LOGIN = 'alice@example.test';

/** The SMS code the fake site "sent" to the person's phone. */
async function smsCode(sitesUrl: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const sent = await sites<{ count: number; lastCode: string | null }>(
      sitesUrl,
      `/amazon/_control/codes-sent?login=${encodeURIComponent(LOGIN)}`,
    );
    if (sent.lastCode) return sent.lastCode;
    if (Date.now() > deadline) throw new Error('no SMS code sent');
    await new Promise((r) => setTimeout(r, 200));
  }
}

void test('Amazon-like account on a phone-sized screen: SMS code from the outbox, a wrong code first shows the retry message, then invoices', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser(390, 844);
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('amazon-sms', page);

  await signIn(page, demo.url);
  await connectAccount(page, demo.url, 'amazon', {
    login: LOGIN,
    password: 'alice-amazon-password',
  });
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByRole('heading', { name: 'Enter the code sent to you by SMS' }).waitFor();
  await shots.shot('sms-dialog');

  // The person's phone: the fake outbox page.
  const code = await smsCode(demo.sitesUrl);
  const phone = await browser.context.newPage();
  await phone.goto(`${demo.sitesUrl}/outbox`);
  await phone.getByText(code).first().waitFor();
  await shots.shot('outbox', phone);
  await phone.close();

  // A wrong code, typed with the keyboard only and sent with Enter.
  const wrong = code === '000000' ? '111111' : '000000';
  const input = dialog.getByTestId('twofa-code');
  await input.focus();
  await page.keyboard.type(wrong);
  await page.keyboard.press('Enter');
  await dialog.getByTestId('twofa-retry').waitFor();
  assert.equal((await dialog.getByTestId('twofa-retry').textContent())?.trim(), 'Invalid code, please re-enter it');
  publish(await shots.shot('wrong-code-retry'), 'twofa-sms-retry-phone');

  // The right one, from the outbox.
  await input.fill(code);
  await page.keyboard.press('Enter');
  await page.getByTestId('connected').waitFor();
  assert.equal(await dialog.isVisible(), false);
  await shots.shot('connected');

  await page.getByText('All done.').waitFor({ timeout: 90_000 });
  await page.getByRole('link', { name: 'See the account' }).click();
  await page.getByTestId('file-row').first().waitFor();
  assert.ok((await page.getByTestId('file-row').count()) >= 1);
  assert.match((await page.getByTestId('file-list').textContent()) ?? '', /€|EUR/);
  await shots.shot('invoices');
});
