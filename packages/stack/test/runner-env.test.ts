import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { KONNECTOR_EXEC_ARGV } from '@gleaner/konnector/host';
import { spawnKonnector } from '../src/runner/spawn-konnector.js';
import { fixture, recordingHandlers, sandboxed } from './runner-fixtures/handlers.js';

test('the sandboxed konnector sees a scrubbed environment, and no secret on its command line', async () => {
  process.env.GLEANER_CANARY_SECRET = 'canary-8f1d2c';
  process.env.NODE_OPTIONS = '--require=/nonexistent/never-loaded.cjs';
  try {
    const { handlers, recorded, stagingDir } = recordingHandlers({ fields: { password: 'canary-8f1d2c' } });
    const run = spawnKonnector({
      konnectorDir: fixture('runner-env'),
      main: 'index.mjs',
      handlers,
      timeLimitMs: 10_000,
      memoryLimitMb: 64,
      extraEnv: { GLEANER_JOB: 'job-1' },
      ...sandboxed(stagingDir),
    });
    const outcome = await run.done;
    assert.equal(outcome.exitCode, 0, JSON.stringify(recorded.logs));
    const report = recorded.logs.find((line) => line.message.startsWith('{'));
    assert.ok(report, 'the fixture printed its environment');
    const seen = JSON.parse(report.message) as {
      env: Record<string, string>;
      argv: string[];
      execArgv: string[];
      cwd: string;
    };
    const allowed = new Set([
      'PATH',
      'NODE_ENV',
      'LANG',
      'TZ',
      'GLEANER_JOB',
      'NODE_CHANNEL_FD',
      'NODE_CHANNEL_SERIALIZATION_MODE',
      // bwrap's --chdir sets it: the konnector's own folder.
      'PWD',
    ]);
    for (const name of Object.keys(seen.env)) assert.ok(allowed.has(name), `unexpected variable ${name}`);
    assert.equal(seen.env.GLEANER_JOB, 'job-1');
    assert.equal(seen.env.PATH, process.env.PATH);
    assert.equal(seen.env.GLEANER_CANARY_SECRET, undefined);
    assert.ok(!report.message.includes('canary-8f1d2c'), 'the canary appears nowhere in what the konnector sees');
    // The SDK's V8 flags and the heap cap, nothing of the parent's.
    assert.deepEqual(seen.execArgv, [...KONNECTOR_EXEC_ARGV, '--max-old-space-size=64']);
    assert.equal(seen.cwd, realpathSync(fixture('runner-env')));
    assert.equal(seen.env.PWD, seen.cwd);
  } finally {
    delete process.env.GLEANER_CANARY_SECRET;
    delete process.env.NODE_OPTIONS;
  }
});
