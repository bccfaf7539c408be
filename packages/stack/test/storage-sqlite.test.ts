import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteStorage } from '../src/storage/index.js';
import { storageContract } from './storage-contract.js';

storageContract('sqlite', () => openSqliteStorage(join(mkdtempSync(join(tmpdir(), 'gleaner-storage-')), 'gleaner.db')));

void test('the SQLite files are readable by their owner only, a new database and an older one alike', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-storage-'));
  const fresh = await openSqliteStorage(join(dir, 'new.db'));
  await fresh.accounts.list();
  for (const name of ['new.db', 'new.db-wal', 'new.db-shm']) {
    assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600, name);
  }
  await fresh.close();

  writeFileSync(join(dir, 'old.db'), '', { mode: 0o644 });
  const older = await openSqliteStorage(join(dir, 'old.db'));
  assert.equal(statSync(join(dir, 'old.db')).mode & 0o777, 0o600);
  await older.close();
});
