import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GITHUB_USERS, startGithubSite, type RunningSite } from '@gleaner/sites';
import { GithubKonnector } from '../src/konnector.js';
import { filesOnDisk, newDataDir, runKonnector, savedIndex, wrongCode } from '@gleaner/konnector/testing';

// monalisa has no authenticator: on a device GitHub does not know, it e-mails a code as soon as the
// password is posted and redirects to /sessions/verified-device.
const monalisa = GITHUB_USERS.monalisa;

describe('GitHub konnector, device verification (email)', () => {
  let site: RunningSite;
  beforeEach(async () => {
    site = await startGithubSite({ prefix: '/github' });
  });
  afterEach(() => site.close());

  const fields = () => ({ login: monalisa.login, password: monalisa.password, baseUrl: site.url });
  const mailedCode = async () => site.control.lastCode(monalisa.login) ?? 'none';

  test('the first manual run asks for an email code and saves every receipt; a second run asks nothing and saves only the new one', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: mailedCode });
    assert.deepEqual(first.result, { ok: true });
    assert.deepEqual(first.codeRequests, [{ type: 'email', retry: false }]);
    assert.deepEqual(first.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.EMAIL', 'LOGIN_SUCCESS']);
    assert.equal(site.control.codesSent(monalisa.login), 1);
    assert.equal(site.control.outbox(monalisa.login)[0]?.channel, 'email');
    const receipts = site.control.documents(monalisa.login);
    assert.deepEqual(
      savedIndex(dataDir)
        .map((f) => f.attributes.vendorRef)
        .sort(),
      receipts.map((r) => r.id).sort(),
    );
    assert.equal(filesOnDisk(dataDir).length, receipts.length);

    const added = site.control.addDocument(monalisa.login);
    const second = await runKonnector(new GithubKonnector(), { dataDir, fields: fields() });
    assert.deepEqual(second.result, { ok: true });
    assert.deepEqual(second.codeRequests, []);
    assert.equal(site.control.codesSent(monalisa.login), 1, 'no new code');
    const after = savedIndex(dataDir);
    assert.equal(after.length, receipts.length + 1);
    assert.equal(new Set(after.map((f) => f.attributes.vendorRef)).size, after.length, 'no receipt saved twice');
    assert.ok(after.some((f) => f.attributes.vendorRef === added.id));
  });

  test('after the session expires, the verified-device cookie lets a background run log in without a code', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: mailedCode });
    assert.deepEqual(first.result, { ok: true });
    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    const logins = site.control.requestCount('/session', 'POST');

    const background = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: true });
    assert.deepEqual(background.codeRequests, []);
    assert.equal(site.control.requestCount('/session', 'POST'), logins + 1, 'it logged in again with the password');
    assert.equal(site.control.codesSent(monalisa.login), 1, 'no new code');
  });

  test('after the session and the device cookie expire, a background run ends TWOFA_EXPIRED and no code is sent', async () => {
    // The device cookie lives one second (Max-Age=1) in the konnector's jar, and one second of site clock.
    site.control.setDeviceLifetime(1_000);
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: mailedCode });
    assert.deepEqual(first.result, { ok: true });
    await sleep(1_200);
    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    const codes = site.control.codesSent(monalisa.login);
    const logins = site.control.requestCount('/session', 'POST');

    const background = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.deepEqual(background.codeRequests, []);
    assert.equal(site.control.codesSent(monalisa.login), codes, 'no code was sent');
    assert.equal(site.control.requestCount('/session', 'POST'), logins, 'the password was not posted');
  });

  test('a device the site forgot while its cookie lives: the background run ends TWOFA_EXPIRED (GitHub has e-mailed a code by then)', async () => {
    // GitHub says a device is unknown only after the password: the konnector cannot see it coming.
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: mailedCode });
    assert.deepEqual(first.result, { ok: true });
    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    site.control.forgetDevices(monalisa.login);
    const codes = site.control.codesSent(monalisa.login);

    const background = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.deepEqual(background.codeRequests, []);
    assert.equal(site.control.codesSent(monalisa.login), codes + 1);
  });

  test('a wrong code, then the right one, succeeds', async () => {
    const dataDir = newDataDir();
    let calls = 0;
    const run = await runKonnector(new GithubKonnector(), {
      dataDir,
      fields: fields(),
      readCode: async () => {
        const code = site.control.lastCode(monalisa.login);
        return ++calls === 1 ? wrongCode(code) : (code ?? 'none');
      },
    });
    assert.deepEqual(run.result, { ok: true });
    assert.deepEqual(run.codeRequests, [
      { type: 'email', retry: false },
      { type: 'email', retry: true },
    ]);
    assert.deepEqual(run.states.slice(0, 4), [
      'HANDLE_LOGIN_SUCCESS',
      'TWOFA_NEEDED.EMAIL',
      'TWOFA_NEEDED_RETRY.EMAIL',
      'LOGIN_SUCCESS',
    ]);
    assert.equal(site.control.codesSent(monalisa.login), 1, 'a refused code does not make GitHub send another');
    assert.equal(savedIndex(dataDir).length, site.control.documents(monalisa.login).length);
  });

  test('too many wrong codes end with LOGIN_FAILED.TOO_MANY_ATTEMPTS', async () => {
    const dataDir = newDataDir();
    const run = await runKonnector(new GithubKonnector(), {
      dataDir,
      fields: fields(),
      readCode: async () => wrongCode(site.control.lastCode(monalisa.login)),
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' });
    assert.equal(run.codeRequests.length, site.control.settings().lockoutThreshold);
    assert.deepEqual(filesOnDisk(dataDir), []);
  });
});
