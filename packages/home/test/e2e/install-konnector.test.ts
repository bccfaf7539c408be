import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KonnectorInfo } from '@gleaner/contracts';
import { api, launchBrowser, packageWriter, publish, screenshots, signIn, startDemo, unlabelled } from './harness.js';

const MANIFEST = {
  slug: 'forge',
  name: 'Forge',
  description: 'Invoices from a Redmine-like forge, signed in with an authenticator code or a code by e-mail.',
  twofa: ['app_code', 'email'],
  fields: {
    login: { type: 'text', label: 'Login' },
    password: { type: 'password', label: 'Password' },
  },
};
// Never run here: the test is about installing. It imports nothing, as a bundle's only externals are node: built-ins.
const BUNDLE = 'export default async function main() {}\n';
const ICON = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">' +
    '<rect width="64" height="64" rx="14" fill="#7a3e9d"/><path d="M18 46V18h26v7H26v5h15v7H26v9z" fill="#fff"/></svg>',
);

void test('a konnector installed through Home’s file picker: its version replaces the old, a downgrade needs “Install anyway”, a bad package is refused with its reasons, the catalogue shows its icon, version and 2FA kinds, and removing it says how many accounts use it', async (t) => {
  const demo = await startDemo();
  t.after(() => demo.close());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const shots = screenshots('install-konnector', page);

  // The packages an author would hand over, written by the stack's own writer.
  const { writeKonnectorPackage, writeTarGz } = await packageWriter();
  const folder = mkdtempSync(join(tmpdir(), 'gleaner-home-packages-'));
  t.after(() => rmSync(folder, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer) => {
    const path = join(folder, name);
    writeFileSync(path, bytes);
    return path;
  };
  const version = (v: string) =>
    write(
      `forge-${v}.tgz`,
      writeKonnectorPackage({
        manifest: { ...MANIFEST, version: v },
        bundle: BUNDLE,
        icon: { name: 'icon.svg', data: ICON },
        readme: '# Forge\n',
      }),
    );
  const v010 = version('0.1.0');
  const v020 = version('0.2.0');
  // Well packed (every digest right) but its manifest names a kind of 2FA that does not exist.
  const badManifest = Buffer.from(
    JSON.stringify({ ...MANIFEST, slug: 'broken', version: '1.0.0', main: 'index.mjs', twofa: ['carrier_pigeon'] }),
  );
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const bundle = Buffer.from(BUNDLE);
  const info = Buffer.from(
    JSON.stringify({
      format: 1,
      slug: 'broken',
      version: '1.0.0',
      main: 'index.mjs',
      files: { 'index.mjs': sha(bundle), 'manifest.konnector': sha(badManifest) },
    }),
  );
  const broken = write(
    'broken-1.0.0.tgz',
    writeTarGz([
      { name: 'package/', type: 'directory' },
      { name: 'package/gleaner-package.json', data: info },
      { name: 'package/index.mjs', data: bundle },
      { name: 'package/manifest.konnector', data: badManifest },
    ]),
  );
  const escaping = write(
    'escaping-1.0.0.tgz',
    writeTarGz([
      { name: 'package/', type: 'directory' },
      { name: 'package/index.mjs', type: 'symlink', linkname: '../../../../etc/passwd' },
    ]),
  );
  const notes = write('notes.txt', Buffer.from('not a package'));
  // The same slug as the demo's development folder: installed, but not the one jobs use.
  const shadow = write(
    'github-9.0.0.tgz',
    writeKonnectorPackage({
      manifest: { ...MANIFEST, slug: 'github', name: 'GitHub', version: '9.0.0' },
      bundle: BUNDLE,
    }),
  );

  await signIn(page, demo.url);
  await page.getByRole('navigation').getByRole('link', { name: 'Add an account' }).click();
  await page.getByTestId('konnector-card').first().waitFor();
  await page.getByRole('link', { name: 'Install a konnector' }).click();
  await page.getByRole('heading', { name: 'Install a konnector' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/konnectors/install');
  assert.deepEqual(await unlabelled(page), [], 'install page');

  const picker = page.getByLabel('Konnector package (.tgz)');
  const result = page.getByTestId('install-result');
  const install = async (path: string) => {
    await picker.setInputFiles(path);
    await page.getByRole('button', { name: 'Install' }).click();
    await result.waitFor();
    return ((await result.textContent()) ?? '').replace(/\s+/g, ' ');
  };

  // First install, then the newer version replacing it.
  assert.match(await install(v010), /Forge 0\.1\.0 installed\./);
  const upgraded = await install(v020);
  assert.match(upgraded, /Forge 0\.2\.0 installed, replacing 0\.1\.0\./);
  assert.match(upgraded, /It handles 2FA by authenticator app or e-mail code\./);
  assert.equal(await result.locator('img.konnector-icon').evaluate((img: HTMLImageElement) => img.naturalWidth), 64);
  publish(await shots.shot('installed'), 'install-konnector');

  // A downgrade is not installed until asked for; then it is.
  const downgrade = await install(v010);
  assert.equal(await result.getAttribute('data-outcome'), 'needs-force', downgrade);
  await shots.shot('downgrade');
  await result.getByRole('button', { name: 'Install anyway' }).click();
  await page.getByText('Forge 0.1.0 installed, replacing 0.2.0.').waitFor();
  // This time by keyboard: from the file input, Tab reaches Install and Enter sends it.
  await picker.setInputFiles(v020);
  await picker.focus();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Install');
  await page.keyboard.press('Enter');
  await page.getByText('Forge 0.2.0 installed, replacing 0.1.0.').waitFor();

  // Bad packages: refused in words, naming what is wrong, and nothing of them kept.
  const refused = await install(broken);
  assert.equal(await result.getAttribute('data-outcome'), 'refused', refused);
  assert.match(refused, /This package was refused; nothing was installed/);
  assert.match(refused, /manifest\.twofa\.0/, 'the field is named');
  const problems = await page.getByTestId('package-problem').allTextContents();
  assert.ok(
    problems.some((p) => /twofa/.test(p)),
    `a problem names the manifest's twofa field: ${problems.join(' | ')}`,
  );
  await shots.shot('refused-manifest');
  await install(escaping);
  assert.equal(await result.getAttribute('data-outcome'), 'refused');
  const escapes = await page.getByTestId('package-problem').allTextContents();
  assert.ok(
    escapes.some((p) => /package\/index\.mjs/.test(p)),
    `a problem names the symlink's entry: ${escapes.join(' | ')}`,
  );
  const installedDir = join(demo.dataDir, 'konnectors');
  assert.ok(existsSync(join(installedDir, 'forge')), 'the good package is in the data folder');
  for (const slug of ['broken', 'escaping'])
    assert.ok(!existsSync(join(installedDir, slug)), `nothing of ${slug} in ${readdirSync(installedDir).join(', ')}`);
  // Not a .tgz at all: said before anything is sent.
  await picker.setInputFiles(notes);
  await page.getByRole('button', { name: 'Install' }).click();
  await page.getByText('notes.txt is not a konnector package').waitFor();
  assert.equal(await picker.getAttribute('aria-invalid'), 'true');

  // The catalogue: icon, version, source and the kinds of 2FA, in words.
  await page.getByRole('link', { name: '← All websites' }).click();
  const card = page.locator('[data-testid="konnector-card"][data-slug="forge"]');
  await card.waitFor();
  assert.equal(await card.getByTestId('konnector-version').textContent(), 'Version 0.2.0');
  assert.match((await card.getByTestId('konnector-meta').textContent()) ?? '', /Installed package/);
  assert.deepEqual(await card.getByTestId('konnector-twofa').locator('.tag').allTextContents(), [
    'authenticator app',
    'e-mail code',
  ]);
  assert.equal(await card.locator('img.konnector-icon').evaluate((img: HTMLImageElement) => img.naturalWidth), 64);
  const github = page.locator('[data-testid="konnector-card"][data-slug="github"]');
  assert.match((await github.getByTestId('konnector-meta').textContent()) ?? '', /Development folder/);
  assert.equal(await github.getByTestId('icon-placeholder').count(), 1, 'no icon: the placeholder');
  assert.equal(await github.getByRole('button', { name: /Remove/ }).count(), 0, 'a development folder has no Remove');
  publish(await shots.shot('catalogue'), 'catalogue');

  // Removing it while an account uses it: the count, then Remove anyway.
  const created = await api<{ account?: { id: string } }>(page, 'POST', '/api/accounts', {
    konnector: 'forge',
    fields: { login: 'ada', password: 'ada-password' },
    connect: false,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  await card.getByRole('button', { name: 'Remove Forge' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove Forge 0.2.0?' });
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await dialog.getByTestId('remove-in-use').waitFor();
  assert.match((await dialog.getByTestId('remove-in-use').textContent()) ?? '', /^1 account uses Forge\./);
  await shots.shot('remove-in-use');
  await dialog.getByRole('button', { name: 'Remove anyway' }).click();
  await card.waitFor({ state: 'detached' });
  const listed = await api<{ konnectors?: KonnectorInfo[] } | KonnectorInfo[]>(page, 'GET', '/api/konnectors');
  const slugs = (Array.isArray(listed.body) ? listed.body : (listed.body.konnectors ?? [])).map((k) => k.slug);
  assert.ok(!slugs.includes('forge'), `forge is gone from ${slugs.join(', ')}`);

  // A package whose slug a development folder already has: said at once, listed under Not available, removable.
  await page.getByRole('link', { name: 'Install a konnector' }).click();
  const shadowed = await install(shadow);
  assert.match(shadowed, /GitHub 9\.0\.0 installed\./);
  await result.getByTestId('install-hidden').waitFor();
  await page.getByRole('link', { name: 'See all websites' }).click();
  const problem = page.getByTestId('konnector-problem');
  await problem.waitFor();
  assert.match((await problem.textContent()) ?? '', /github.*hidden by the development folder/);
  assert.equal(
    await github.getByTestId('konnector-version').textContent(),
    'Version 0.1.0',
    'the development one is listed',
  );
  await shots.shot('hidden-by-development');
  await problem.getByRole('button', { name: 'Remove the installed github' }).click();
  await page
    .getByRole('dialog', { name: 'Remove the installed github?' })
    .getByRole('button', { name: 'Remove', exact: true })
    .click();
  await page.getByTestId('konnector-problems').waitFor({ state: 'detached' });
  assert.ok(!existsSync(join(installedDir, 'github')), 'the installed github is gone from the data folder');
});
