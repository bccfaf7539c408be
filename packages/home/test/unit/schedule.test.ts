import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeSchedule, MANUAL_ONLY_TEXT, nextRunText, skipReasonText } from '../../src/logic/schedule.js';

const trigger = { frequency: 'weekly', time: '03:12', weekday: 2, timeZone: 'Europe/Paris' } as const;

test('the schedule names its weekday for weekly runs and the stack’s time zone', () => {
  assert.equal(describeSchedule(trigger), 'Every Tuesday at 03:12 (Europe/Paris time)');
  assert.equal(describeSchedule({ ...trigger, frequency: 'daily' }), 'Every day at 03:12 (Europe/Paris time)');
  assert.equal(describeSchedule({ ...trigger, frequency: 'off' }), 'Manual runs only');
});

test('the next run is told as it will happen: in the stack’s zone, and skipped while the account is paused', () => {
  const next = { nextRunAt: '2030-01-08T02:12:00.000Z', timeZone: 'Europe/Paris' };
  const shown = nextRunText(next, null, false, 'en-GB');
  assert.match(shown, /03:12/, `Paris time, not UTC (${shown})`);
  assert.match(shown, /\(Europe\/Paris\)$/);
  const paused = nextRunText(next, null, true, 'en-GB');
  assert.match(paused, /^Paused until you act: the run planned for .*03:12.* will be skipped$/);
  assert.equal(nextRunText(null, null, true), 'Paused until you act');
  assert.equal(nextRunText(null, null, false), 'Not scheduled');
});

test('a skipped run says why in words, never a raw code', () => {
  assert.equal(skipReasonText('BUSY'), 'another run of this account was going on');
  assert.equal(
    skipReasonText('USER_ACTION_NEEDED.TWOFA_DENIED'),
    'the account waits for you (Sign-in denied in the app)',
  );
  assert.equal(
    skipReasonText('USER_ACTION_NEEDED.TWOFA_EXPIRED', () => 'Sign in again to renew the session'),
    'the account waits for you (Sign in again to renew the session)',
  );
  assert.equal(skipReasonText('conflict'), 'the server was shutting down');
});

test('a manual-only konnector: Home says to run it yourself, not a schedule', () => {
  assert.match(MANUAL_ONLY_TEXT, /^Never scheduled: /);
  assert.match(MANUAL_ONLY_TEXT, /Run it yourself when you want fresh data\.$/);
});
