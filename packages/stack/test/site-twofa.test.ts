import assert from 'node:assert/strict';
import { test } from 'node:test';
import { siteTwoFa, twoFaTypeOf } from '@gleaner/contracts';

test('a new account is told every kind its manifest names; one that logged in, only what it was asked', () => {
  assert.deepEqual(siteTwoFa({ asked: [], everLoggedIn: false, manifest: ['app', 'sms'] }), ['sms', 'app']);
  assert.deepEqual(siteTwoFa({ asked: [], everLoggedIn: true, manifest: ['app', 'sms'] }), []);
  assert.deepEqual(siteTwoFa({ asked: ['email'], everLoggedIn: true, manifest: ['sms'] }), ['email']);
  assert.deepEqual(siteTwoFa({ asked: ['email'], everLoggedIn: false, manifest: ['sms'] }), ['email', 'sms']);
});

test('a request that named no kind counts as every kind the manifest names, or every kind at all', () => {
  assert.deepEqual(siteTwoFa({ asked: [null], everLoggedIn: true, manifest: ['app_code'] }), ['app_code']);
  assert.deepEqual(siteTwoFa({ asked: [null], everLoggedIn: true, manifest: [] }), ['email', 'sms', 'app_code', 'app']);
});

test('the 2FA type a state names', () => {
  assert.equal(twoFaTypeOf('TWOFA_NEEDED.APP_CODE'), 'app_code');
  assert.equal(twoFaTypeOf('TWOFA_NEEDED_RETRY.SMS'), 'sms');
  assert.equal(twoFaTypeOf('TWOFA_NEEDED'), null);
  assert.equal(twoFaTypeOf('LOGIN_SUCCESS'), undefined);
  assert.equal(twoFaTypeOf(null), undefined);
});
