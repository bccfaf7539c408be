import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StackEvent } from '@gleaner/contracts';
import { accountList, initialState, reduce, type HomeState } from '../../src/state/reducer.js';
import { account, iso, job, prompt, T0 } from './fixtures.js';

const event = (e: Omit<StackEvent, 'id' | 'at'> & Record<string, unknown>): StackEvent =>
  ({ id: 1, at: iso(T0), ...e }) as StackEvent;
const signedIn: HomeState = reduce(initialState, { type: 'session', status: 'signed-in', csrfToken: 't' });

test('account.updated replaces the account; an older list does not undo it', () => {
  let s = reduce(signedIn, {
    type: 'event',
    event: event({
      type: 'account.updated',
      account: account({ state: 'TWOFA_NEEDED.SMS', updatedAt: iso(T0 + 5000) }),
    }),
  });
  s = reduce(s, {
    type: 'accounts',
    accounts: [account({ state: null, updatedAt: iso(T0 + 1000) }), account({ id: 'acc-2', label: 'other' })],
  });
  assert.equal(s.accounts['acc-1']?.state, 'TWOFA_NEEDED.SMS');
  assert.equal(s.accounts['acc-2']?.label, 'other');
  assert.equal(s.accountsLoaded, true);
});

test('job.updated updates the run history and the account’s last job', () => {
  let s = reduce(signedIn, {
    type: 'accounts',
    accounts: [account({ lastJob: job({ id: 'old', createdAt: iso(T0 - 1000), status: 'done' }) })],
  });
  s = reduce(s, { type: 'event', event: event({ type: 'job.updated', job: job({ id: 'new' }) }) });
  assert.equal(s.accounts['acc-1']?.lastJob?.id, 'new');
  assert.deepEqual(
    s.jobsByAccount['acc-1']?.map((j) => j.id),
    ['new'],
  );
  s = reduce(s, {
    type: 'event',
    event: event({ type: 'job.updated', job: job({ id: 'new', loginStatus: 'succeeded' }) }),
  });
  assert.equal(s.accounts['acc-1']?.lastJob?.loginStatus, 'succeeded');
  // An update of an older job does not replace the newer last job.
  s = reduce(s, {
    type: 'event',
    event: event({ type: 'job.updated', job: job({ id: 'old', createdAt: iso(T0 - 1000), status: 'done' }) }),
  });
  assert.equal(s.accounts['acc-1']?.lastJob?.id, 'new');
  assert.deepEqual(
    s.jobsByAccount['acc-1']?.map((j) => j.id),
    ['new', 'old'],
  );
});

test('a fetched job list keeps versions that moved further through events', () => {
  let s = reduce(signedIn, {
    type: 'event',
    event: event({ type: 'job.updated', job: job({ status: 'done', loginStatus: 'succeeded' }) }),
  });
  s = reduce(s, {
    type: 'jobs',
    accountId: 'acc-1',
    jobs: [job({ status: 'running' }), job({ id: 'job-0', createdAt: iso(T0 - 60_000), status: 'errored' })],
  });
  assert.equal(s.jobsByAccount['acc-1']?.[0]?.status, 'done');
  assert.equal(s.jobsByAccount['acc-1']?.length, 2);
});

test('prompt.updated sets a waiting prompt and ends the current one', () => {
  let s = reduce(signedIn, { type: 'accounts', accounts: [account()] });
  s = reduce(s, { type: 'event', event: event({ type: 'prompt.updated', prompt: prompt() }) });
  assert.equal(s.accounts['acc-1']?.prompt?.status, 'waiting');
  s = reduce(s, { type: 'event', event: event({ type: 'prompt.updated', prompt: prompt({ status: 'expired' }) }) });
  assert.equal(s.accounts['acc-1']?.prompt?.status, 'expired');
  // The end of an older prompt does not touch a newer one.
  s = reduce(s, { type: 'event', event: event({ type: 'prompt.updated', prompt: prompt({ id: 'p2' }) }) });
  s = reduce(s, { type: 'event', event: event({ type: 'prompt.updated', prompt: prompt({ status: 'answered' }) }) });
  assert.equal(s.accounts['acc-1']?.prompt?.id, 'p2');
});

test('log lines are kept in order for opened logs only; files arrive live', () => {
  let s = reduce(signedIn, {
    type: 'event',
    event: event({ type: 'job.log', line: { jobId: 'job-1', seq: 1, level: 'info', message: 'ignored', at: iso(T0) } }),
  });
  assert.equal(s.logsByJob['job-1'], undefined);
  s = reduce(s, {
    type: 'logs',
    jobId: 'job-1',
    lines: [{ jobId: 'job-1', seq: 2, level: 'info', message: 'b', at: iso(T0) }],
  });
  s = reduce(s, {
    type: 'event',
    event: event({ type: 'job.log', line: { jobId: 'job-1', seq: 1, level: 'info', message: 'a', at: iso(T0) } }),
  });
  s = reduce(s, {
    type: 'event',
    event: event({ type: 'job.log', line: { jobId: 'job-1', seq: 2, level: 'info', message: 'b', at: iso(T0) } }),
  });
  assert.deepEqual(
    s.logsByJob['job-1']?.map((l) => l.message),
    ['a', 'b'],
  );
  const file = {
    id: 'f1',
    accountId: 'acc-1',
    jobId: 'job-1',
    name: 'bill.pdf',
    folder: '',
    size: 10,
    sha256: 'x',
    bill: null,
    savedAt: iso(T0),
  };
  s = reduce(s, { type: 'event', event: event({ type: 'file.saved', file }) });
  s = reduce(s, { type: 'files', accountId: 'acc-1', files: [file] });
  assert.deepEqual(
    s.filesByAccount['acc-1']?.map((f) => f.id),
    ['f1'],
  );
});

test('account.deleted forgets the account; signing out forgets everything', () => {
  let s = reduce(signedIn, { type: 'accounts', accounts: [account()] });
  s = reduce(s, { type: 'event', event: event({ type: 'account.deleted', accountId: 'acc-1' }) });
  assert.deepEqual(s.accounts, {});
  s = reduce(s, { type: 'accounts', accounts: [account()] });
  s = reduce(s, { type: 'session', status: 'signed-out' });
  assert.deepEqual(s.accounts, {});
  assert.equal(s.session.status, 'signed-out');
});

test('answered and dismissed prompts are remembered per browser', () => {
  let s = reduce(signedIn, { type: 'answered', accountId: 'acc-1', prompt: { id: 'p1', jobId: 'j1' } });
  assert.deepEqual(s.answered['acc-1'], { promptId: 'p1', jobId: 'j1' });
  s = reduce(s, { type: 'answered', accountId: 'acc-1', prompt: null });
  assert.equal(s.answered['acc-1'], undefined);
  s = reduce(s, { type: 'dismiss', promptId: 'p1' });
  assert.deepEqual(s.dismissed, ['p1']);
  s = reduce(s, { type: 'undismiss', promptId: 'p1' });
  assert.deepEqual(s.dismissed, []);
});

test('accounts needing action come first', () => {
  const list = accountList({
    a: account({ id: 'a', label: 'a' }),
    b: account({ id: 'b', label: 'b', needsAction: true }),
  });
  assert.deepEqual(
    list.map((x) => x.id),
    ['b', 'a'],
  );
});
