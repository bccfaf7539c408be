import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { StackEvent } from '@gleaner/contracts';
import {
  CANARY_PASSWORD,
  EventRecorder,
  GOOD_CODE,
  isJobEnded,
  isPrompt,
  openStack,
  tmpDataDir,
} from './helpers/stack-harness.js';

type PromptEvent = Extract<StackEvent, { type: 'prompt.updated' }>;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a prompt carries what the site said, through a real konnector process', () => {
  it('destination, attempts left, choices, resend with its cooldown, the method and the box read back; a wrong code keeps the deadline', async () => {
    const dataDir = tmpDataDir();
    const stack = await openStack(dataDir);
    const recorder = new EventRecorder(stack);
    try {
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: CANARY_PASSWORD, scenario: 'details', resendCooldownMs: '1000' },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const { prompt: first } = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the first prompt');
      assert.equal(first.type, 'sms');
      assert.equal(first.destination, '+33 6 •• •• •• 78');
      assert.equal(first.attemptsLeft, 3);
      assert.deepEqual(
        first.methods.map((m) => m.id),
        ['sms', 'email'],
      );
      assert.equal(first.method, 'sms');
      assert.deepEqual(first.trustDevice, { label: "Don't ask again on this browser", checked: true });
      const lifetime = Date.parse(first.expiresAt) - Date.parse(first.createdAt);
      assert.ok(Math.abs(lifetime - 120_000) < 2_000, `the code's own lifetime, not 3:00 (${lifetime} ms)`);
      assert.ok(first.resend, 'a resend is offered');
      assert.ok(Date.parse(first.resend.availableAt) > Date.parse(first.createdAt), 'after the cooldown');

      // Letters in an SMS code are refused (and counted), before anything reaches the konnector.
      assert.equal(await stack.prompts.answer(first.id, '12ab56'), 'bad_format');
      // Too soon, or by a way the site does not offer: refused, nothing sent.
      assert.equal((await stack.prompts.resend(first.id, 'email')).outcome, 'cooldown');
      assert.equal((await stack.prompts.resend(first.id, 'fax')).outcome, 'not_offered');

      await sleep(Math.max(0, Date.parse(first.resend.availableAt) - Date.now()) + 50);
      const sent = await stack.prompts.resend(first.id, 'email');
      assert.equal(sent.outcome, 'sent');
      const switched = await recorder.waitFor(
        (e): e is PromptEvent => e.type === 'prompt.updated' && e.prompt.id === first.id && e.prompt.method === 'email',
        'the prompt after the new code by e-mail',
      );
      assert.equal(switched.prompt.type, 'email');
      assert.equal(switched.prompt.destination, 'a••••@example.test');
      assert.equal(switched.prompt.status, 'waiting');
      assert.equal((await stack.accounts.get(account.id)).state, 'TWOFA_NEEDED.EMAIL');
      // The konnector's cooldown starts again with the new code.
      assert.equal((await stack.prompts.resend(first.id)).outcome, 'cooldown');

      // A wrong code: the site takes one attempt off, and the deadline stays the code's own.
      assert.equal(await stack.prompts.answer(first.id, '000000'), 'accepted');
      const second = await recorder.waitFor(
        (e): e is PromptEvent => isPrompt(account.id, 'waiting')(e) && e.prompt.id !== first.id,
        'the retry prompt',
      );
      assert.equal(second.prompt.retry, true);
      assert.equal(second.prompt.attemptsLeft, 2);
      assert.ok(Date.parse(second.prompt.createdAt) - Date.parse(first.createdAt) >= 1_000);
      const moved = Math.abs(Date.parse(second.prompt.expiresAt) - Date.parse(first.expiresAt));
      assert.ok(moved < 500, `the deadline did not restart (moved ${moved} ms)`);

      assert.equal(await stack.prompts.answer(second.prompt.id, GOOD_CODE, { trustDevice: false }), 'accepted');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.status, 'done', `job ended ${ended.job.error}`);
      const log = (await stack.jobs.logs(job.id)).map((line) => line.message).join('\n');
      assert.match(log, /resend asked by email/);
      assert.match(log, /answer method=email trust=false good=true/, 'the konnector read the choices back');
      assert.ok(!log.includes(GOOD_CODE), 'the code is not in the log');
    } finally {
      recorder.stop();
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
