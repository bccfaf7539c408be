import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStack, runToEnd, tmpDataDir } from './helpers/stack-harness.js';
import { testPackage } from './helpers/test-package.js';

/** Every path under `dir` (itself included) whose mode is not 0700 for a folder, 0600 for a file. */
function looseModes(dir: string): string[] {
  const loose: string[] = [];
  const visit = (path: string) => {
    const info = lstatSync(path);
    if (info.isSymbolicLink()) return;
    const mode = info.mode & 0o7777;
    if (info.isDirectory()) {
      if (mode !== 0o700) loose.push(`${path} 0${mode.toString(8)}`);
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (mode !== 0o600) loose.push(`${path} 0${mode.toString(8)}`);
  };
  visit(dir);
  return loose;
}

describe('faults: data folder modes whatever the umask', () => {
  it('at umask 000, what the stack makes is 0700/0600, and loose modes left there are tightened at start', async () => {
    const previous = process.umask(0);
    const dataDir = tmpDataDir();
    try {
      chmodSync(dataDir, 0o777);
      const stack = await openStack(dataDir);
      let accountId: string;
      try {
        // An installed package (unpacked files), an account whose run saves a file, the databases.
        await stack.konnectors.install(testPackage('modes-pkg', '1.0.0'));
        const installed = await stack.accounts.create({
          konnector: 'modes-pkg',
          fields: { login: 'a', password: 'p' },
        });
        assert.equal((await runToEnd(stack, installed.id)).status, 'done', 'an installed package at 0600 still runs');
        const account = await stack.accounts.create({
          konnector: 'twofa-test',
          fields: { login: 'ada', password: 'pw', scenario: 'plain' },
        });
        accountId = account.id;
        const job = await runToEnd(stack, account.id);
        assert.equal(job.status, 'done');
        assert.equal(job.filesSaved, 1);
        assert.deepEqual(looseModes(dataDir), [], 'nothing made loose under umask 000');
      } finally {
        await stack.close(1000);
      }

      // Made by something else, or by an older version: loose folders and files in every part.
      const accountFiles = join(dataDir, 'files', accountId);
      chmodSync(dataDir, 0o755);
      chmodSync(accountFiles, 0o777);
      for (const name of readdirSync(accountFiles)) chmodSync(join(accountFiles, name), 0o666);
      chmodSync(join(dataDir, 'gleaner.db'), 0o644);
      chmodSync(join(dataDir, 'konnectors'), 0o755);
      mkdirSync(join(dataDir, 'konnectors', 'modes-pkg', 'extra'), { mode: 0o777 });
      writeFileSync(join(dataDir, 'konnectors', 'modes-pkg', 'extra', 'note.txt'), 'x', { mode: 0o666 });
      chmodSync(join(dataDir, 'keys'), 0o755);
      assert.ok(looseModes(dataDir).length >= 7);

      const reopened = await openStack(dataDir);
      try {
        assert.deepEqual(looseModes(dataDir), [], 'tightened at start');
        assert.equal((await reopened.files.list(accountId)).length, 1, 'the saved file is still there');
      } finally {
        await reopened.close(1000);
      }
    } finally {
      process.umask(previous);
    }
  });
});
