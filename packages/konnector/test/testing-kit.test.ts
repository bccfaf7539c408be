import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BaseKonnector } from '../src/base-konnector.js';
import { filesOnDisk, newDataDir, readSaved, runKonnector, savedIndex } from '../src/testing.js';

test('filesOnDisk lists the files inside folders by their path under files/; readSaved reads one by it', async () => {
  const dataDir = newDataDir();
  assert.deepEqual(filesOnDisk(dataDir), [], 'nothing saved yet: no files/ folder, no error');
  const bytes = (text: string) => async () => new TextEncoder().encode(text);
  const run = await runKonnector(
    new BaseKonnector(async function () {
      await this.saveFiles([{ filename: 'top.txt', fetchFile: bytes('top') }]);
      await this.saveFiles([{ filename: 'b.pdf', fetchFile: bytes('%PDF b') }], { folder: 'bills/2024' });
      await this.saveFiles([{ filename: 'a.pdf', fetchFile: bytes('%PDF a') }], { folder: 'bills' });
    }),
    { dataDir, fields: {} },
  );
  assert.deepEqual(run.result, { ok: true });
  assert.deepEqual(filesOnDisk(dataDir), ['bills/2024/b.pdf', 'bills/a.pdf', 'top.txt']);
  assert.equal(readSaved(dataDir, 'bills/2024/b.pdf'), '%PDF b');
  assert.deepEqual(
    savedIndex(dataDir)
      .map((f) => (f.folder ? `${f.folder}/${f.name}` : f.name))
      .sort(),
    filesOnDisk(dataDir),
    'the index and the disk agree',
  );
});
