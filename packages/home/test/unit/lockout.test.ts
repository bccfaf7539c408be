import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lockoutMessage } from '../../src/logic/lockout.js';

test('the admin lockout says when to try again', () => {
  const now = Date.parse('2030-01-01T10:00:00.000Z');
  assert.match(
    lockoutMessage({ retryAfterSeconds: 300 }, now),
    /^Too many wrong passwords\. Try again in 5 min \(at .+\)\.$/,
  );
  assert.match(lockoutMessage({ retryAfterSeconds: 42 }, now), /Try again in 42 s/);
  assert.equal(lockoutMessage({}, now), 'Too many wrong passwords. Wait a few minutes, then try again.');
});
