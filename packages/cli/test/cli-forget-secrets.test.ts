import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, createStack } from '@gleaner/stack';
import { gleaner, repoRoot } from './support/cli.js';

async function finish(session: ReturnType<typeof gleaner>): Promise<{ code: number | null; output: string }> {
  const code = await session.exit;
  return { code, output: session.output() };
}

test('keys folder deleted: serve refuses in one plain sentence naming the key; forget-secrets lets it start over', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-forget-'));
  const options = {
    dataDir,
    konnectorDirs: [join(repoRoot, 'konnectors/github')],
    schedulerIntervalMs: false as const,
    env: {},
    logger: createLogger({ level: 'silent' }),
  };
  const stack = await createStack(options);
  const account = await stack.accounts.create({
    konnector: 'github',
    fields: { login: 'octocat', password: 'pw-1a2b3c4d' },
  });
  await stack.close(100);
  rmSync(join(dataDir, 'keys'), { recursive: true });

  const refused = await finish(gleaner(['serve', '--data', dataDir, '--port', '0']));
  assert.equal(refused.code, 1, refused.output);
  assert.match(
    refused.output,
    /gleaner serve: refusing to start: 1 saved secret\(s\) are sealed with key k1, but .*k1\.key is missing/,
  );
  assert.match(refused.output, /gleaner forget-secrets/);
  assert.doesNotMatch(refused.output, /at .*\.js:\d+/, 'a refusal prints no stack trace');
  assert.ok(!existsSync(join(dataDir, 'keys')), 'no key made behind the refusal');

  const forgot = await finish(gleaner(['forget-secrets', '--data', dataDir]));
  assert.equal(forgot.code, 0, forgot.output);
  assert.match(forgot.output, /key k2 is new; 1 account\(s\) need their password again/);
  assert.equal(readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim(), 'k2');

  const reopened = await createStack(options);
  try {
    const after = await reopened.accounts.get(account.id);
    assert.equal(after.actionNeeded, 'USER_ACTION_NEEDED.CREDENTIALS_UNREADABLE');
    assert.equal(after.fields.login, 'octocat', 'the account and its login kept');
  } finally {
    await reopened.close(100);
  }
});

test('gleaner forget-secrets on a folder without a database is refused plainly', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-forget-'));
  const done = await finish(gleaner(['forget-secrets', '--data', dataDir]));
  assert.equal(done.code, 1, done.output);
  assert.match(done.output, /no Gleaner database in/);
  assert.doesNotMatch(done.output, /at .*\.js:\d+/);
});
