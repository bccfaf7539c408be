import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestSite, TEST_SITE_TOTP_SECRET, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { enableDebug, type BaseKonnector } from '../src/index.js';
import { compileGuide } from './support/guide.js';
import { newDataDir, runKonnector } from '../src/testing.js';

// The konnector of docs/two-factor.md, compiled from the guide itself, run against the test site.
type KonnectorClass = new () => BaseKonnector;

describe('the two-factor guide, run against the test site', () => {
  let site: RunningSite;
  let TestSiteKonnector: KonnectorClass;
  let functionStyle: BaseKonnector;
  let TotpTestSiteKonnector: KonnectorClass;
  const alice = TEST_SITE_USERS.alice;

  before(async () => {
    const dist = compileGuide();
    ({ TestSiteKonnector } = (await import(join(dist, 'konnector.js'))) as { TestSiteKonnector: KonnectorClass });
    ({ functionStyle } = (await import(join(dist, 'function-style.js'))) as { functionStyle: BaseKonnector });
    ({ TotpTestSiteKonnector } = (await import(join(dist, 'totp-konnector.js'))) as {
      TotpTestSiteKonnector: KonnectorClass;
    });
    site = await startTestSite();
  });
  after(() => site.close());

  const fieldsOf = (user: { login: string; password: string }) => ({
    login: user.login,
    password: user.password,
    baseUrl: site.url,
  });
  const smsCode = () => async () => site.control.lastCode(alice.login) ?? 'none';

  test('a manual run asks for the SMS code, logs in and saves every bill; a second run asks nothing', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new TestSiteKonnector(), { dataDir, fields: fieldsOf(alice), readCode: smsCode() });
    assert.deepEqual(first.result, { ok: true });
    assert.deepEqual(first.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.SMS', 'LOGIN_SUCCESS']);
    assert.equal(first.codeRequests.length, 1);
    const bills = site.control.documents(alice.login);
    const saved = readdirSync(join(dataDir, 'files')).sort();
    assert.deepEqual(saved, bills.map((b) => `${b.id}.pdf`).sort());
    assert.match(readFileSync(join(dataDir, 'files', saved[0]!), 'latin1'), /^%PDF-/);
    const index = JSON.parse(readFileSync(join(dataDir, 'files.json'), 'utf8')) as Array<{ bill?: { vendor: string } }>;
    assert.ok(index.every((f) => f.bill?.vendor === 'Test Site'));

    const codesBefore = site.control.codesSent(alice.login);
    site.control.addDocument(alice.login);
    const second = await runKonnector(new TestSiteKonnector(), { dataDir, fields: fieldsOf(alice) });
    assert.deepEqual(second.result, { ok: true });
    assert.equal(second.codeRequests.length, 0);
    assert.ok(!second.states.some((s) => s?.startsWith('TWOFA')), 'no 2FA state in the second run');
    assert.equal(site.control.codesSent(alice.login), codesBefore);
    assert.equal(readdirSync(join(dataDir, 'files')).length, bills.length + 1, 'only the new bill is added');
  });

  test('a background run after the session expired ends TWOFA_EXPIRED without the site sending a code', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new TestSiteKonnector(), { dataDir, fields: fieldsOf(alice), readCode: smsCode() });
    assert.deepEqual(first.result, { ok: true });
    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    const codesBefore = site.control.codesSent(alice.login);

    const background = await runKonnector(new TestSiteKonnector(), { dataDir, fields: fieldsOf(alice), mode: 'background' });
    assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.equal(background.codeRequests.length, 0);
    assert.equal(site.control.codesSent(alice.login), codesBefore, 'no code was sent');
  });

  test('a background run of a new account sends nothing to any 2FA user: signin stops before the password', async () => {
    for (const user of [alice, TEST_SITE_USERS.bob, TEST_SITE_USERS.carol]) {
      const posts = site.control.requestCount('/login', 'POST');
      const codes = site.control.codesSent(user.login);
      const background = await runKonnector(new TestSiteKonnector(), {
        dataDir: newDataDir(),
        fields: fieldsOf(user),
        mode: 'background',
        twofa: ['sms', 'email', 'app_code'],
      });
      assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }, user.login);
      assert.equal(site.control.requestCount('/login', 'POST'), posts, `${user.login}: the password was not posted`);
      assert.equal(site.control.codesSent(user.login), codes, `${user.login}: no code sent`);
    }
  });

  test('with the authenticator secret, the login is silent: a background run logs in and nobody is asked', async () => {
    // A site of its own: its clock is the real one, as the konnector's TOTP is.
    const own = await startTestSite();
    try {
      const carol = TEST_SITE_USERS.carol;
      const run = await runKonnector(new TotpTestSiteKonnector(), {
        dataDir: newDataDir(),
        fields: { login: carol.login, password: carol.password, baseUrl: own.url, totpSecret: TEST_SITE_TOTP_SECRET },
        mode: 'background',
        twofa: ['sms', 'email', 'app_code'],
      });
      assert.deepEqual(run.result, { ok: true });
      assert.deepEqual(run.codeRequests, []);
      assert.equal(own.control.requestCount('/login', 'POST'), 1);
      assert.ok(run.states.includes('LOGIN_SUCCESS'));
      assert.ok(!run.logs.some((line) => line.message.includes(TEST_SITE_TOTP_SECRET)));
    } finally {
      await own.close();
    }
  });

  test('a wrong code leads to TWOFA_NEEDED_RETRY, then the right one succeeds', async () => {
    const dataDir = newDataDir();
    let calls = 0;
    const run = await runKonnector(new TestSiteKonnector(), {
      dataDir,
      fields: fieldsOf(alice),
      readCode: async () => (++calls === 1 ? '000000' : (site.control.lastCode(alice.login) ?? '')),
    });
    assert.deepEqual(run.result, { ok: true });
    assert.deepEqual(run.states.slice(0, 4), [
      'HANDLE_LOGIN_SUCCESS',
      'TWOFA_NEEDED.SMS',
      'TWOFA_NEEDED_RETRY.SMS',
      'LOGIN_SUCCESS',
    ]);
  });

  test('an authenticator user is asked for an app code', async () => {
    const carol = TEST_SITE_USERS.carol;
    const run = await runKonnector(new TestSiteKonnector(), {
      dataDir: newDataDir(),
      fields: fieldsOf(carol),
      readCode: async () => site.control.currentTotp(carol.login),
    });
    assert.deepEqual(run.result, { ok: true });
    assert.ok(run.states.includes('TWOFA_NEEDED.APP_CODE'));
  });

  test('no code within the timeout ends with USER_ACTION_NEEDED.TWOFA_EXPIRED', async () => {
    const run = await runKonnector(new TestSiteKonnector(), {
      dataDir: newDataDir(),
      fields: fieldsOf(TEST_SITE_USERS.bob),
      twoFaTimeoutCapMs: 300,
      readCode: () => new Promise(() => {}),
    });
    assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.ok(run.states.includes('TWOFA_NEEDED.EMAIL'));
  });

  test('a wrong password ends with LOGIN_FAILED', async () => {
    const run = await runKonnector(new TestSiteKonnector(), {
      dataDir: newDataDir(),
      fields: { ...fieldsOf(alice), password: 'not-the-password' },
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED' });
  });

  test('the password and the code appear nowhere in the output, debug output included', async () => {
    enableDebug(true);
    try {
      let code = '';
      const run = await runKonnector(new TestSiteKonnector(), {
        dataDir: newDataDir(),
        fields: fieldsOf(alice),
        readCode: async () => (code = site.control.lastCode(alice.login) ?? ''),
      });
      assert.deepEqual(run.result, { ok: true });
      assert.ok(code.length >= 4);
      const output = run.logs.map((l) => l.message).join('\n');
      assert.ok(run.logs.some((l) => l.level === 'debug'), 'debug lines were produced');
      assert.ok(!output.includes(alice.password), 'password not in output');
      assert.ok(!output.includes(code), 'code not in output');
    } finally {
      enableDebug(false);
    }
  });

  test('the function style works the same way', async () => {
    const run = await runKonnector(functionStyle, {
      dataDir: newDataDir(),
      fields: { login: 'bob' },
      readCode: async () => '123456',
    });
    assert.deepEqual(run.result, { ok: true });
    assert.deepEqual(run.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.EMAIL', 'LOGIN_SUCCESS']);
    assert.deepEqual(await run.host.getAccountData(), { codeLength: 6 });
  });
});
