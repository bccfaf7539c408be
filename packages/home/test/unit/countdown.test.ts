import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeCountdown, formatCountdown, timeLeftMs } from '../../src/logic/countdown.js';
import { iso, T0 } from './fixtures.js';

test('time left counts down to expiresAt and stops at zero', () => {
  const expiresAt = iso(T0 + 180_000);
  assert.equal(timeLeftMs(expiresAt, T0), 180_000);
  assert.equal(timeLeftMs(expiresAt, T0 + 179_500), 500);
  assert.equal(timeLeftMs(expiresAt, T0 + 200_000), 0);
  assert.equal(timeLeftMs('not a date', T0), 0);
});

test('the countdown reads minutes:seconds, rounded up so that 0:00 means expired', () => {
  assert.equal(formatCountdown(180_000), '3:00');
  assert.equal(formatCountdown(125_000), '2:05');
  assert.equal(formatCountdown(9_001), '0:10');
  assert.equal(formatCountdown(400), '0:01');
  assert.equal(formatCountdown(0), '0:00');
  assert.equal(formatCountdown(-5_000), '0:00');
});

test('screen readers hear the time left in words', () => {
  assert.equal(describeCountdown(125_000), '2 minutes 5 seconds left');
  assert.equal(describeCountdown(60_000), '1 minute left');
  assert.equal(describeCountdown(1_000), '1 second left');
  assert.equal(describeCountdown(0), 'expired');
});
