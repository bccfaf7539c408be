import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnKonnector } from '../src/runner/spawn-konnector.js';
import { fixture, isAlive, recordingHandlers, sandboxed } from './runner-fixtures/handlers.js';

for (const [how, mode] of [
  ['heap', 'sandboxed'],
  ['buffers', 'sandboxed'],
  ['buffers', 'plain'],
] as const) {
  test(`a ${mode} konnector allocating ${how} without bound dies under its memory cap`, async () => {
    const { handlers, stagingDir } = recordingHandlers();
    const run = spawnKonnector({
      konnectorDir: fixture('runner-memory'),
      main: 'index.mjs',
      handlers,
      timeLimitMs: 30_000,
      memoryLimitMb: 64,
      extraEnv: { HOW: how },
      ...(mode === 'sandboxed' ? sandboxed(stagingDir) : { stagingDir }),
    });
    const outcome = await run.done;
    assert.equal(outcome.killedForTime, false, 'the memory cap ended it, not the time limit');
    assert.ok(outcome.signal !== null || (outcome.exitCode ?? 0) !== 0, `crashed: ${JSON.stringify(outcome)}`);
    // Buffers live outside the heap: the watchdog ends them; the heap: V8 itself, saying so on stderr.
    assert.equal(outcome.killedForMemory, true);
    assert.equal(isAlive(run.pid), false);
  });
}
