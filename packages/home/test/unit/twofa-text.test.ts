import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TWOFA_TYPES } from '@gleaner/contracts';
import { codeInputMode, RETRY_MESSAGE, twoFaText } from '../../src/twofa-text.js';

test('each type of code has its own title and help', () => {
  assert.equal(twoFaText('sms').title, 'Enter the code sent to you by SMS');
  assert.equal(twoFaText('email').title, 'Enter the code sent to you by e-mail');
  assert.equal(twoFaText('app_code').title, 'Enter the code from your authenticator app');
  assert.equal(twoFaText('app').title, 'Approve the sign-in in your provider’s app');
  assert.equal(twoFaText('app', 'Amazon').title, 'Approve the sign-in in the Amazon app', 'the site named when known');
  assert.match(twoFaText('app', 'Amazon').help, /^Open the Amazon app on your phone/);
  assert.equal(twoFaText('sms', 'Amazon').title, 'Enter the code sent to you by SMS');
  const titles = new Set(TWOFA_TYPES.map((t) => twoFaText(t).title));
  assert.equal(titles.size, TWOFA_TYPES.length);
  for (const t of TWOFA_TYPES) assert.ok(twoFaText(t).help.length > 20);
});

test('approving in an app has no input; every other type has one', () => {
  assert.equal(twoFaText('app').hasInput, false);
  for (const t of ['sms', 'email', 'app_code'] as const) assert.equal(twoFaText(t).hasInput, true);
  assert.equal(twoFaText(null).hasInput, true);
});

test('digit codes get a numeric keypad, e-mail codes a text one', () => {
  assert.equal(codeInputMode('sms'), 'numeric');
  assert.equal(codeInputMode('app_code'), 'numeric');
  assert.equal(codeInputMode('email'), 'text');
  assert.equal(RETRY_MESSAGE, 'Invalid code, please re-enter it');
});
