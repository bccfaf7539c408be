import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mkdirPrivate, openStagedFile, StagedFileRefused, takeStagedFile } from '../src/runtime/staged-file.js';

const setup = (): { staging: string; outside: string; target: string } => {
  const root = mkdtempSync(join(tmpdir(), 'gleaner-intake-'));
  const staging = join(root, 'staging');
  mkdirSync(staging);
  const outside = join(root, 'outside.txt');
  writeFileSync(outside, 'host file\n');
  return { staging, outside, target: join(root, 'taken.pdf') };
};

const refusal = async (staging: string, path: string): Promise<string> => {
  try {
    const staged = await openStagedFile(staging, path);
    await staged.handle.close();
  } catch (error) {
    assert.ok(error instanceof StagedFileRefused, String(error));
    return error.message;
  }
  throw new Error(`${path} was accepted`);
};

test('a regular file right in staging is copied by descriptor, hashed, and removed from staging', async () => {
  const { staging, target } = setup();
  writeFileSync(join(staging, 'bill.pdf'), '%PDF-1.4 bill\n');
  const staged = await openStagedFile(staging, join(staging, 'bill.pdf'));
  const taken = await takeStagedFile(staged, target);
  await staged.handle.close();
  assert.equal(readFileSync(target, 'utf8'), '%PDF-1.4 bill\n');
  assert.deepEqual(taken, {
    size: 14,
    sha256: createHash('sha256').update('%PDF-1.4 bill\n').digest('hex'),
  });
  assert.equal(existsSync(join(staging, 'bill.pdf')), false);
  assert.equal(statSync(target).mode & 0o777, 0o600);
});

test('links, hard links, FIFOs, folders and paths out of staging are refused with the reason', async () => {
  const { staging, outside } = setup();
  symlinkSync(outside, join(staging, 'link.pdf'));
  linkSync(outside, join(staging, 'hard.pdf'));
  execFileSync('mkfifo', [join(staging, 'fifo.pdf')]);
  mkdirSync(join(staging, 'folder'));
  symlinkSync('/', join(staging, 'root'));
  assert.equal(await refusal(staging, 'link.pdf'), 'it is a symbolic link');
  assert.equal(await refusal(staging, 'hard.pdf'), 'it has other hard links');
  assert.equal(await refusal(staging, 'fifo.pdf'), 'it is not a regular file');
  assert.equal(await refusal(staging, 'folder'), 'it is not a regular file');
  assert.equal(await refusal(staging, `root${outside}`), 'root is a symbolic link');
  assert.equal(await refusal(staging, outside), 'it is outside the staging folder');
  assert.equal(await refusal(staging, '../outside.txt'), 'it is outside the staging folder');
  assert.equal(await refusal(staging, 'missing.pdf'), 'it does not exist');
  assert.equal(readFileSync(outside, 'utf8'), 'host file\n');
});

test('account folders are made 0700 whatever the umask', async () => {
  const root = join(mkdtempSync(join(tmpdir(), 'gleaner-intake-')), 'files');
  const before = process.umask(0);
  try {
    await mkdirPrivate(root, join(root, 'account', 'bills', '2030'));
  } finally {
    process.umask(before);
  }
  for (const dir of [
    root,
    join(root, 'account'),
    join(root, 'account', 'bills'),
    join(root, 'account', 'bills', '2030'),
  ])
    assert.equal(statSync(dir).mode & 0o777, 0o700, dir);
});
