import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { EventRecorder, isJobEnded, isPrompt, openStack, tmpDataDir } from './helpers/stack-harness.js';

/** A manual run of the fixture konnector whose "site" approves after `approveAfterMs`, up to its prompt. */
async function runUntilPrompt(t: TestContext, approveAfterMs: number) {
  const stack = await openStack(tmpDataDir());
  const recorder = new EventRecorder(stack);
  t.after(async () => {
    recorder.stop();
    await stack.close(300);
  });
  const account = await stack.accounts.create({
    konnector: 'twofa-test',
    fields: { login: 'ada', password: 'pw', scenario: 'app', approveAfterMs: String(approveAfterMs) },
  });
  const job = await stack.jobs.start(account.id, 'manual');
  const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
  return { stack, recorder, account, job, prompt: waiting.prompt };
}

describe("2FA by approval in the provider's app (type 'app'), with a real konnector process", () => {
  it('the prompt waits with no code; once the site says approved it is answered, and the run goes on to done', async (t) => {
    const { stack, recorder, account, job, prompt } = await runUntilPrompt(t, 1500);
    assert.equal(prompt.type, 'app');
    assert.equal((await stack.accounts.get(account.id)).state, 'TWOFA_NEEDED.APP');
    assert.equal(await stack.prompts.answer(prompt.id, '123456'), 'bad_format', 'an approval takes no code');

    const answered = await recorder.waitFor(isPrompt(account.id, 'answered'), 'the approval');
    assert.equal(answered.prompt.id, prompt.id);
    const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
    assert.equal(ended.job.status, 'done', `job ended ${ended.job.error}`);
    assert.equal(ended.job.loginStatus, 'succeeded');
    const logs = (await stack.jobs.logs(job.id)).map((l) => l.message).join('\n');
    assert.match(logs, /approved, code ""/);
  });

  it('the person cancels while the konnector polls: the job ends JOB_CANCELLED at once', async (t) => {
    const { stack, recorder, job, prompt } = await runUntilPrompt(t, 600_000);
    const cancelledAt = Date.now();
    await stack.prompts.cancel(prompt.id);
    const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
    assert.equal(ended.job.error, 'JOB_CANCELLED');
    assert.ok(Date.now() - cancelledAt < 5_000, `ended ${Date.now() - cancelledAt} ms after the cancel`);
    assert.equal((await stack.storage.prompts.get(prompt.id))?.status, 'cancelled');
  });
});
