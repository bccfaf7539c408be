import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger, createStack } from '@gleaner/stack';
import { gleaner, repoRoot } from './support/cli.js';
import { signIn, until } from './support/admin-api.js';

const ADMIN_PASSWORD = 'serve-test-admin-Pw-2718';
const TWOFA_KONNECTOR = join(repoRoot, 'packages/stack/test/fixtures/twofa-konnector');


test('gleaner serve stops on SIGTERM: a job waiting for a code ends JOB_INTERRUPTED after the grace period, nothing left running', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-serve-'));
  const serve = gleaner(['serve', '--data', dataDir, '--port', '0', '--konnectors', TWOFA_KONNECTOR, '--grace', '1'], {
    env: { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD, GLEANER_LOG_LEVEL: 'warn' },
  });
  try {
    const url = /Gleaner is serving on (http:\/\/\S+)/.exec(
      await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/, 20_000),
    )![1]!;
    const api = await signIn(url, ADMIN_PASSWORD);
    const created = await api('/api/accounts', {
      method: 'POST',
      json: { konnector: 'twofa-test', fields: { login: 'ada', password: 'ada-password' }, connect: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const accountId = (created.body as { id: string }).id;
    await until('the account to wait for a code', async () => {
      const { body } = await api(`/api/accounts/${accountId}`);
      return (body as { state: string | null }).state?.startsWith('TWOFA_NEEDED') ? true : undefined;
    });
    const [job] = (await api(`/api/accounts/${accountId}/jobs`)).body as Array<{ id: string; status: string }>;
    assert.equal(job?.status, 'running');

    const stoppedAt = Date.now();
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.output());
    const took = Date.now() - stoppedAt;
    assert.ok(took < 10_000, `stopped in ${took} ms with a 1 s grace period`);
    assert.match(serve.output(), /SIGTERM: stopping \(running jobs get 1 s/);

    const stack = await createStack({
      dataDir,
      konnectorDirs: [TWOFA_KONNECTOR],
      schedulerIntervalMs: false,
      logger: createLogger({ level: 'warn' }),
    });
    try {
      assert.equal(stack.recovered.jobs, 0, 'the stop itself ended the job: nothing for recovery to mend');
      const ended = await stack.jobs.get(job.id);
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'JOB_INTERRUPTED');
      assert.deepEqual(await stack.storage.jobs.list({ statuses: ['queued', 'running'] }), []);
    } finally {
      await stack.close(100);
    }
  } finally {
    if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
  }
});
