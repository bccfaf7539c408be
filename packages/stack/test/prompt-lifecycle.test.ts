import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reducePrompt, type PromptState } from '../src/core/prompt-lifecycle.js';

const waiting: PromptState = { status: 'waiting', attempts: 0, expiresAt: 10_000 };

describe('prompt lifecycle', () => {
  it('accepts a well-formed code once, normalized, and delivers it', () => {
    const step = reducePrompt(waiting, { type: 'submit', code: '123 456' }, 5000);
    assert.equal(step.outcome, 'accepted');
    assert.deepEqual(step.effects, [{ type: 'deliver', code: '123456' }]);
    assert.deepEqual(step.state, { status: 'answered', attempts: 1, expiresAt: 10_000 });
    assert.equal(reducePrompt(step.state, { type: 'submit', code: '123456' }, 5001).outcome, 'not_waiting');
  });

  it("checks a code against its type's pattern: digits only for SMS and authenticator codes, letters allowed by e-mail", () => {
    for (const type of ['sms', 'app_code'] as const) {
      const step = reducePrompt({ ...waiting, type }, { type: 'submit', code: '12ab56' }, 5000);
      assert.equal(step.outcome, 'bad_format', type);
      assert.deepEqual(step.effects, []);
      assert.equal(step.state.attempts, 1, 'counted');
      assert.equal(reducePrompt({ ...waiting, type }, { type: 'submit', code: '12 34-56' }, 5000).outcome, 'accepted');
    }
    for (const type of ['email', null] as const)
      assert.deepEqual(reducePrompt({ ...waiting, type }, { type: 'submit', code: 'ab12CD' }, 5000).effects, [
        { type: 'deliver', code: 'ab12CD' },
      ]);
  });

  it('refuses a bad format, counting the attempt; the last one locks the prompt and ends its wait at once', () => {
    let state = waiting;
    for (let i = 0; i < 3; i++) {
      const step = reducePrompt(state, { type: 'submit', code: 'no!' }, 1000, 3);
      assert.equal(step.outcome, 'bad_format');
      assert.deepEqual(step.effects, i < 2 ? [] : [{ type: 'reject', error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' }]);
      state = step.state;
    }
    assert.equal(state.attempts, 3);
    assert.equal(state.status, 'cancelled');
    assert.equal(reducePrompt(state, { type: 'submit', code: '123456' }, 1000, 3).outcome, 'too_many_attempts');
  });

  it('expires at its deadline: a code then is `expired`, and the waiter is told', () => {
    const late = reducePrompt(waiting, { type: 'submit', code: '123456' }, 10_000);
    assert.equal(late.outcome, 'expired');
    assert.equal(late.state.status, 'expired');
    const timeout = reducePrompt(waiting, { type: 'timeout' }, 10_000);
    assert.deepEqual(timeout.effects, [{ type: 'reject', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }]);
    assert.equal(reducePrompt(timeout.state, { type: 'submit', code: '123456' }, 11_000).outcome, 'expired');
  });

  it('cancel and interrupt close a waiting prompt only', () => {
    const cancelled = reducePrompt(waiting, { type: 'cancel' }, 0);
    assert.equal(cancelled.state.status, 'cancelled');
    assert.deepEqual(cancelled.effects, [{ type: 'reject', error: 'JOB_CANCELLED' }]);
    const interrupted = reducePrompt(waiting, { type: 'interrupt' }, 0);
    assert.equal(interrupted.state.status, 'interrupted');
    assert.deepEqual(reducePrompt(interrupted.state, { type: 'cancel' }, 0), { state: interrupted.state, effects: [] });
    assert.equal(reducePrompt(interrupted.state, { type: 'submit', code: '123456' }, 0).outcome, 'not_waiting');
  });
});
