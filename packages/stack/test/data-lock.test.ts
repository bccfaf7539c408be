import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DataFolderBusyError } from '../src/data-lock.js';
import { openStack, tmpDataDir } from './helpers/stack-harness.js';

describe('one stack per data folder', () => {
  it('a second stack on a folder in use is refused, naming the holder; after close it opens', async () => {
    const dataDir = tmpDataDir();
    const first = await openStack(dataDir);
    await assert.rejects(openStack(dataDir), (error: unknown) => {
      assert.ok(error instanceof DataFolderBusyError);
      assert.equal(error.pid, process.pid);
      assert.match(error.message, new RegExp(`in use by process ${process.pid}`));
      return true;
    });
    await first.close(100);
    assert.equal(existsSync(join(dataDir, 'gleaner.lock')), false, 'close releases the lock');
    const second = await openStack(dataDir);
    await second.close(100);
  });

  it('a lock left by a process that is gone (a crash) is taken over', async () => {
    const dataDir = tmpDataDir();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dataDir, 'gleaner.lock'), `${gone.stdout}\n`);
    const stack = await openStack(dataDir);
    await stack.close(100);
  });
});
