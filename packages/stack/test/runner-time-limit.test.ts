import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { spawnKonnector } from '../src/runner/spawn-konnector.js';
import { fixture, isAlive, recordingHandlers } from './runner-fixtures/handlers.js';

async function readPids(file: string): Promise<{ konnector: number; grandchild: number }> {
  for (let i = 0; i < 100; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as { konnector: number; grandchild: number };
    } catch {
      await sleep(50);
    }
  }
  throw new Error('the fixture never wrote its pids');
}

test('a konnector that never ends is killed at its time limit, with its children', async () => {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'gleaner-runner-')), 'pids.json');
  const { handlers, recorded } = recordingHandlers();
  const started = Date.now();
  const run = spawnKonnector({
    konnectorDir: fixture('runner-forever'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 1000,
    memoryLimitMb: 128,
    killGraceMs: 300,
    extraEnv: { PIDS_FILE: pidsFile },
  });
  const pids = await readPids(pidsFile);
  assert.equal(pids.konnector, run.pid);
  assert.ok(isAlive(pids.grandchild), 'the grandchild runs before the limit');

  const outcome = await run.done;
  const elapsed = Date.now() - started;
  assert.equal(outcome.killedForTime, true);
  assert.equal(outcome.killedForMemory, false);
  // It ignores SIGTERM: only the SIGKILL after the grace ends it.
  assert.equal(outcome.signal, 'SIGKILL');
  assert.ok(elapsed >= 1000 && elapsed < 5000, `ended after ${elapsed} ms`);
  assert.equal(isAlive(pids.konnector), false, 'the konnector is gone');
  for (let i = 0; i < 20 && isAlive(pids.grandchild); i++) await sleep(50);
  assert.equal(isAlive(pids.grandchild), false, 'its child is gone too');
  assert.ok(
    recorded.logs.some((line) => line.message === 'started' && line.level === 'info'),
    'stdout reached the log',
  );
});

test('kill() on demand ends the konnector and its children; done says it was not the time limit', async () => {
  const pidsFile = join(mkdtempSync(join(tmpdir(), 'gleaner-runner-')), 'pids.json');
  const { handlers } = recordingHandlers();
  const run = spawnKonnector({
    konnectorDir: fixture('runner-forever'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 60_000,
    memoryLimitMb: 128,
    killGraceMs: 200,
    extraEnv: { PIDS_FILE: pidsFile },
  });
  const pids = await readPids(pidsFile);
  await run.kill();
  await run.kill(); // idempotent
  const outcome = await run.done;
  assert.equal(outcome.killedForTime, false);
  assert.notEqual(outcome.signal, null);
  for (let i = 0; i < 20 && isAlive(pids.grandchild); i++) await sleep(50);
  assert.equal(isAlive(pids.konnector), false);
  assert.equal(isAlive(pids.grandchild), false);
});

test('an entry file outside the konnector folder is refused', () => {
  const { handlers } = recordingHandlers();
  assert.throws(
    () =>
      spawnKonnector({
        konnectorDir: fixture('runner-env'),
        main: '../runner-forever/index.mjs',
        handlers,
        timeLimitMs: 1000,
        memoryLimitMb: 64,
      }),
    /outside its folder/,
  );
  assert.throws(
    () =>
      spawnKonnector({
        konnectorDir: fixture('runner-env'),
        main: 'missing.mjs',
        handlers,
        timeLimitMs: 1000,
        memoryLimitMb: 64,
      }),
    /not found/,
  );
});
