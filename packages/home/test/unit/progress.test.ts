import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectProgress } from '../../src/logic/progress.js';
import { account, job, prompt } from './fixtures.js';

const statuses = (p: ReturnType<typeof connectProgress>) => Object.fromEntries(p.steps.map((s) => [s.id, s.status]));

test('a queued run is starting; a running one is signing in', () => {
  assert.equal(connectProgress(account(), job({ status: 'queued' }), false).headline, 'Starting…');
  const p = connectProgress(account({ state: 'HANDLE_LOGIN_SUCCESS' }), job(), false);
  assert.deepEqual(statuses(p), { login: 'active', code: 'pending', fetch: 'pending', done: 'pending' });
  assert.equal(p.connected, false);
});

test('a waiting code makes the code step active', () => {
  const p = connectProgress(
    account({ state: 'TWOFA_NEEDED.APP_CODE', prompt: prompt({ type: 'app_code' }) }),
    job(),
    false,
  );
  assert.deepEqual(statuses(p), { login: 'done', code: 'active', fetch: 'pending', done: 'pending' });
  assert.equal(p.headline, 'Waiting for your code…');
  const app = connectProgress(account({ state: 'TWOFA_NEEDED.APP', prompt: prompt({ type: 'app' }) }), job(), false);
  assert.equal(app.headline, 'Waiting for your approval…');
});

test('connected once the login succeeded (8-second rule or LOGIN_SUCCESS), with or without a code', () => {
  const withCode = connectProgress(account({ state: 'LOGIN_SUCCESS' }), job({ loginStatus: 'succeeded' }), true);
  assert.equal(withCode.connected, true);
  assert.deepEqual(statuses(withCode), { login: 'done', code: 'done', fetch: 'active', done: 'pending' });
  const noCode = connectProgress(account(), job({ loginStatus: 'succeeded' }), false);
  assert.equal(statuses(noCode).code, 'skipped');
  const done = connectProgress(account(), job({ loginStatus: 'succeeded', status: 'done' }), false);
  assert.equal(done.finished, true);
  assert.deepEqual(statuses(done), { login: 'done', code: 'skipped', fetch: 'done', done: 'done' });
});

test('a failure marks the step where it happened', () => {
  const badCode = connectProgress(
    account(),
    job({ status: 'errored', loginStatus: 'failed', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }),
    true,
  );
  assert.equal(badCode.failed, true);
  assert.equal(statuses(badCode).code, 'error');
  const badLogin = connectProgress(
    account(),
    job({ status: 'errored', loginStatus: 'failed', error: 'LOGIN_FAILED' }),
    false,
  );
  assert.equal(statuses(badLogin).login, 'error');
  const badFetch = connectProgress(
    account(),
    job({ status: 'errored', loginStatus: 'succeeded', error: 'VENDOR_DOWN' }),
    false,
  );
  assert.equal(statuses(badFetch).fetch, 'error');
  assert.equal(badFetch.connected, true);
});

test('a cancelled sign-in is the person’s choice: said so, and no step is marked failed', () => {
  const cancelled = connectProgress(
    account(),
    job({ status: 'errored', loginStatus: 'failed', error: 'JOB_CANCELLED' }),
    true,
    true,
  );
  assert.equal(cancelled.headline, 'You cancelled the sign-in.');
  assert.ok(!Object.values(statuses(cancelled)).includes('error'), JSON.stringify(statuses(cancelled)));
  // After an approval, nothing is "checking your code".
  const checking = connectProgress(account({ state: 'HANDLE_LOGIN_SUCCESS' }), job(), true, true);
  assert.equal(checking.headline, 'Checking with the website…');
});
