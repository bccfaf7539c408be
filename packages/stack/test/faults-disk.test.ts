import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { GleanerStack } from '../src/create-stack.js';
import { startServer } from '../src/server.js';
import { EventRecorder, FIXTURES, isJobEnded } from './helpers/stack-harness.js';
import { fillDisk, mountTmpfs } from './helpers/mounts.js';

const PASSWORD = 'faults-disk-Pw-8812';
const FAULTS_KONNECTOR = join(FIXTURES, 'faults-konnector');


test('disk full mid-run: the job ends DISK_QUOTA_EXCEEDED naming the folder; API writes answer 507 naming it, never 500; freed, it works again', async () => {
  const tmpfs = mountTmpfs('24m');
  const dataDir = join(tmpfs.dir, 'data');
  const server = await startServer({
    dataDir,
    port: 0,
    konnectorDirs: [FAULTS_KONNECTOR],
    adminPassword: PASSWORD,
    logger: pino({ level: process.env.FAULTS_DEBUG ? 'error' : 'silent' }),
    print: () => undefined,
    stackOptions: { schedulerIntervalMs: false, env: {} },
  });
  const { stack } = server;
  const recorder = new EventRecorder(stack as GleanerStack);
  try {
    // A 40 MiB file cannot fit in what is left of 24 MiB.
    const account = await stack.accounts.create({
      konnector: 'faults-test',
      fields: { login: 'ada', sizeKb: String(40 * 1024), delayMs: '0' },
    });
    const job = await stack.jobs.start(account.id, 'manual');
    await recorder.waitFor(isJobEnded(job.id), 'the end of the job', 60_000);
    const ended = await stack.jobs.get(job.id);
    assert.equal(ended.status, 'errored');
    assert.equal(ended.error, 'DISK_QUOTA_EXCEEDED');
    const logs = await stack.jobs.logs(job.id);
    assert.ok(
      logs.some(
        (l) =>
          l.level === 'error' &&
          l.message.includes(`the disk holding ${join(dataDir, 'files')}`) &&
          l.message.includes('is full'),
      ),
      JSON.stringify(logs.map((l) => l.message)),
    );

    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const create = (i: number) =>
      fetch(`${server.url}/api/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({
          konnector: 'faults-test',
          label: `account ${i}`,
          fields: { login: `u${i}-${'x'.repeat(2000)}` },
        }),
      });

    fillDisk(join(tmpfs.dir, 'filler'));
    // SQLite may still reuse pages it holds: write until the disk refuses; no write may answer 500.
    let refused: { status: number; body: { error: string; message: string } } | null = null;
    for (let i = 0; i < 500 && !refused; i++) {
      const response = await create(i);
      assert.notEqual(response.status, 500, 'never a generic 500');
      if (response.status !== 201) refused = { status: response.status, body: (await response.json()) as never };
      else await response.body?.cancel();
    }
    assert.ok(refused, 'the full disk refused a write');
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'disk_full');
    assert.equal(refused.body.message, `the disk holding ${dataDir} is full: free some space, then try again`);

    rmSync(join(tmpfs.dir, 'filler'));
    const again = await create(9999);
    assert.equal(again.status, 201, 'space freed: writes work again');
    const job2 = await stack.jobs.start(account.id, 'manual');
    await recorder.waitFor(isJobEnded(job2.id), 'the next job', 60_000);
    assert.equal((await stack.jobs.get(job2.id)).error, 'DISK_QUOTA_EXCEEDED', 'still too big for 24 MiB');
    assert.deepEqual(await (stack as GleanerStack).storage.jobs.list({ statuses: ['queued', 'running'] }), []);
  } finally {
    recorder.stop();
    await server.close(1000).catch(() => undefined);
    tmpfs.unmount();
  }
});
