import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accountAad, createLogger, createStack, loadKeyring, openSqliteStorage } from '@gleaner/stack';
import { gleaner, repoRoot } from './support/cli.js';

const CANARY_PASSWORD = 'canary-password-7Qm2';

async function stackWithOneAccount(): Promise<{ dataDir: string; accountId: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-maint-'));
  const stack = await createStack({
    dataDir,
    konnectorDirs: [join(repoRoot, 'konnectors/github')],
    schedulerIntervalMs: false,
    env: {},
    logger: createLogger({ level: 'warn' }),
  });
  const account = await stack.accounts.create({
    konnector: 'github',
    fields: { login: 'octocat', password: CANARY_PASSWORD },
  });
  await stack.close(100);
  return { dataDir, accountId: account.id };
}

async function finish(session: ReturnType<typeof gleaner>): Promise<{ code: number | null; output: string }> {
  const code = await session.exit;
  return { code, output: session.output() };
}

test('gleaner migrate: a data folder already at the latest schema says so; a missing one is refused', async () => {
  const { dataDir } = await stackWithOneAccount();
  const done = await finish(gleaner(['migrate', '--data', dataDir]));
  assert.equal(done.code, 0, done.output);
  assert.match(done.output, /already at the latest schema \(\d{4}_\w+\)/);

  const missing = await finish(gleaner(['migrate', '--data', join(dataDir, 'nope')]));
  assert.equal(missing.code, 1);
  assert.match(missing.output, /no Gleaner database in .*nope/);
  assert.doesNotMatch(missing.output, /at .*\.js:\d+/, 'a refusal prints no stack trace');
});

test('gleaner rotate-key: refused while a stack holds the folder; then a new key, every secret re-sealed and still readable', async () => {
  const { dataDir, accountId } = await stackWithOneAccount();

  const running = await createStack({
    dataDir,
    konnectorDirs: [],
    schedulerIntervalMs: false,
    env: {},
    logger: createLogger({ level: 'warn' }),
  });
  try {
    const refused = await finish(gleaner(['rotate-key', '--data', dataDir]));
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, new RegExp(`in use by process ${process.pid}`));
  } finally {
    await running.close(100);
  }

  const rotated = await finish(gleaner(['rotate-key', '--data', dataDir]));
  assert.equal(rotated.code, 0, rotated.output);
  assert.match(rotated.output, /key k2 is now current: 1 secret\(s\) of 1 account\(s\) re-sealed/);
  assert.equal(readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim(), 'k2');
  assert.equal(statSync(join(dataDir, 'keys', 'k2.key')).mode & 0o777, 0o600);
  assert.ok(existsSync(join(dataDir, 'keys', 'k1.key')), 'the old key stays for backups');

  const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
  try {
    const record = await storage.accounts.get(accountId);
    assert.ok(record);
    assert.ok(record.credentials.startsWith('k2:'), 'sealed under the new key');
    const fields = JSON.parse(
      loadKeyring({ dataDir, env: {} }).open(record.credentials, accountAad(accountId, 'credentials')),
    ) as Record<string, string>;
    assert.equal(fields.password, CANARY_PASSWORD);
  } finally {
    await storage.close();
  }
  assert.doesNotMatch(rotated.output, new RegExp(CANARY_PASSWORD));
});
