import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { AccountState } from '@gleaner/contracts';
import { handlersFor, serveHost, StandaloneHost } from '../src/host/index.js';
import { newDataDir } from '../src/testing.js';

const fixture = fileURLToPath(new URL('../../test/fixtures/ipc-konnector.mjs', import.meta.url));

async function runChild(code: string, expected: string) {
  const states: AccountState[] = [];
  const host = new StandaloneHost({
    dataDir: newDataDir(),
    fields: { expected },
    codeReader: async () => code,
    onLog: () => {},
    onStateChange: (state) => states.push(state),
  });
  // The fields reach the child over IPC only: its environment does not carry them.
  const child = fork(fixture, [], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const outcome = await serveHost(child, handlersFor(host)).done;
  return { outcome, states, data: await host.getAccountData() };
}

test('a konnector in a child process talks to its host over IPC and exits 0', async () => {
  const { outcome, states, data } = await runChild('246810', '246810');
  assert.deepEqual(outcome.finish, { outcome: 'ok' });
  assert.equal(outcome.exitCode, 0);
  assert.deepEqual(states, ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.SMS', 'LOGIN_SUCCESS']);
  assert.deepEqual(data, { seen: true });
});

test('a failing konnector reports its code and exits non-zero', async () => {
  const { outcome } = await runChild('111111', '246810');
  assert.deepEqual(outcome.finish, { outcome: 'error', error: 'USER_ACTION_NEEDED.WRONG_TWOFA_CODE' });
  assert.equal(outcome.exitCode, 1);
});

test('a run cancelled while it waits for a code stops waiting at once and ends JOB_CANCELLED', async () => {
  const states: AccountState[] = [];
  let asked!: () => void;
  const waiting = new Promise<void>((resolve) => (asked = resolve));
  const host = new StandaloneHost({
    dataDir: newDataDir(),
    fields: { expected: '246810' },
    // A person who never answers: only the cancel can end this wait before its 5 s timeout.
    codeReader: () => {
      asked();
      return new Promise<string>(() => {});
    },
    onLog: () => {},
    onStateChange: (state) => states.push(state),
  });
  const child = fork(fixture, [], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const served = serveHost(child, handlersFor(host));
  await waiting;
  const cancelledAt = Date.now();
  served.cancel('JOB_CANCELLED');
  const outcome = await served.done;
  assert.deepEqual(outcome.finish, { outcome: 'error', error: 'JOB_CANCELLED' });
  assert.ok(Date.now() - cancelledAt < 3000, `ended ${Date.now() - cancelledAt} ms after the cancel`);
  assert.ok(states.includes('TWOFA_NEEDED.SMS'));
});
