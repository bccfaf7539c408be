import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES } from '@gleaner/contracts';
import { errorMessage, ERROR_MESSAGES, nextStepLabel } from '../../src/error-messages.js';

test('every error code of the contracts has its own human message', () => {
  for (const code of ERROR_CODES) {
    const message = errorMessage(code);
    assert.equal(message.code, code, code);
    assert.ok(message.title.length > 3 && message.message.length > 20, code);
    assert.doesNotMatch(message.message, /[A-Z]{3,}_[A-Z]/, `${code} shows no raw code`);
  }
  assert.deepEqual(Object.keys(ERROR_MESSAGES).sort(), [...ERROR_CODES].sort());
});

test('an unknown suffix falls back to the first segment, then to UNKNOWN_ERROR', () => {
  assert.equal(errorMessage('LOGIN_FAILED.SOMETHING_NEW').code, 'LOGIN_FAILED');
  assert.equal(errorMessage('USER_ACTION_NEEDED.NEW_FORM').title, 'Action needed on the website');
  assert.equal(errorMessage('VENDOR_DOWN.BANK_SIDE').code, 'VENDOR_DOWN');
  assert.equal(errorMessage('SOMETHING_ELSE').code, 'UNKNOWN_ERROR');
  assert.equal(errorMessage('').code, 'UNKNOWN_ERROR');
  assert.equal(errorMessage(null).code, 'UNKNOWN_ERROR');
  assert.equal(errorMessage(undefined).title, 'Something went wrong');
});

test('an expiry is told by who was there: a person who did not answer, or a scheduled run that needed one', () => {
  const manual = errorMessage('USER_ACTION_NEEDED.TWOFA_EXPIRED', 'manual');
  assert.equal(manual.title, 'No answer in time');
  assert.equal(manual.next, 'reconnect');
  assert.equal(nextStepLabel(manual.next), 'Reconnect');
  const background = errorMessage('USER_ACTION_NEEDED.TWOFA_EXPIRED', 'background');
  assert.equal(background.code, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  assert.equal(background.title, 'Sign in again to renew the session');
  assert.doesNotMatch(background.message, /code/i, 'a background run asked nobody for a code');
  assert.equal(background.next, 'reconnect');
  // Codes with one meaning whoever ran them are the same in both modes.
  assert.deepEqual(errorMessage('LOGIN_FAILED', 'background'), errorMessage('LOGIN_FAILED', 'manual'));
});

test('a sign-in denied in the app says so and offers to try again, not "action needed on the website"', () => {
  const denied = errorMessage('USER_ACTION_NEEDED.TWOFA_DENIED');
  assert.equal(denied.code, 'USER_ACTION_NEEDED.TWOFA_DENIED');
  assert.match(denied.message, /denied in the app/);
  assert.match(denied.message, /try again/);
  assert.equal(denied.next, 'reconnect');
  assert.notEqual(denied.title, errorMessage('USER_ACTION_NEEDED').title);
});

test('each kind of error offers the right next step', () => {
  assert.equal(errorMessage('LOGIN_FAILED').next, 'update-credentials');
  assert.equal(errorMessage('USER_ACTION_NEEDED.CHANGE_PASSWORD').next, 'update-credentials');
  assert.equal(errorMessage('VENDOR_DOWN').next, 'wait');
  assert.equal(errorMessage('MAINTENANCE').next, 'wait');
  assert.equal(errorMessage('JOB_INTERRUPTED').next, 'run-again');
  assert.equal(errorMessage('UNKNOWN_ERROR.PARTIAL_SYNC').next, 'run-again');
  assert.equal(nextStepLabel('wait'), null);
  assert.equal(nextStepLabel('update-credentials'), 'Update credentials');
});
