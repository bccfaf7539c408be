import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideScheduledRun, reduceSkipPolicy } from '../src/core/skip-policy.js';
import { nextRunAt, spreadTime } from '../src/core/schedule.js';

describe('skip policy', () => {
  it('an error that needs the person pauses scheduled runs until a manual run succeeds', () => {
    let state = reduceSkipPolicy(
      { pausedBy: null },
      { type: 'jobEnded', mode: 'background', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' },
    );
    assert.deepEqual(decideScheduledRun(state, { hasActiveJob: false }), {
      run: false,
      reason: 'USER_ACTION_NEEDED.TWOFA_EXPIRED',
    });
    state = reduceSkipPolicy(state, { type: 'jobEnded', mode: 'manual', error: 'VENDOR_DOWN' });
    assert.equal(state.pausedBy, 'USER_ACTION_NEEDED.TWOFA_EXPIRED', 'another error does not lift it');
    state = reduceSkipPolicy(state, { type: 'jobEnded', mode: 'background', error: null });
    assert.notEqual(state.pausedBy, null, 'a background success does not lift it');
    state = reduceSkipPolicy(state, { type: 'jobEnded', mode: 'manual', error: 'LOGIN_FAILED' });
    assert.equal(state.pausedBy, 'LOGIN_FAILED');
    state = reduceSkipPolicy(state, { type: 'jobEnded', mode: 'manual', error: null });
    assert.deepEqual(decideScheduledRun(state, { hasActiveJob: false }), { run: true });
  });

  it('other errors do not pause; an active job makes the run skip as BUSY', () => {
    const state = reduceSkipPolicy({ pausedBy: null }, { type: 'jobEnded', mode: 'background', error: 'VENDOR_DOWN' });
    assert.equal(state.pausedBy, null);
    assert.deepEqual(decideScheduledRun(state, { hasActiveJob: true }), { run: false, reason: 'BUSY' });
  });
});

describe('schedule', () => {
  it('spreads times over the window, the same for the same id', () => {
    const times = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const { time, weekday } = spreadTime(`account-${i}`, [2, 4]);
      assert.match(time, /^0[23]:[0-5]\d$/);
      assert.ok(weekday >= 0 && weekday < 7);
      times.add(time);
    }
    assert.ok(times.size > 50, 'spread, not bunched');
    assert.deepEqual(spreadTime('a', [22, 2]), spreadTime('a', [22, 2]));
    assert.match(spreadTime('a', [22, 2]).time, /^(22|23|00|01):/);
  });

  it('the next run is strictly after now, daily or weekly, in local time', () => {
    const now = new Date(2030, 0, 15, 3, 0, 0).getTime(); // a Tuesday
    assert.equal(
      nextRunAt({ frequency: 'daily', time: '02:30', weekday: 0 }, now),
      new Date(2030, 0, 16, 2, 30).getTime(),
    );
    assert.equal(
      nextRunAt({ frequency: 'daily', time: '03:30', weekday: 0 }, now),
      new Date(2030, 0, 15, 3, 30).getTime(),
    );
    assert.equal(
      nextRunAt({ frequency: 'daily', time: '03:00', weekday: 0 }, now),
      new Date(2030, 0, 16, 3, 0).getTime(),
    );
    assert.equal(
      nextRunAt({ frequency: 'weekly', time: '03:00', weekday: 2 }, now),
      new Date(2030, 0, 22, 3, 0).getTime(),
    );
    assert.equal(
      nextRunAt({ frequency: 'weekly', time: '01:00', weekday: 5 }, now),
      new Date(2030, 0, 18, 1, 0).getTime(),
    );
    assert.equal(nextRunAt({ frequency: 'off', time: '01:00', weekday: 5 }, now), null);
  });
});
