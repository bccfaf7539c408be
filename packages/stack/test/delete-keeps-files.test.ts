import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStack, runToEnd, tmpDataDir } from './helpers/stack-harness.js';

/** Reads a whole stream into a string. */
async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

describe('deleting an account keeps its documents unless asked', () => {
  it('kept by default: listed under the deleted account, still downloadable, then forgotten on request; keepFiles: false removes them at once', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    try {
      const create = () =>
        stack.accounts.create({
          konnector: 'twofa-test',
          label: 'Bills',
          fields: { login: 'ada', password: 'pw', scenario: 'plain' },
        });
      const kept = await create();
      assert.equal((await runToEnd(stack, kept.id)).filesSaved, 1);
      const [file] = await stack.files.list(kept.id);
      assert.ok(file);
      const content = await text((await stack.files.open(file.id)).stream);

      await stack.accounts.remove(kept.id);
      await assert.rejects(stack.accounts.get(kept.id), { code: 'not_found' });
      const listed = await stack.accounts.kept();
      assert.deepEqual(
        listed.map((k) => [k.accountId, k.konnector, k.label, k.files.map((f) => f.id)]),
        [[kept.id, 'twofa-test', 'Bills', [file.id]]],
      );
      assert.equal(await text((await stack.files.open(file.id)).stream), content, 'still downloadable');
      assert.ok(existsSync(join(dataDir, 'files', kept.id)));

      await stack.accounts.forgetKept(kept.id);
      assert.deepEqual(await stack.accounts.kept(), []);
      await assert.rejects(stack.files.open(file.id), { code: 'not_found' });
      assert.equal(existsSync(join(dataDir, 'files', kept.id)), false, 'the folder is gone');
      await assert.rejects(stack.accounts.forgetKept(kept.id), { code: 'not_found' });

      const gone = await create();
      assert.equal((await runToEnd(stack, gone.id)).filesSaved, 1);
      const [goneFile] = await stack.files.list(gone.id);
      await stack.accounts.remove(gone.id, { keepFiles: false });
      assert.deepEqual(await stack.accounts.kept(), []);
      await assert.rejects(stack.files.open(goneFile!.id), { code: 'not_found' });
      assert.equal(existsSync(join(dataDir, 'files', gone.id)), false);

      // An account with no documents leaves nothing to list.
      const empty = await stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'a', password: 'b' } });
      await stack.accounts.remove(empty.id);
      assert.deepEqual(await stack.accounts.kept(), []);
    } finally {
      await stack.close(1000);
    }
  });
});
