import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { untilSignal } from '../src/until-signal.js';

/** Removes the signal listeners untilSignal left (for a second signal), keeping the runner's own. */
function ownListeners(): () => void {
  const before = new Set([...process.listeners('SIGTERM'), ...process.listeners('SIGINT')]);
  return () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const)
      for (const listener of process.listeners(signal)) if (!before.has(listener)) process.off(signal, listener);
  };
}

// A real SIGTERM to this test process: untilSignal's listener takes it (no default exit), and the
// exit it would do is recorded instead.
test('a stop that never ends (a hung database, a lock) still ends the process: grace plus the bound', async () => {
  const cleanUp = ownListeners();
  const exits: { code: number; at: number }[] = [];
  let closing = false;
  void untilSignal(
    () => {
      closing = true;
      return new Promise<void>(() => undefined);
    },
    300,
    { exit: (code) => exits.push({ code, at: Date.now() }), boundMs: 400 },
  );
  const sent = Date.now();
  process.kill(process.pid, 'SIGTERM');
  await sleep(1200);
  assert.ok(closing, 'the stop began');
  assert.equal(exits.length, 1, 'ended once');
  assert.equal(exits[0]!.code, 1);
  const after = exits[0]!.at - sent;
  assert.ok(after >= 650 && after < 1100, `at the grace plus the bound (${after} ms)`);
  cleanUp();
});

test('a stop that fails still exits, with code 1 and one sentence', async () => {
  const cleanUp = ownListeners();
  const exits: number[] = [];
  const code = untilSignal(() => Promise.reject(new Error('the folder /x is read-only')), 0, {
    exit: (c) => exits.push(c),
    boundMs: 5000,
  });
  process.kill(process.pid, 'SIGINT');
  assert.equal(await code, 1);
  await sleep(1200);
  assert.deepEqual(exits, [1], 'the process is ended even if a handle stays open');
  cleanUp();
});
