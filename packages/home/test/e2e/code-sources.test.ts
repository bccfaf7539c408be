import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import QRCode from 'qrcode';
import type { Page } from 'playwright-core';
import type { Account } from '@gleaner/contracts';
import { api, launchBrowser, screenshots, signIn, sites, startDemo } from './harness.js';

/** octocat's authenticator secret on the fake GitHub (public on purpose, like the account). */
const OCTOCAT_SECRET = 'MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U';
const OCTOCAT_URI = `otpauth://totp/GitHub:octocat?secret=${OCTOCAT_SECRET}&issuer=GitHub`;

/** A PNG of one flat colour (an image with no QR code in it), written by hand: no image library needed. */
function plainPng(width: number, height: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, truecolour, no interlace
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(pixels)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

void describe('Codes in Home: the authenticator secret, typed or read from a QR code image', () => {
  let demo: Awaited<ReturnType<typeof startDemo>>;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let shots: ReturnType<typeof screenshots>;
  const images = mkdtempSync(join(tmpdir(), 'gleaner-home-qr-'));

  before(async () => {
    demo = await startDemo();
    browser = await launchBrowser();
    page = browser.page;
    shots = screenshots('code-sources', page);
    await signIn(page, demo.url);
  });
  after(async () => {
    rmSync(images, { recursive: true, force: true });
    await browser?.close();
    await demo?.close();
  });

  /** A new octocat account, its page open on an empty Codes section. */
  const openNewAccount = async (): Promise<string> => {
    const created = await api<Account>(page, 'POST', '/api/accounts', {
      konnector: 'github',
      fields: { login: 'octocat', password: 'octocat-password' },
    });
    assert.equal(created.status, 201);
    await page.goto(`${demo.url}/accounts/${created.body.id}`);
    await page.getByTestId('code-sources').getByText('No code source yet').waitFor();
    return created.body.id;
  };
  /**
   * Does `save` (the secret typed or a QR image chosen), then checks that Home shows the code the
   * fake GitHub's authenticator shows: the one of before or after the save (a 30 s step may turn between).
   */
  const expectAppCodeAfter = async (save: () => Promise<void>) => {
    const totp = () => sites<{ code: string }>(demo.sitesUrl, '/github/_control/totp/octocat');
    const before = await totp();
    await save();
    const status = page.getByTestId('code-sources').getByRole('status');
    await status.getByText(/Your authenticator app should show \d{6} now/).waitFor();
    const after = await totp();
    const shown = /show (\d{6}) now/.exec((await status.textContent()) ?? '')?.[1];
    assert.ok(
      shown === before.code || shown === after.code,
      `Home shows ${shown}, the app ${before.code} or ${after.code}`,
    );
    return status;
  };
  const listed = async (accountId: string) =>
    (
      await api<{ kind: string; settings: Record<string, unknown> }[]>(
        page,
        'GET',
        `/api/accounts/${accountId}/code-sources`,
      )
    ).body;

  void test('the authenticator secret pasted in Home shows the code the app shows, answers a run with no dialog, tests and removes', async () => {
    const accountId = await openNewAccount();
    const codes = page.getByTestId('code-sources');
    const status = await expectAppCodeAfter(async () => {
      await codes.getByLabel(/Authenticator secret/).fill(OCTOCAT_URI);
      await codes.getByRole('button', { name: 'Save the authenticator secret' }).click();
    });
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
    assert.deepEqual(await listed(accountId), []);
  });

  void test('a QR code image chosen in Chromium is read in the page and sets the secret: the code the app shows, the source listed', async () => {
    const accountId = await openNewAccount();
    const codes = page.getByTestId('code-sources');
    // As sites offer it to download: small, and on a transparent background.
    const qr = join(images, 'github-qr.png');
    await QRCode.toFile(qr, OCTOCAT_URI, { type: 'png', scale: 3, color: { dark: '#000000ff', light: '#00000000' } });
    await expectAppCodeAfter(() => codes.getByLabel('…or the QR code image').setInputFiles(qr));
    await codes.locator('li[data-kind="app_code"]').getByText('GitHub').waitFor();
    assert.equal(await codes.getByRole('alert').count(), 0, 'no error shown');
    const sources = await listed(accountId);
    assert.deepEqual(
      sources.map((s) => [s.kind, s.settings.issuer, s.settings.label]),
      [['app_code', 'GitHub', 'octocat']],
    );
    await shots.shot('qr-read');

    // A large photo-sized image of a QR code, dark on white, reads too (removed first, so that the
    // status shown is this upload's).
    await codes.locator('li[data-kind="app_code"]').getByRole('button', { name: 'Remove' }).click();
    await codes.getByText('No code source yet').waitFor();
    const large = join(images, 'github-qr-large.png');
    await QRCode.toFile(large, OCTOCAT_URI, { type: 'png', scale: 40, margin: 12 });
    await expectAppCodeAfter(() => codes.getByLabel('…or the QR code image').setInputFiles(large));
    assert.equal(await codes.getByRole('alert').count(), 0, 'no error shown');
    assert.deepEqual(
      (await listed(accountId)).map((s) => s.kind),
      ['app_code'],
    );
  });

  void test('an image with no QR code in it, or a file that is no image, says so and saves nothing', async () => {
    const accountId = await openNewAccount();
    const codes = page.getByTestId('code-sources');
    const blank = join(images, 'blank.png');
    writeFileSync(blank, plainPng(200, 120, [240, 240, 240]));
    await codes.getByLabel('…or the QR code image').setInputFiles(blank);
    await codes.getByRole('alert').getByText('No QR code was found in blank.png', { exact: false }).waitFor();
    assert.deepEqual(await listed(accountId), []);
    await codes.getByText('No code source yet').waitFor();
    await shots.shot('qr-none');

    const notImage = join(images, 'notes.png');
    writeFileSync(notImage, 'this is text, not a picture\n');
    await codes.getByLabel('…or the QR code image').setInputFiles(notImage);
    await codes.getByRole('alert').getByText('notes.png could not be opened as an image', { exact: false }).waitFor();
    assert.deepEqual(await listed(accountId), []);
  });

  void test('a QR code of something else than an authenticator secret gives the server’s clear error and saves nothing', async () => {
    const accountId = await openNewAccount();
    const codes = page.getByTestId('code-sources');
    const link = join(images, 'link-qr.png');
    await QRCode.toFile(link, 'https://example.test/hello', { type: 'png' });
    await codes.getByLabel('…or the QR code image').setInputFiles(link);
    await codes
      .getByRole('alert')
      .getByText('the authenticator secret is not base32 (letters A–Z and digits 2–7) nor an otpauth:// URI')
      .waitFor();
    assert.deepEqual(await listed(accountId), []);

    // A counter-based (HOTP) URI is an otpauth:// URI too, and refused with its own reason.
    const hotp = join(images, 'hotp-qr.png');
    await QRCode.toFile(hotp, `otpauth://hotp/GitHub:octocat?secret=${OCTOCAT_SECRET}&counter=1`, { type: 'png' });
    await codes.getByLabel('…or the QR code image').setInputFiles(hotp);
    await codes
      .getByRole('alert')
      .getByText(/counter-based \(HOTP\)/)
      .waitFor();
    assert.deepEqual(await listed(accountId), []);
    await shots.shot('qr-refused');
  });
});
