import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KonnectorInfo } from '@gleaner/contracts';
import {
  accountsUsing,
  checkPackageFile,
  formatBytes,
  hiddenByDevelopment,
  installedSentence,
  installOutcome,
  PACKAGE_MAX_BYTES,
  removeInUseSentence,
  uninstallOutcome,
  uploadStatus,
} from '../../src/logic/konnector-install.js';
import { twoFaKindLabel, twoFaKindsSentence } from '../../src/twofa-text.js';

const GITHUB: KonnectorInfo = {
  slug: 'github',
  name: 'GitHub',
  version: '0.2.0',
  description: 'Receipts',
  twofa: ['app_code'],
  fields: {},
  source: 'installed',
  icon: '/api/konnectors/github/icon',
};

test('a 201 is an install, with the version it replaced', () => {
  assert.deepEqual(installOutcome(201, { konnector: GITHUB, previousVersion: '0.1.0' }), {
    kind: 'installed',
    konnector: GITHUB,
    previousVersion: '0.1.0',
  });
  const first = installOutcome(201, { konnector: GITHUB, previousVersion: null });
  assert.equal(first?.kind === 'installed' && first.previousVersion, null);
  // A 201 without a konnector is not something Home can show: an ordinary error.
  assert.equal(installOutcome(201, {}), null);
});

test('a 400 is a refusal that keeps each problem’s path and message', () => {
  const outcome = installOutcome(400, {
    error: 'invalid',
    message: 'the package was refused',
    problems: [
      { path: 'package/manifest.konnector: name', message: 'Required' },
      { path: 'package/index.mjs', message: 'sha256 does not match gleaner-package.json' },
      { nonsense: true },
    ],
  });
  assert.deepEqual(outcome, {
    kind: 'refused',
    message: 'the package was refused',
    problems: [
      { path: 'package/manifest.konnector: name', message: 'Required' },
      { path: 'package/index.mjs', message: 'sha256 does not match gleaner-package.json' },
    ],
  });
  assert.deepEqual(installOutcome(400, null), {
    kind: 'refused',
    message: 'The server did not accept this package.',
    problems: [],
  });
});

test('a 409 asks for force; a 413 names the limit; other statuses are left to the client', () => {
  assert.deepEqual(installOutcome(409, { error: 'conflict', message: 'github 0.3.0 is installed' }), {
    kind: 'needs-force',
    message: 'github 0.3.0 is installed',
  });
  const tooBig = installOutcome(413, { error: 'too_large' });
  assert.equal(tooBig?.kind, 'refused');
  assert.match(tooBig?.kind === 'refused' ? tooBig.message : '', /50 MiB/);
  for (const status of [401, 403, 404, 500, 503]) assert.equal(installOutcome(status, {}), null, String(status));
});

test('a removal is done on 204, in use on 409 with the count', () => {
  assert.deepEqual(uninstallOutcome(204, undefined), { kind: 'removed' });
  assert.deepEqual(
    uninstallOutcome(409, {
      error: 'conflict',
      message: 'konnector github is used by 2 account(s)',
      accounts: 2,
    }),
    { kind: 'in-use', accounts: 2, message: 'konnector github is used by 2 account(s)' },
  );
  assert.deepEqual(uninstallOutcome(409, {}), { kind: 'in-use', accounts: 0, message: 'No account uses it.' });
  assert.equal(uninstallOutcome(404, {}), null);
  assert.equal(accountsUsing(1, 'GitHub'), '1 account uses GitHub.');
  assert.equal(accountsUsing(3), '3 accounts use it.');
  assert.equal(
    removeInUseSentence(1, 'Forge'),
    '1 account uses Forge. Removed anyway, that account stops running until Forge is installed again; its documents stay.',
  );
  assert.match(
    removeInUseSentence(2, 'Forge'),
    /^2 accounts use Forge\. .*those accounts stop.*their documents stay\.$/,
  );
});

test('a chosen file is checked before it is sent, naming the file and the limit', () => {
  assert.match(checkPackageFile(null) ?? '', /Choose a konnector package/);
  assert.equal(checkPackageFile({ name: 'github-0.2.0.tgz', size: 1200 }), null);
  assert.equal(checkPackageFile({ name: 'github-0.2.0.tar.gz', size: 1200 }), null);
  assert.match(checkPackageFile({ name: 'notes.txt', size: 10 }) ?? '', /^notes\.txt is not a konnector package/);
  assert.equal(checkPackageFile({ name: 'a.tgz', size: 0 }), 'a.tgz is empty.');
  assert.equal(
    checkPackageFile({ name: 'big.tgz', size: 60 * 1024 * 1024 }),
    'big.tgz is 60 MiB: a package may be at most 50 MiB.',
  );
  assert.match(checkPackageFile({ name: 'big.tgz', size: PACKAGE_MAX_BYTES + 1 }) ?? '', /at most 50 MiB/);
  assert.equal(checkPackageFile({ name: 'max.tgz', size: PACKAGE_MAX_BYTES }), null);
});

test('the sentence after an install says what it replaced', () => {
  assert.equal(installedSentence(GITHUB, '0.1.0'), 'GitHub 0.2.0 installed, replacing 0.1.0.');
  assert.equal(installedSentence(GITHUB, null), 'GitHub 0.2.0 installed.');
  assert.equal(installedSentence(GITHUB, '0.2.0'), 'GitHub 0.2.0 installed again.');
});

test('the upload line goes from a share sent to the server’s check', () => {
  assert.deepEqual(uploadStatus(0, 0), { percent: 0, label: 'Uploading…' });
  assert.deepEqual(uploadStatus(421, 1000), { percent: 42, label: 'Uploading… 42%' });
  assert.deepEqual(uploadStatus(1000, 1000), { percent: 100, label: 'Checking the package…' });
  assert.equal(formatBytes(812), '812 bytes');
  assert.equal(formatBytes(4300), '4.2 KiB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MiB');
});

test('the kinds of 2FA a konnector handles, in words', () => {
  assert.equal(twoFaKindLabel('app_code'), 'authenticator app');
  assert.equal(twoFaKindsSentence([]), 'It signs in without a second factor.');
  assert.equal(twoFaKindsSentence(['sms']), 'It handles 2FA by SMS code.');
  assert.equal(
    twoFaKindsSentence(['sms', 'email', 'app_code']),
    'It handles 2FA by SMS code, e-mail code or authenticator app.',
  );
});

test('an installed package is hidden when a development folder has its slug', () => {
  const listed = [
    { slug: 'github', source: 'development' as const },
    { slug: 'forge', source: 'installed' as const },
  ];
  assert.equal(hiddenByDevelopment({ slug: 'github' }, listed), true);
  assert.equal(hiddenByDevelopment({ slug: 'forge' }, listed), false);
  assert.equal(hiddenByDevelopment({ slug: 'new' }, listed), false);
  assert.equal(hiddenByDevelopment({ slug: 'github' }, null), false);
});
