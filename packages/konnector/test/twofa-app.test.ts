import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BaseKonnector } from '../src/index.js';
import type { CodeReader } from '../src/host/index.js';
import { newDataDir, runKonnector } from '../src/testing.js';

/** A konnector whose site says "approved" at the `approvedAt`-th check. */
function appKonnector(approvedAt: number, timeout = 5_000) {
  let checks = 0;
  const konnector = new BaseKonnector(async function () {
    await this.deactivateAutoSuccessfulLogin();
    const code = await this.waitForTwoFaCode({
      type: 'app',
      timeout,
      interval: 30,
      approved: async () => ++checks >= approvedAt,
    });
    assert.equal(code, '');
    await this.notifySuccessfulLogin();
  });
  return { konnector, checks: () => checks };
}

/** The person never types anything; records whether the question was withdrawn. */
function silentPerson() {
  const seen = { asked: 0, withdrawn: 0 };
  const readCode: CodeReader = ({ signal }) => {
    seen.asked += 1;
    return new Promise<string>((_, reject) => {
      signal.addEventListener('abort', () => {
        seen.withdrawn += 1;
        reject(new Error('withdrawn'));
      });
    });
  };
  return { readCode, seen };
}

void test("type 'app': the site is polled until it says approved; the question is withdrawn and the run goes on", async () => {
  const { konnector, checks } = appKonnector(4);
  const person = silentPerson();
  const run = await runKonnector(konnector, { dataDir: newDataDir(), fields: {}, readCode: person.readCode });
  assert.deepEqual(run.result, { ok: true });
  assert.equal(checks(), 4);
  assert.deepEqual(run.codeRequests, [{ type: 'app', retry: false }]);
  assert.deepEqual(person.seen, { asked: 1, withdrawn: 1 });
  assert.deepEqual(run.states, ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.APP', 'LOGIN_SUCCESS']);
});

void test("type 'app': never approved within the timeout ends USER_ACTION_NEEDED.TWOFA_EXPIRED", async () => {
  const { konnector, checks } = appKonnector(Infinity, 300);
  const person = silentPerson();
  const started = Date.now();
  const run = await runKonnector(konnector, { dataDir: newDataDir(), fields: {}, readCode: person.readCode });
  assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
  assert.ok(checks() >= 3, `polled ${checks()} times`);
  assert.ok(Date.now() - started < 3_000);
});

void test("type 'app' without `approved` is a konnector bug, said plainly", async () => {
  const konnector = new BaseKonnector(async function () {
    await this.waitForTwoFaCode({ type: 'app' });
  });
  const lines: string[] = [];
  const run = await runKonnector(konnector, { dataDir: newDataDir(), fields: {}, readCode: async () => '' });
  for (const entry of run.logs) lines.push(entry.message);
  assert.deepEqual(run.result, { ok: false, error: 'UNKNOWN_ERROR' });
  assert.ok(lines.some((l) => l.includes('needs `approved`')), lines.join('\n'));
});
