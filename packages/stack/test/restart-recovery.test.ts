import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { StackEvent } from '@gleaner/contracts';
import {
  EventRecorder,
  FIXTURES,
  GOOD_CODE,
  isPrompt,
  openStack,
  tmpDataDir,
  TWOFA_KONNECTOR,
} from './helpers/stack-harness.js';

describe('restart', () => {
  it('closed while a job waits for a code: the job ends JOB_INTERRUPTED, its prompt interrupted, nothing left running', async () => {
    const dataDir = tmpDataDir();
    const first = await openStack(dataDir);
    const recorder = new EventRecorder(first);
    const account = await first.accounts.create({ konnector: 'twofa-test', fields: { login: 'ada', password: 'pw' } });
    const job = await first.jobs.start(account.id, 'manual');
    const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
    recorder.stop();
    await first.close(300);
    await assert.rejects(first.jobs.start(account.id, 'manual'), { code: 'conflict' }, 'a closed stack takes no job');

    const second = await openStack(dataDir);
    try {
      const ended = await second.jobs.get(job.id);
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'JOB_INTERRUPTED');
      assert.equal(ended.loginStatus, 'failed');
      assert.equal((await second.storage.prompts.get(waiting.prompt.id))?.status, 'interrupted');
      assert.deepEqual(await second.storage.jobs.list({ statuses: ['queued', 'running'] }), []);
      const after = await second.accounts.get(account.id);
      assert.equal(after.state, null);
      assert.equal(after.prompt, null);
      assert.equal(await second.prompts.answer(waiting.prompt.id, GOOD_CODE), 'not_waiting');
      assert.equal(second.recovered.jobs, 0, 'the close already ended it');
    } finally {
      await second.close(300);
    }
  });

  it('killed while a job waits (SIGKILL): at the next start the job is JOB_INTERRUPTED and its prompt interrupted', async () => {
    const dataDir = tmpDataDir();
    const child = spawn(process.execPath, [join(FIXTURES, 'crash-stack.mjs'), dataDir, TWOFA_KONNECTOR], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const ids = await new Promise<{ accountId: string; jobId: string; promptId: string }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no prompt from the stack process: ${out}`)), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /WAITING (\{.*\})/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(JSON.parse(match[1]!) as { accountId: string; jobId: string; promptId: string });
        }
      });
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const stack = await openStack(dataDir);
    try {
      assert.deepEqual(stack.recovered, { jobs: 1, prompts: 1, accounts: 1 });
      const job = await stack.jobs.get(ids.jobId);
      assert.equal(job.status, 'errored');
      assert.equal(job.error, 'JOB_INTERRUPTED');
      assert.equal((await stack.storage.prompts.get(ids.promptId))?.status, 'interrupted');
      assert.equal((await stack.accounts.get(ids.accountId)).state, null);
      assert.deepEqual(await stack.storage.jobs.list({ statuses: ['queued', 'running'] }), []);
      // And the account can run again.
      const recorder = new EventRecorder(stack);
      const again = await stack.jobs.start(ids.accountId, 'manual');
      const waiting = await recorder.waitFor(
        (e): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
          isPrompt(ids.accountId, 'waiting')(e) && e.prompt.jobId === again.id,
        'a new prompt',
      );
      assert.notEqual(waiting.prompt.id, ids.promptId);
      recorder.stop();
    } finally {
      await stack.close(300);
    }
  });
});
