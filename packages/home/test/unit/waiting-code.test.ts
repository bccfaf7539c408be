import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareCode } from '../../src/logic/answer-outcome.js';
import {
  attemptsLeftText,
  resendLabel,
  waitingCodes,
  waitingText,
  waitingTitlePrefix,
} from '../../src/logic/waiting-code.js';
import { account, iso, prompt, T0 } from './fixtures.js';

test('the header and the title list the accounts waiting for a code, newest first; expired or answered ones drop out', () => {
  const older = account({
    id: 'a1',
    label: 'GitHub',
    state: 'TWOFA_NEEDED.APP_CODE',
    prompt: prompt({ id: 'p1', accountId: 'a1', createdAt: iso(T0 + 1_000) }),
  });
  const newer = account({
    id: 'a2',
    label: 'Amazon',
    state: 'TWOFA_NEEDED.SMS',
    prompt: prompt({ id: 'p2', accountId: 'a2', createdAt: iso(T0 + 5_000) }),
  });
  const answered = account({ id: 'a3', state: 'LOGIN_SUCCESS', prompt: prompt({ id: 'p3', status: 'answered' }) });
  const codes = waitingCodes([older, newer, answered], T0 + 10_000);
  assert.deepEqual(
    codes.map((c) => [c.accountId, c.promptId, c.label]),
    [
      ['a2', 'p2', 'Amazon'],
      ['a1', 'p1', 'GitHub'],
    ],
  );
  assert.equal(waitingTitlePrefix(codes), '2 sign-ins waiting · ');
  assert.equal(waitingTitlePrefix(codes.slice(1)), 'Code waiting · ');
  assert.equal(waitingTitlePrefix([]), '');
  const approval = account({
    id: 'a4',
    state: 'TWOFA_NEEDED.APP',
    prompt: prompt({ id: 'p4', accountId: 'a4', type: 'app' }),
  });
  assert.equal(waitingText(waitingCodes([approval], T0 + 10_000)), 'Approval waiting', 'an approval is no code');
  // Past its deadline the prompt no longer counts, whatever the account still says.
  assert.deepEqual(waitingCodes([newer], T0 + 183_000), []);
});

test('attempts left: a count, then a plain warning for the last one', () => {
  assert.equal(attemptsLeftText(4), '4 attempts left before the site locks the account.');
  assert.match(attemptsLeftText(1), /^Last attempt: one more wrong code and the site locks the account/);
  assert.match(attemptsLeftText(0), /No attempt left/);
});

test('the resend button counts its cooldown down, and names a switch of method', () => {
  const at = iso(T0 + 25_000);
  assert.deepEqual(resendLabel(at, T0, false), { label: 'Send a new code in 0:25', waitMs: 25_000 });
  assert.deepEqual(resendLabel(at, T0 + 24_001, false), { label: 'Send a new code in 0:01', waitMs: 999 });
  assert.deepEqual(resendLabel(at, T0 + 25_000, false), { label: 'Send a new code', waitMs: 0 });
  assert.equal(resendLabel(at, T0 + 30_000, true).label, 'Send the code there');
});

test('an SMS or authenticator code is digits only; an e-mail code may hold letters', () => {
  const sms = prepareCode('12a456', 'sms');
  assert.equal(sms.ok, false);
  assert.match(sms.ok ? '' : sms.problem, /digits, with no letters/);
  assert.equal(prepareCode('12a456', 'app_code').ok, false);
  assert.deepEqual(prepareCode('123 456', 'sms'), { ok: true, code: '123456' });
  assert.deepEqual(prepareCode('AB12CD', 'email'), { ok: true, code: 'AB12CD' });
});
