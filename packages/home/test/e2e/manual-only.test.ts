import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { api, launchBrowser, packageWriter, publish, screenshots, signIn, startDemo } from './harness.js';

// Never run here: the test is about the account's schedule. A bundle's only externals are node: built-ins.
const BUNDLE = 'export default async function main() {}\n';

void test("a manual-only konnector's account has no schedule, and Home says to run it yourself when you want fresh data", async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('manual-only', page);

  const { writeKonnectorPackage } = await packageWriter();
  const folder = mkdtempSync(join(tmpdir(), 'gleaner-home-manual-only-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const tgz = join(folder, 'bank-1.0.0.tgz');
  writeFileSync(
    tgz,
    writeKonnectorPackage({
      manifest: {
        slug: 'bank',
        name: 'Short-session bank',
        version: '1.0.0',
        description: 'Its session ends when the browser closes.',
        main: 'index.mjs',
        twofa: ['sms'],
        manualOnly: true,
        fields: { login: { type: 'text', label: 'Login' }, password: { type: 'password', label: 'Password' } },
      },
      bundle: BUNDLE,
    }),
  );

  await signIn(page, demo.url);
  await page.goto(`${demo.url}/konnectors/install`);
  await page.getByLabel('Konnector package (.tgz)').setInputFiles(tgz);
  await page.getByRole('button', { name: 'Install' }).click();
  await page
    .getByTestId('install-result')
    .getByText(/Short-session bank 1\.0\.0 installed/)
    .waitFor();

  const created = await api<{ id: string; nextRunAt: string | null }>(page, 'POST', '/api/accounts', {
    konnector: 'bank',
    fields: { login: 'ada', password: 'pw-bank-1' },
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.nextRunAt, null, 'no next run');
  const trigger = await api<{ frequency: string }>(page, 'GET', `/api/accounts/${created.body.id}/trigger`);
  assert.equal(trigger.body.frequency, 'off');
  const refused = await api<{ message: string }>(page, 'PUT', `/api/accounts/${created.body.id}/trigger`, {
    frequency: 'daily',
    time: '03:00',
  });
  assert.equal(refused.status, 422);
  assert.match(refused.body.message, /manual-only/);

  await page.goto(`${demo.url}/accounts/${created.body.id}`);
  const summary = page.getByTestId('schedule-summary');
  await summary.waitFor();
  assert.equal(
    (await summary.textContent())?.trim(),
    'Never scheduled: this website’s session does not last until the next night. Run it yourself when you want fresh data.',
  );
  assert.match((await page.getByTestId('next-run').textContent()) ?? '', /Run it yourself when you want fresh data/);
  assert.equal(await page.getByLabel('Run automatically').count(), 0, 'no schedule to set');
  await page.getByTestId('code-sources').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Try a background run' }).count(), 0, 'no scheduled run to try');
  publish(await shots.shot('account'), 'manual-only');
});
