import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickTwoFaAccount, twoFaDialogView } from '../../src/logic/twofa-dialog.js';
import { account, iso, job, prompt, T0 } from './fixtures.js';

const now = T0 + 10_000;

test('opens when the account waits for a code and its prompt is waiting', () => {
  const view = twoFaDialogView(account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt(), lastJob: job() }), now);
  assert.equal(view.kind, 'ask');
  assert.equal(view.kind === 'ask' && view.retry, false);
});

test('stays closed without a waiting prompt or outside a 2FA state', () => {
  assert.deepEqual(twoFaDialogView(account({ state: 'HANDLE_LOGIN_SUCCESS', lastJob: job() }), now), {
    kind: 'closed',
    reason: 'idle',
  });
  assert.equal(
    twoFaDialogView(account({ state: 'TWOFA_NEEDED.SMS', prompt: null, lastJob: job() }), now).kind,
    'closed',
  );
  assert.equal(twoFaDialogView(account({ state: null, prompt: prompt(), lastJob: job() }), now).kind, 'closed');
});

test('a retry prompt or a TWOFA_NEEDED_RETRY state asks again with the retry message', () => {
  const byPrompt = twoFaDialogView(
    account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt({ id: 'p2', retry: true }), lastJob: job() }),
    now,
  );
  assert.equal(byPrompt.kind === 'ask' && byPrompt.retry, true);
  const byState = twoFaDialogView(
    account({ state: 'TWOFA_NEEDED_RETRY.SMS', prompt: prompt({ id: 'p2' }), lastJob: job() }),
    now,
  );
  assert.equal(byState.kind === 'ask' && byState.retry, true);
});

test('after the code is sent it says "checking" until the konnector moves on', () => {
  const waiting = account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt(), lastJob: job() });
  assert.deepEqual(twoFaDialogView(waiting, now, { answeredPromptId: 'prompt-1' }), {
    kind: 'checking',
    promptId: 'prompt-1',
  });
  const answered = account({ state: 'HANDLE_LOGIN_SUCCESS', prompt: prompt({ status: 'answered' }), lastJob: job() });
  assert.equal(twoFaDialogView(answered, now, { answeredPromptId: 'prompt-1' }).kind, 'checking');
  // A wrong code: the konnector asks again with a new prompt, and the dialog asks again.
  const again = account({
    state: 'TWOFA_NEEDED_RETRY.SMS',
    prompt: prompt({ id: 'prompt-2', retry: true }),
    lastJob: job(),
  });
  const view = twoFaDialogView(again, now, { answeredPromptId: 'prompt-1' });
  assert.equal(view.kind, 'ask');
  assert.equal(view.kind === 'ask' && view.retry, true);
});

test('a new prompt of the same job after an answer means the code was refused', () => {
  const again = account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt({ id: 'prompt-2' }), lastJob: job() });
  const refused = twoFaDialogView(again, now, { answeredPromptId: 'prompt-1', answeredJobId: 'job-1' });
  assert.equal(refused.kind === 'ask' && refused.retry, true);
  // The first prompt of another run is not a retry.
  const fresh = twoFaDialogView(
    account({
      state: 'TWOFA_NEEDED.SMS',
      prompt: prompt({ id: 'prompt-9', jobId: 'job-2' }),
      lastJob: job({ id: 'job-2' }),
    }),
    now,
    {
      answeredPromptId: 'prompt-1',
      answeredJobId: 'job-1',
    },
  );
  assert.equal(fresh.kind === 'ask' && fresh.retry, false);
});

test('closes on success: LOGIN_SUCCESS or the job login succeeded', () => {
  const local = { answeredPromptId: 'prompt-1' };
  assert.deepEqual(
    twoFaDialogView(
      account({ state: 'LOGIN_SUCCESS', prompt: prompt({ status: 'answered' }), lastJob: job() }),
      now,
      local,
    ),
    { kind: 'closed', reason: 'success' },
  );
  assert.deepEqual(twoFaDialogView(account({ state: null, lastJob: job({ loginStatus: 'succeeded' }) }), now, local), {
    kind: 'closed',
    reason: 'success',
  });
  // Even a prompt still marked waiting does not keep it open once the login is confirmed.
  assert.equal(
    twoFaDialogView(
      account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt(), lastJob: job({ loginStatus: 'succeeded' }) }),
      now,
    ).kind,
    'closed',
  );
});

test('closes on error and on expiry', () => {
  const errored = account({
    state: null,
    prompt: prompt({ status: 'expired' }),
    lastJob: job({ status: 'errored', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }),
  });
  assert.deepEqual(twoFaDialogView(errored, now, { answeredPromptId: 'prompt-1' }), {
    kind: 'closed',
    reason: 'error',
  });
  const late = account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt({ expiresAt: iso(now - 1) }), lastJob: job() });
  assert.deepEqual(twoFaDialogView(late, now), { kind: 'closed', reason: 'expired' });
  const expired = account({ state: 'HANDLE_LOGIN_SUCCESS', prompt: prompt({ status: 'expired' }), lastJob: job() });
  assert.deepEqual(twoFaDialogView(expired, now), { kind: 'closed', reason: 'expired' });
});

test('a prompt put aside stays closed until asked for again', () => {
  const waiting = account({ state: 'TWOFA_NEEDED.APP', prompt: prompt({ type: 'app' }), lastJob: job() });
  assert.deepEqual(twoFaDialogView(waiting, now, { dismissed: new Set(['prompt-1']) }), {
    kind: 'closed',
    reason: 'dismissed',
  });
  assert.equal(twoFaDialogView(waiting, now, { dismissed: new Set(['other']) }).kind, 'ask');
});

test('of several accounts, the most recent request is shown', () => {
  const a = account({
    id: 'a',
    state: 'TWOFA_NEEDED.SMS',
    prompt: prompt({ id: 'pa', accountId: 'a', createdAt: iso(T0 + 1000) }),
    lastJob: job(),
  });
  const b = account({
    id: 'b',
    state: 'TWOFA_NEEDED.EMAIL',
    prompt: prompt({ id: 'pb', accountId: 'b', type: 'email', createdAt: iso(T0 + 5000) }),
    lastJob: job(),
  });
  const c = account({ id: 'c' });
  assert.equal(pickTwoFaAccount([a, b, c], now, () => ({}))?.account.id, 'b');
  assert.equal(
    pickTwoFaAccount([c], now, () => ({})),
    null,
  );
});
