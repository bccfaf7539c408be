import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AUTO_SUCCESS_MS,
  initialLoginState,
  reduceLoginStatus,
  type LoginEffect,
  type LoginEvent,
  type LoginState,
} from '../src/core/login-status.js';

/** Drives the reducer with a fake clock, following its wake-ups like the shell does. */
function drive(steps: [at: number, event: LoginEvent][]): { state: LoginState; effects: LoginEffect[] } {
  let state = initialLoginState;
  const effects: LoginEffect[] = [];
  for (const [at, event] of steps) {
    const step = reduceLoginStatus(state, event, at);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

describe('the 8-second rule', () => {
  it('succeeds 8 s after start with no error when the konnector did not hold it off', () => {
    const started = reduceLoginStatus(initialLoginState, { type: 'started', accountState: null }, 1000);
    assert.deepEqual(started.effects, [{ type: 'wakeAt', at: 1000 + AUTO_SUCCESS_MS }]);
    assert.equal(reduceLoginStatus(started.state, { type: 'tick' }, 8999).state.status, 'pending');
    const later = reduceLoginStatus(started.state, { type: 'tick' }, 9000);
    assert.equal(later.state.status, 'succeeded');
    assert.deepEqual(later.effects, [{ type: 'setLoginStatus', status: 'succeeded' }]);
  });

  it('waits while HANDLE_LOGIN_SUCCESS or a 2FA state, and succeeds on LOGIN_SUCCESS', () => {
    const { state, effects } = drive([
      [0, { type: 'started', accountState: null }],
      [100, { type: 'accountState', state: 'HANDLE_LOGIN_SUCCESS' }],
      [8000, { type: 'tick' }],
      [9000, { type: 'accountState', state: 'TWOFA_NEEDED.SMS' }],
      [60_000, { type: 'tick' }],
    ]);
    assert.equal(state.status, 'pending');
    assert.ok(!effects.some((e) => e.type === 'setLoginStatus'));
    const success = reduceLoginStatus(state, { type: 'accountState', state: 'LOGIN_SUCCESS' }, 61_000);
    assert.equal(success.state.status, 'succeeded');
    assert.deepEqual(success.effects, [{ type: 'setLoginStatus', status: 'succeeded' }]);
  });

  it('a state that no longer holds off after 8 s decides at once', () => {
    const { state } = drive([
      [0, { type: 'started', accountState: 'TWOFA_NEEDED.EMAIL' }],
      [10_000, { type: 'accountState', state: null }],
    ]);
    assert.equal(state.status, 'succeeded');
  });

  it('fails when the job errors before success; a later error does not undo a success', () => {
    assert.equal(
      drive([
        [0, { type: 'started', accountState: null }],
        [3000, { type: 'ended', error: 'LOGIN_FAILED' }],
      ]).state.status,
      'failed',
    );
    const { state, effects } = drive([
      [0, { type: 'started', accountState: null }],
      [500, { type: 'accountState', state: 'LOGIN_SUCCESS' }],
      [3000, { type: 'ended', error: 'VENDOR_DOWN' }],
    ]);
    assert.equal(state.status, 'succeeded');
    assert.equal(effects.filter((e) => e.type === 'setLoginStatus').length, 1);
  });

  it('a job that ends without error before 8 s succeeded', () => {
    assert.equal(
      drive([
        [0, { type: 'started', accountState: null }],
        [2000, { type: 'ended', error: null }],
      ]).state.status,
      'succeeded',
    );
  });
});
