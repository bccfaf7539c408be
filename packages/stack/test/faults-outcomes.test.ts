import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Job } from '@gleaner/contracts';
import { EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';

const FAULTS_KONNECTOR = join(FIXTURES, 'faults-konnector');

/** Runs one job per scenario/outcome pair on its own account, all at once; returns the ended jobs. */
async function runAll(pairs: { scenario: string; outcome: string }[]): Promise<{ jobs: Job[]; dataDir: string }> {
  const dataDir = tmpDataDir();
  const stack = await openStack(dataDir, { konnectorDirs: [FAULTS_KONNECTOR], concurrency: 8 });
  const recorder = new EventRecorder(stack);
  try {
    const started = await Promise.all(
      pairs.map(async ({ scenario, outcome }, i) => {
        const account = await stack.accounts.create({
          konnector: 'faults-test',
          fields: { login: `user${i}`, scenario, outcome, delayMs: '100' },
        });
        return stack.jobs.start(account.id, 'manual');
      }),
    );
    await Promise.all(started.map((job) => recorder.waitFor(isJobEnded(job.id), `the end of job ${job.id}`, 60_000)));
    return { jobs: await Promise.all(started.map((job) => stack.jobs.get(job.id))), dataDir };
  } finally {
    recorder.stop();
    await stack.close(1000);
  }
}

const expected = (outcome: string) =>
  outcome === 'ok' ? { status: 'done', error: null } : { status: 'errored', error: outcome };

describe('the outcome of a run', () => {
  it('is the one the konnector reported when its process exits the moment finish is written, or is killed right then', async () => {
    const pairs = ['exit-at-once', 'killed-after-finish'].flatMap((scenario) =>
      ['ok', 'VENDOR_DOWN', 'LOGIN_FAILED', 'ok', 'MAINTENANCE', 'ok'].map((outcome) => ({ scenario, outcome })),
    );
    const { jobs, dataDir } = await runAll(pairs);
    const wrong = jobs
      .map((job, i) => ({ ...pairs[i]!, got: { status: job.status, error: job.error } }))
      .filter((r) => JSON.stringify(r.got) !== JSON.stringify(expected(r.outcome)));
    assert.deepEqual(wrong, [], 'every recorded outcome is the reported one');
    for (const job of jobs) assert.equal(job.filesSaved, 1, 'its file saved before finish counts');
    assert.ok(existsSync(dataDir));
  });

  it('a konnector killed mid-run (before finish) ends UNKNOWN_ERROR with the signal logged (137 = 128 + SIGKILL through the sandbox), never running', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir, { konnectorDirs: [FAULTS_KONNECTOR] });
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'faults-test',
        fields: { login: 'ada', scenario: 'crash', delayMs: '100' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      await recorder.waitFor(isJobEnded(job.id), 'the end of the crashed job', 30_000);
      const ended = await stack.jobs.get(job.id);
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'UNKNOWN_ERROR');
      const logs = await stack.jobs.logs(job.id);
      assert.ok(
        logs.some((l) => /exited without finishing \((signal SIGKILL|exit code 137)\)/.test(l.message)),
        JSON.stringify(logs.map((l) => l.message)),
      );
      assert.deepEqual(await stack.storage.jobs.list({ statuses: ['queued', 'running'] }), []);
      // The account runs again at once: nothing of the dead run holds it.
      const again = await stack.jobs.start(account.id, 'manual');
      await recorder.waitFor(isJobEnded(again.id), 'the next job', 30_000);
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('log lines that cannot be stored (the disk full under the job log) never keep a job running', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir, { konnectorDirs: [FAULTS_KONNECTOR] });
    const recorder = new EventRecorder(stack);
    // The store of log lines fails as SQLite does on a full disk; everything else works.
    const append = stack.storage.logs.append.bind(stack.storage.logs);
    stack.storage.logs.append = () =>
      Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    try {
      const account = await stack.accounts.create({
        konnector: 'faults-test',
        fields: { login: 'ada', scenario: 'exit-at-once', outcome: 'VENDOR_DOWN', delayMs: '50' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      await recorder.waitFor(isJobEnded(job.id), 'the end of the job', 30_000);
      const ended = await stack.jobs.get(job.id);
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'VENDOR_DOWN', 'the outcome it reported');
      assert.deepEqual(await stack.storage.logs.list(job.id), [], 'no line could be stored');
    } finally {
      stack.storage.logs.append = append;
      recorder.stop();
      await stack.close(1000);
    }
  });
});
