import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { StandaloneHost } from '../src/host/index.js';
import { BaseKonnector, CookieKonnector } from '../src/index.js';
import { newDataDir, runKonnector } from '../src/testing.js';

test('the session is sealed on disk, and the key file is created with mode 0600', async () => {
  const dataDir = newDataDir();
  const host = new StandaloneHost({ dataDir, fields: {} });
  await host.saveSession('{"cookies":[{"key":"sid","value":"canary-cookie-value"}]}');
  assert.ok(!readFileSync(join(dataDir, 'session.sealed'), 'utf8').includes('canary-cookie-value'));
  assert.equal(statSync(join(dataDir, '.key')).mode & 0o777, 0o600);
  assert.match((await host.loadSession()) ?? '', /canary-cookie-value/);
});

test('a key file readable by others is refused', () => {
  const dataDir = newDataDir();
  writeFileSync(join(dataDir, '.key'), Buffer.alloc(32).toString('base64'));
  chmodSync(join(dataDir, '.key'), 0o644);
  assert.throws(() => new StandaloneHost({ dataDir, fields: {} }), /readable by others; run: chmod 600/);
});

test('a saved file may not escape the account folder', async () => {
  const host = new StandaloneHost({ dataDir: newDataDir(), fields: {} });
  const context = await host.start();
  writeFileSync(join(context.stagingDir, 'x'), 'x');
  await assert.rejects(host.saveFile({ stagedPath: 'x', name: 'a.pdf', folder: '../../etc' }), /invalid folder/);
  await assert.rejects(host.saveFile({ stagedPath: 'x', name: '../a.pdf' }), /invalid file name/);
});

test('a CookieKonnector without testSession() is refused with a clear message', () => {
  // @ts-expect-error: abstract on purpose, as a JavaScript author could write it
  class NoTest extends CookieKonnector {}
  assert.throws(() => new NoTest(), /CookieKonnector needs a testSession\(\) method/);
});

test('RESET_SESSION drops the saved session at init and clears the state', async () => {
  const dataDir = newDataDir();
  const host = new StandaloneHost({ dataDir, fields: {} });
  await host.saveSession(
    '{"version":"tough-cookie@6","storeType":"MemoryCookieStore","rejectPublicSuffixes":true,"cookies":[]}',
  );
  await host.updateAccountAttributes({ state: 'RESET_SESSION' });
  let sessionAtFetch: string | null = 'unset';
  class K extends CookieKonnector {
    async testSession() {
      return false;
    }
    override async fetch() {
      sessionAtFetch = await this.host.loadSession();
    }
  }
  const run = await runKonnector(new K(), { dataDir, fields: {} });
  assert.deepEqual(run.result, { ok: true });
  assert.equal(sessionAtFetch, null);
  assert.equal(run.states[0], null);
});

test('an unknown 2FA type is a programming error, reported as such', async () => {
  const run = await runKonnector(
    new BaseKonnector(async function () {
      // @ts-expect-error: wrong on purpose
      await this.waitForTwoFaCode({ type: 'pigeon' });
    }),
    { dataDir: newDataDir(), fields: {}, readCode: async () => '1234' },
  );
  assert.deepEqual(run.result, { ok: false, error: 'UNKNOWN_ERROR' });
  assert.ok(run.logs.some((l) => /unknown type "pigeon"/.test(l.message)));
});

test('account.json records how a run ended: a background run that needed a code marks the account, a manual success clears it', async () => {
  const dataDir = newDataDir();
  const asksForCode = () =>
    new BaseKonnector(async function () {
      await this.deactivateAutoSuccessfulLogin();
      await this.waitForTwoFaCode({ type: 'app_code' });
      await this.notifySuccessfulLogin();
    });
  const account = () =>
    JSON.parse(readFileSync(join(dataDir, 'account.json'), 'utf8')) as {
      state: string | null;
      needsAction?: string | null;
      lastRun?: { mode: string; outcome: string; error: string | null; endedAt: string };
    };

  const background = await runKonnector(asksForCode(), { dataDir, fields: {}, mode: 'background' });
  assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
  const marked = account();
  assert.equal(marked.needsAction, 'USER_ACTION_NEEDED.TWOFA_EXPIRED');
  assert.deepEqual(
    { ...marked.lastRun, endedAt: undefined },
    {
      mode: 'background',
      outcome: 'error',
      error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED',
      endedAt: undefined,
    },
  );
  assert.ok(Date.now() - Date.parse(marked.lastRun!.endedAt) < 60_000);

  const manual = await runKonnector(asksForCode(), { dataDir, fields: {}, readCode: async () => '135790' });
  assert.deepEqual(manual.result, { ok: true });
  assert.ok(
    manual.logs.some((l) => l.message === 'waiting for the code from your authenticator app, up to 180 s'),
    'the log says what is awaited in words',
  );
  const cleared = account();
  assert.equal(cleared.needsAction, null);
  assert.equal(cleared.lastRun?.outcome, 'ok');
  assert.equal(cleared.state, 'LOGIN_SUCCESS');
});
