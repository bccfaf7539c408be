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

test('an expired code asks to renew the authentication with a Reconnect button', () => {
  const message = errorMessage('USER_ACTION_NEEDED.TWOFA_EXPIRED');
  assert.equal(message.title, 'Authentication renewal required');
  assert.equal(message.next, 'reconnect');
  assert.equal(nextStepLabel(message.next), 'Reconnect');
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
