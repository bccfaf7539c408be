import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CANARY_PASSWORD,
  databaseBytes,
  EventRecorder,
  GOOD_CODE,
  isJobEnded,
  isPrompt,
  openStack,
  tmpDataDir,
} from './helpers/stack-harness.js';

describe('a manual run with 2FA, through createStack and a real konnector process', () => {
  it('goes HANDLE_LOGIN_SUCCESS → TWOFA_NEEDED.SMS → LOGIN_SUCCESS → done; the file is saved; no secret in clear', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: CANARY_PASSWORD },
      });
      assert.deepEqual(account.fields, { login: 'ada', scenario: 'twofa' });
      assert.deepEqual(account.secretFieldsSet, ['password']);
      const job = await stack.jobs.start(account.id, 'manual');
      await assert.rejects(stack.jobs.start(account.id, 'manual'), { name: 'StackError', code: 'conflict' });

      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      assert.equal(waiting.prompt.jobId, job.id);
      assert.equal(waiting.prompt.type, 'sms');
      assert.equal((await stack.accounts.get(account.id)).prompt?.id, waiting.prompt.id);
      assert.equal((await stack.jobs.get(job.id)).loginStatus, 'pending');

      assert.equal(await stack.prompts.answer(waiting.prompt.id, ' q7 '), 'bad_format');
      assert.equal(
        await stack.prompts.answer(waiting.prompt.id, `${GOOD_CODE.slice(0, 4)}-${GOOD_CODE.slice(4)}`),
        'accepted',
      );
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'not_waiting');

      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.status, 'done', `job ended ${ended.job.error}`);
      assert.equal(ended.job.loginStatus, 'succeeded');
      assert.equal(ended.job.filesSaved, 1);
      await stack.events.flush();

      const states = recorder.statesOf(account.id);
      const order = ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.SMS', 'LOGIN_SUCCESS'].map((s) => states.indexOf(s));
      assert.ok(
        order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)),
        `states in order: ${states.join(' → ')}`,
      );
      // The job's done event comes after LOGIN_SUCCESS.
      const successAt = recorder.events.findIndex(
        (e) => e.type === 'account.updated' && e.account.state === 'LOGIN_SUCCESS',
      );
      assert.ok(recorder.events.indexOf(ended) > successAt);

      const files = await stack.files.list(account.id);
      assert.equal(files.length, 1);
      assert.equal(files[0]?.name, 'bill-2030-01.pdf');
      assert.deepEqual(files[0]?.bill, {
        amount: 12.5,
        currency: 'EUR',
        date: '2030-01-15',
        vendor: 'Test Vendor',
        vendorRef: 'B1',
      });
      const opened = await stack.files.open(files[0].id);
      const chunks: Buffer[] = [];
      for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString(), /^%PDF-1\.4/);

      const prompt = (await stack.storage.prompts.listByJob(job.id))[0];
      assert.equal(prompt?.status, 'answered');
      assert.equal(prompt?.attempts, 2);

      const logs = await stack.jobs.logs(job.id);
      assert.ok(
        logs.some((l) => l.message.includes('logging in as ada with [redacted]')),
        'stdout line stored, password scrubbed',
      );
      assert.ok(
        logs.some((l) => l.message.includes('got code [redacted]')),
        'code scrubbed from stdout',
      );
      const after = await stack.accounts.get(account.id);
      assert.equal(after.state, 'LOGIN_SUCCESS');
      assert.equal(after.needsAction, false);
      assert.equal(after.prompt, null);

      for (const [where, text] of [
        ['job logs', JSON.stringify(logs)],
        ['events', JSON.stringify(recorder.events)],
        ['account view', JSON.stringify(await stack.accounts.list())],
        ['jobs', JSON.stringify(await stack.jobs.list({}))],
        ['database (open)', databaseBytes(dataDir)],
      ] as const) {
        assert.ok(!text.includes(CANARY_PASSWORD), `password in ${where}`);
        assert.ok(!text.includes(GOOD_CODE), `code in ${where}`);
      }
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
    const bytes = databaseBytes(dataDir);
    assert.ok(bytes.length > 0);
    assert.ok(!bytes.includes(CANARY_PASSWORD), 'password in the database file');
    assert.ok(!bytes.includes(GOOD_CODE), 'code in the database file');
    assert.ok(bytes.includes('ada'), 'the clear login is there: the search does work');
  });

  it('a wrong code then the right one: the retry prompt is TWOFA_NEEDED_RETRY.SMS', async () => {
    const stack = await openStack(tmpDataDir());
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const first = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the first prompt');
      assert.equal(await stack.prompts.answer(first.prompt.id, '000000'), 'accepted');
      const second = await recorder.waitFor(
        (e): e is typeof first => isPrompt(account.id, 'waiting')(e) && e.prompt.id !== first.prompt.id,
        'the retry prompt',
      );
      assert.equal(second.prompt.retry, true);
      assert.equal((await stack.accounts.get(account.id)).state, 'TWOFA_NEEDED_RETRY.SMS');
      assert.equal(await stack.prompts.answer(second.prompt.id, GOOD_CODE), 'accepted');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.status, 'done');
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('two codes at once: exactly one is accepted and the konnector gets one', async () => {
    const stack = await openStack(tmpDataDir());
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      const outcomes = await Promise.all([
        stack.prompts.answer(waiting.prompt.id, GOOD_CODE),
        stack.prompts.answer(waiting.prompt.id, '111111'),
        stack.prompts.answer(waiting.prompt.id, GOOD_CODE),
      ]);
      assert.equal(outcomes.filter((o) => o === 'accepted').length, 1, outcomes.join(','));
      assert.equal(outcomes.filter((o) => o === 'not_waiting').length, 2, outcomes.join(','));
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      // The accepted one was first in line: the right code.
      assert.equal(ended.job.status, 'done');
      assert.equal(
        (await stack.storage.prompts.listByJob(job.id)).length,
        1,
        'the konnector got one code and asked no more',
      );
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('after expiry the answer is `expired` and the job ends USER_ACTION_NEEDED.TWOFA_EXPIRED', async () => {
    const stack = await openStack(tmpDataDir(), { maxCodeAttempts: 2 });
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', timeout: '1500' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      // One malformed code (of two allowed) does not lock it: the deadline ends it.
      assert.equal(await stack.prompts.answer(waiting.prompt.id, '12'), 'bad_format');
      await recorder.waitFor(isPrompt(account.id, 'expired'), 'the expiry');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'expired');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.equal(ended.job.loginStatus, 'failed');
      const account2 = await stack.accounts.get(account.id);
      assert.equal(account2.state, null, 'transient state cleared');
      assert.equal(account2.needsAction, true);
      await assert.rejects(stack.prompts.answer('no-such-prompt', GOOD_CODE), { code: 'not_found' });
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('a cancelled job ends JOB_CANCELLED and its prompt is cancelled', async () => {
    const stack = await openStack(tmpDataDir());
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      const cancelled = await stack.jobs.cancel(job.id);
      assert.equal(cancelled.status, 'errored');
      assert.equal(cancelled.error, 'JOB_CANCELLED');
      assert.equal((await stack.storage.prompts.get(waiting.prompt.id))?.status, 'cancelled');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'not_waiting');
      assert.equal((await stack.accounts.get(account.id)).state, null);
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('a konnector that never ends is stopped at the time limit: JOB_TIMEOUT', async () => {
    const stack = await openStack(tmpDataDir(), { jobTimeLimitMs: 1500, killGraceMs: 500 });
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', scenario: 'hang' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.error, 'JOB_TIMEOUT');
      assert.equal((await stack.accounts.get(account.id)).state, null);
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });
});
