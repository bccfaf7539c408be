import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Job, StackEvent } from '@gleaner/contracts';
import { AMAZON_USERS, startSites, type RunningSites } from '@gleaner/sites';
import type { GleanerStack } from '../src/create-stack.js';
import { EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';

/**
 * The budget of codes end to end: the real Amazon konnector under a real stack, the fake site over
 * HTTP on 127.0.0.1, a fake clock two hours on between runs. Each run has no session, so each login
 * makes the site send an SMS, until the budget (3 a day here) is spent.
 */
const REPO = resolve(FIXTURES, '../../../..');
const HOUR = 3_600_000;

describe('budget of codes: four runs in a day on a budget of 3', () => {
  let sites: RunningSites;
  let stack: GleanerStack;
  let recorder: EventRecorder;
  let offset = 0;

  before(async () => {
    sites = await startSites();
    stack = await openStack(tmpDataDir(), {
      konnectorDirs: [resolve(REPO, 'konnectors/amazon')],
      codeBudget: { prompts: 3, windowHours: 24 },
      clock: { now: () => Date.now() + offset },
    });
    recorder = new EventRecorder(stack);
  });
  after(async () => {
    recorder.stop();
    await stack.close(2000);
    await sites.close();
  });

  it('the fourth ends TWOFA_BUDGET_EXCEEDED and the site sent only three codes', async () => {
    const alice = AMAZON_USERS.alice;
    const site = sites.controls.amazon;
    const account = await stack.accounts.create({
      konnector: 'amazon',
      fields: { login: alice.login, password: alice.password, baseUrl: sites.amazon },
    });
    const run = async (): Promise<Job> => {
      const job = await stack.jobs.start(account.id, 'manual');
      const isWaiting = (e: StackEvent): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
        e.type === 'prompt.updated' && e.prompt.jobId === job.id && e.prompt.status === 'waiting';
      const ended = recorder.waitFor(isJobEnded(job.id), 'the job', 30_000);
      const first = await Promise.race([recorder.waitFor(isWaiting, 'the prompt', 30_000), ended]);
      if (first.type === 'prompt.updated') {
        const code = site.lastCode(alice.login);
        assert.ok(code, 'the SMS the site sent');
        assert.equal(await stack.prompts.answer(first.prompt.id, code), 'accepted');
      }
      return (await ended).job;
    };

    for (let n = 1; n <= 3; n++) {
      const job = await run();
      assert.equal(job.status, 'done', `run ${n}: ${job.error}`);
      assert.equal(site.outbox(alice.login).length, n, `run ${n}: one SMS each`);
      // The next night's run has no session: the site asks for a code again.
      await stack.accounts.resetSession(account.id);
      offset += 2 * HOUR;
    }
    const fourth = await run();
    assert.equal(fourth.status, 'errored');
    assert.equal(fourth.error, 'TWOFA_BUDGET_EXCEEDED');
    assert.equal(site.outbox(alice.login).length, 3, 'the site sent only three codes');
    assert.equal((await stack.storage.prompts.listByJob(fourth.id)).length, 0, 'nobody was asked');
    const logs = (await stack.jobs.logs(fourth.id)).map((line) => line.message).join('\n');
    assert.match(logs, /asked for 3 codes in the last 24 h \(the budget is 3\): no new code before /);

    // A day after the first code, the window has a place again.
    offset += 20 * HOUR;
    const fifth = await run();
    assert.equal(fifth.status, 'done', `a day later: ${fifth.error}`);
    assert.equal(site.outbox(alice.login).length, 4);
  });
});
