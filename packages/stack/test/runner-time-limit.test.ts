import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { processTree } from '../src/runner/process-probes.js';
import { spawnKonnector } from '../src/runner/spawn-konnector.js';
import { fixture, isAlive, recordingHandlers, sandboxed } from './runner-fixtures/handlers.js';

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

/** The host pids of the sandbox's processes (the pids the fixture writes are its namespace's). */
function hostPids(root: number): number[] {
  return processTree(root).map((p) => p.pid);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

test('a sandboxed konnector that never ends is killed at its time limit, with its children', async () => {
  const { handlers, recorded, stagingDir } = recordingHandlers();
  const pidsFile = join(stagingDir, 'pids.json');
  const started = Date.now();
  const run = spawnKonnector({
    konnectorDir: fixture('runner-forever'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 1000,
    memoryLimitMb: 128,
    killGraceMs: 300,
    extraEnv: { PIDS_FILE: pidsFile },
    ...sandboxed(stagingDir),
  });
  const pids = await readPids(pidsFile);
  assert.equal(pids.konnector, 2, 'the konnector is the first process of its own PID namespace after its init');
  const before = hostPids(run.pid);
  assert.ok(
    before.some((pid) => cmdline(pid).startsWith('sleep 1000')),
    'the grandchild runs before the limit',
  );

  const outcome = await run.done;
  const elapsed = Date.now() - started;
  assert.equal(outcome.killedForTime, true);
  assert.equal(outcome.killedForMemory, false);
  // It ignores SIGTERM: only the SIGKILL after the grace ends it.
  assert.equal(outcome.signal, 'SIGKILL');
  assert.ok(elapsed >= 1000 && elapsed < 5000, `ended after ${elapsed} ms`);
  for (let i = 0; i < 20 && before.some(isAlive); i++) await sleep(50);
  assert.deepEqual(before.filter(isAlive), [], 'the konnector and its child are gone');
  assert.ok(
    recorded.logs.some((line) => line.message === 'started' && line.level === 'info'),
    'stdout reached the log',
  );
});

test('kill() on demand ends the konnector and its children; done says it was not the time limit', async () => {
  const { handlers, stagingDir } = recordingHandlers();
  const pidsFile = join(stagingDir, 'pids.json');
  const run = spawnKonnector({
    konnectorDir: fixture('runner-forever'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 60_000,
    memoryLimitMb: 128,
    killGraceMs: 200,
    extraEnv: { PIDS_FILE: pidsFile },
    ...sandboxed(stagingDir),
  });
  await readPids(pidsFile);
  const before = hostPids(run.pid);
  assert.ok(before.length >= 3, `bwrap's init, the konnector and its child: ${before.length}`);
  await run.kill();
  await run.kill(); // idempotent
  const outcome = await run.done;
  assert.equal(outcome.killedForTime, false);
  assert.notEqual(outcome.signal, null);
  for (let i = 0; i < 20 && before.some(isAlive); i++) await sleep(50);
  assert.deepEqual(before.filter(isAlive), []);
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
