import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventRecorder, GOOD_CODE, isJobEnded, isPrompt, openStack, tmpDataDir } from './helpers/stack-harness.js';

describe('background runs and the scheduler', () => {
  it('a background run ends TWOFA_EXPIRED, the next scheduled runs are skipped, a manual success lifts it', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const stack = await openStack(tmpDataDir(), { clock });
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw' },
      });
      const trigger = await stack.triggers.get(account.id);
      assert.equal(trigger.frequency, 'daily');
      assert.match(trigger.time, /^0[23]:/, 'inside the manifest window');
      assert.ok(trigger.nextRunAt);

      // Due: the scheduler starts a background run, which cannot wait for a code.
      offset = Date.parse(trigger.nextRunAt) - Date.now() + 1000;
      const first = await stack.scheduler.tick();
      assert.equal(first.started.length, 1);
      const ended = await recorder.waitFor(isJobEnded(first.started[0]!.jobId), 'the background job');
      assert.equal(ended.job.mode, 'background');
      assert.equal(ended.job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.equal(
        (await stack.storage.prompts.listByJob(ended.job.id)).length,
        0,
        'no prompt: nobody is there to answer',
      );
      const paused = await stack.accounts.get(account.id);
      assert.equal(paused.needsAction, true);
      assert.equal(paused.state, null);

      // Next day: skipped, and the skip is recorded.
      const next = (await stack.triggers.get(account.id)).nextRunAt!;
      assert.ok(Date.parse(next) > clock.now());
      offset = Date.parse(next) - Date.now() + 1000;
      const second = await stack.scheduler.tick();
      assert.deepEqual(second, {
        started: [],
        skipped: [{ accountId: account.id, reason: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }],
      });
      const record = await stack.scheduler.record(account.id);
      assert.equal(record.skipReason, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.ok(record.lastSkippedAt);
      // The API's trigger says it too, for Home's history.
      const shown = await stack.triggers.get(account.id);
      assert.equal(shown.skipReason, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.equal(shown.lastSkippedAt, record.lastSkippedAt);
      assert.deepEqual(await stack.scheduler.tick(), { started: [], skipped: [] }, 'fired once per due time');

      // A manual run with the code lifts the pause.
      const manual = await stack.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'accepted');
      assert.equal((await recorder.waitFor(isJobEnded(manual.id), 'the manual job')).job.status, 'done');
      assert.equal((await stack.accounts.get(account.id)).needsAction, false);

      offset = Date.parse((await stack.triggers.get(account.id)).nextRunAt!) - Date.now() + 1000;
      const third = await stack.scheduler.tick();
      assert.equal(third.started.length, 1, 'scheduled runs resume');
      await recorder.waitFor(isJobEnded(third.started[0]!.jobId), 'the resumed background job');
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('the host refuses a background wait for a code at once, creating no prompt', async () => {
    const stack = await openStack(tmpDataDir());
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', scenario: 'host-wait' },
      });
      const job = await stack.jobs.start(account.id, 'background');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the job');
      assert.equal(ended.job.error, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
      assert.deepEqual(await stack.storage.prompts.listByJob(job.id), []);
      assert.ok(
        !recorder.events.some((e) => e.type === 'account.updated' && e.account.state?.startsWith('TWOFA_NEEDED')),
      );
    } finally {
      recorder.stop();
      await stack.close(1000);
    }
  });

  it('triggers can be changed and turned off', async () => {
    const stack = await openStack(tmpDataDir());
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw' },
      });
      const weekly = await stack.triggers.set(account.id, { frequency: 'weekly', time: '05:45' });
      assert.equal(weekly.time, '05:45');
      assert.equal(new Date(weekly.nextRunAt!).getHours(), 5);
      // The weekday it runs on, and the zone its time of day is read in (the stack's).
      assert.equal(new Date(weekly.nextRunAt!).getDay(), weekly.weekday);
      assert.equal(weekly.timeZone, Intl.DateTimeFormat().resolvedOptions().timeZone);
      const off = await stack.triggers.set(account.id, { frequency: 'off' });
      assert.equal(off.nextRunAt, null);
      assert.equal((await stack.accounts.get(account.id)).nextRunAt, null);
      await assert.rejects(stack.triggers.set(account.id, { frequency: 'daily', time: '25:00' }), { code: 'invalid' });
      await assert.rejects(stack.triggers.get('nope'), { code: 'not_found' });
    } finally {
      await stack.close(1000);
    }
  });
});
