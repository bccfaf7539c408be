import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountStatus, accountsNeedingAction, isActive } from '../../src/logic/account-status.js';
import { formatDuration, formatRelative } from '../../src/logic/format.js';
import { parseRoute, paths } from '../../src/logic/routes.js';
import { account, iso, job, prompt, T0 } from './fixtures.js';

test('every page has a URL that parses back to it', () => {
  assert.deepEqual(parseRoute('/'), { page: 'accounts' });
  assert.deepEqual(parseRoute(paths.catalogue()), { page: 'catalogue' });
  assert.deepEqual(parseRoute(paths.install()), { page: 'install' });
  assert.deepEqual(parseRoute(paths.add('github')), { page: 'add', slug: 'github' });
  assert.deepEqual(parseRoute(paths.account('a b')), { page: 'account', id: 'a b' });
  assert.deepEqual(parseRoute(paths.connecting('x')), { page: 'connecting', id: 'x' });
  assert.deepEqual(parseRoute(paths.edit('x')), { page: 'edit', id: 'x' });
  assert.equal(parseRoute('/nope/at/all').page, 'not-found');
});

test('an account’s badge says what matters most', () => {
  assert.equal(accountStatus(account()).label, 'Never run');
  assert.equal(
    accountStatus(account({ state: 'TWOFA_NEEDED.SMS', prompt: prompt(), lastJob: job() })).label,
    'Waiting for your code',
  );
  assert.equal(accountStatus(account({ lastJob: job() })).tone, 'running');
  assert.equal(
    accountStatus(account({ state: 'TWOFA_NEEDED.APP', prompt: prompt({ type: 'app' }), lastJob: job() })).label,
    'Waiting for your approval',
  );
  const paused = (mode: 'manual' | 'background') =>
    account({
      needsAction: true,
      actionNeeded: 'USER_ACTION_NEEDED.TWOFA_EXPIRED',
      lastJob: job({ mode, status: 'errored', error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }),
    });
  assert.equal(accountStatus(paused('background')).label, 'Sign in again to renew the session');
  assert.equal(accountStatus(paused('manual')).label, 'No answer in time');
  assert.equal(
    accountStatus(account({ lastJob: job({ status: 'errored', error: 'VENDOR_DOWN' }) })).label,
    'Website unavailable',
  );
  assert.equal(accountStatus(account({ lastJob: job({ status: 'done' }) })).tone, 'ok');
});

test('the banner lists paused accounts with no run going on: a run waiting for an approval is no error to fix', () => {
  const pausedBy = { needsAction: true, actionNeeded: 'USER_ACTION_NEEDED.TWOFA_DENIED' } as const;
  const idle = account({
    id: 'idle',
    ...pausedBy,
    lastJob: job({ status: 'errored', error: 'USER_ACTION_NEEDED.TWOFA_DENIED' }),
  });
  const waiting = account({
    id: 'waiting',
    ...pausedBy,
    state: 'TWOFA_NEEDED.APP',
    prompt: prompt({ type: 'app' }),
    lastJob: job({ status: 'running' }),
  });
  const queued = account({ id: 'queued', ...pausedBy, lastJob: job({ status: 'queued' }) });
  assert.deepEqual(
    accountsNeedingAction([idle, waiting, queued, account({ id: 'fine' })]).map((a) => a.id),
    ['idle'],
  );
  assert.equal(isActive(waiting.lastJob), true);
  assert.equal(isActive(idle.lastJob), false);
});

test('times read naturally', () => {
  assert.equal(formatRelative(iso(T0 - 5 * 60_000), T0), '5 min ago');
  assert.equal(formatRelative(iso(T0 + 3 * 3_600_000), T0), 'in 3 h');
  assert.equal(formatRelative(iso(T0 + 10_000), T0), 'just now');
  assert.equal(formatDuration(iso(T0), iso(T0 + 42_000), T0), '42 s');
  assert.equal(formatDuration(iso(T0), iso(T0 + 185_000), T0), '3 min 05 s');
});
