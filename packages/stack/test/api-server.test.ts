import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../src/server.js';
import { MemoryStack } from './api-fixtures/memory-stack.js';
import { LogCapture } from './api-fixtures/http.js';
import { createLogger } from '../src/logger.js';

const login = (url: string, password: string) =>
  fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });

test('first start prints a generated admin password once; it is stored hashed, never logged, and works', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-server-'));
  const printed: string[] = [];
  const log = new LogCapture();
  const stacks: MemoryStack[] = [];
  const options = {
    dataDir,
    port: 0,
    konnectorDirs: [],
    print: (line: string) => printed.push(line),
    logger: createLogger({ level: 'debug', destination: log }),
    createStack: async () => {
      const stack = new MemoryStack();
      stacks.push(stack);
      return stack;
    },
  };
  const previous = process.env.GLEANER_ADMIN_PASSWORD;
  delete process.env.GLEANER_ADMIN_PASSWORD;
  try {
    const first = await startServer(options);
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(printed.length, 1);
    const password = /: (\S+)$/.exec(printed[0] ?? '')?.[1] ?? '';
    assert.ok(password.length >= 20);
    assert.equal((await login(first.url, password)).status, 200);
    assert.equal(statSync(join(dataDir, 'auth.sqlite')).mode & 0o077, 0, 'auth.sqlite is private');
    await first.close(0);
    assert.equal(stacks[0]?.closed, true, 'close() closes the stack');
    assert.equal(
      await fetch(`${first.url}/api/health`).then(
        () => 'up',
        () => 'down',
      ),
      'down',
    );

    const second = await startServer(options);
    assert.equal(printed.length, 1, 'printed once only');
    assert.equal((await login(second.url, password)).status, 200);
    await second.close(0);
    assert.ok(!log.text.includes(password), 'never in the log');

    const fromEnv = await startServer({ ...options, adminPassword: 'env-given-Pw-9090' });
    assert.equal((await login(fromEnv.url, 'env-given-Pw-9090')).status, 200);
    assert.equal((await login(fromEnv.url, password)).status, 401);
    await fromEnv.close(0);
    assert.ok(!log.text.includes('env-given-Pw-9090'));
  } finally {
    if (previous !== undefined) process.env.GLEANER_ADMIN_PASSWORD = previous;
  }
});
