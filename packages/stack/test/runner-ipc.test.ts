import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { spawnKonnector } from '../src/runner/spawn-konnector.js';
import { fixture, recordingHandlers, sandboxed } from './runner-fixtures/handlers.js';

test('a real SDK konnector talks to its host over IPC: states, a pushed 2FA code, account data, logs', async () => {
  let pushCode!: (code: string) => void;
  const code = new Promise<string>((resolve) => (pushCode = resolve));
  const { handlers, recorded, stagingDir } = recordingHandlers({
    fields: { login: 'ada', password: 'canary-pw-77' },
    code: () => code,
  });
  const run = spawnKonnector({
    konnectorDir: fixture('runner-sdk'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 20_000,
    memoryLimitMb: 128,
    ...sandboxed(stagingDir),
  });
  for (let i = 0; i < 200 && recorded.codesAsked === 0; i++) await sleep(25);
  assert.equal(recorded.codesAsked, 1, 'the konnector waits for a code');
  assert.deepEqual(recorded.states, ['HANDLE_LOGIN_SUCCESS']);
  pushCode('424242');

  const outcome = await run.done;
  assert.deepEqual(outcome.finish, { outcome: 'ok' });
  assert.equal(outcome.exitCode, 0);
  assert.equal(outcome.killedForTime, false);
  assert.deepEqual(recorded.states, ['HANDLE_LOGIN_SUCCESS', 'LOGIN_SUCCESS']);
  assert.deepEqual(recorded.data, { runs: 1 });
  const messages = recorded.logs.map((line) => line.message);
  assert.ok(
    messages.some((m) => m.includes('logging in as ada')),
    messages.join('\n'),
  );
  assert.ok(messages.includes('fetched for ada'), 'stdout is forwarded line by line');
  assert.ok(!messages.some((m) => m.includes('canary-pw-77')), 'the SDK scrubbed the password from its logs');
});

test("a wrong code ends the run with the konnector's error code", async () => {
  const { handlers, stagingDir } = recordingHandlers({
    fields: { login: 'ada', password: 'x' },
    code: async () => '000000',
  });
  const run = spawnKonnector({
    konnectorDir: fixture('runner-sdk'),
    main: 'index.mjs',
    handlers,
    timeLimitMs: 20_000,
    memoryLimitMb: 128,
    ...sandboxed(stagingDir),
  });
  const outcome = await run.done;
  assert.deepEqual(outcome.finish, { outcome: 'error', error: 'USER_ACTION_NEEDED.WRONG_TWOFA_CODE' });
});
