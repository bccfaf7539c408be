import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GITHUB_OCTOCAT_TOTP_SECRET, GITHUB_USERS, startGithubSite, totpCode, type RunningSite } from '@gleaner/sites';
import { GithubKonnector } from '../src/konnector.js';
import { filesOnDisk, newDataDir, readSaved, runKonnector, savedIndex, wrongCode } from '@gleaner/konnector/testing';

// octocat has an authenticator app: GitHub redirects to /sessions/two-factor/app after the password.
const octocat = GITHUB_USERS.octocat;

describe('GitHub konnector, authenticator app (app_code)', () => {
  let site: RunningSite;
  beforeEach(async () => {
    site = await startGithubSite({ prefix: '/github' });
  });
  afterEach(() => site.close());

  const fields = (password: string = octocat.password) => ({ login: octocat.login, password, baseUrl: site.url });
  const currentCode = async () => site.control.currentTotp(octocat.login);
  /** A code the authenticator does not show now, nor one step before or after. */
  const refusedCode = () => {
    const now = site.control.clock.now();
    return wrongCode(...[-30_000, 0, 30_000].map((shift) => totpCode(GITHUB_OCTOCAT_TOTP_SECRET, now + shift)));
  };

  test('the first manual run asks for an app_code and saves every receipt; a second run asks nothing and saves only the new one', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: currentCode });
    assert.deepEqual(first.result, { ok: true });
    assert.deepEqual(first.codeRequests, [{ type: 'app_code', retry: false }]);
    assert.deepEqual(first.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', 'TWOFA_NEEDED.APP_CODE', 'LOGIN_SUCCESS']);

    const receipts = site.control.documents(octocat.login);
    assert.equal(receipts.length, 12);
    const index = savedIndex(dataDir);
    assert.deepEqual(index.map((f) => f.attributes.vendorRef).sort(), receipts.map((r) => r.id).sort());
    assert.deepEqual(filesOnDisk(dataDir), index.map((f) => f.name).sort());
    for (const receipt of receipts) {
      const saved = index.find((f) => f.attributes.vendorRef === receipt.id);
      assert.deepEqual(saved?.bill, {
        amount: receipt.amount,
        currency: 'USD',
        date: receipt.date,
        vendor: 'GitHub',
        vendorRef: receipt.id,
      });
    }
    assert.match(readSaved(dataDir, filesOnDisk(dataDir)[0] ?? ''), /^%PDF-/);
    assert.equal(site.control.codesSent(), 0, 'an authenticator code is never sent');

    const added = site.control.addDocument(octocat.login);
    const logins = site.control.requestCount('/session', 'POST');
    const second = await runKonnector(new GithubKonnector(), { dataDir, fields: fields() });
    assert.deepEqual(second.result, { ok: true });
    assert.deepEqual(second.codeRequests, []);
    assert.ok(
      !second.states.some((s) => s?.startsWith('TWOFA') || s === 'HANDLE_LOGIN_SUCCESS'),
      `states: ${second.states.join(', ')}`,
    );
    assert.equal(
      site.control.requestCount('/session', 'POST'),
      logins,
      'the saved session was used: no password posted',
    );
    const after = savedIndex(dataDir);
    assert.equal(after.length, receipts.length + 1);
    assert.equal(new Set(after.map((f) => f.attributes.vendorRef)).size, after.length, 'no receipt saved twice');
    assert.ok(after.some((f) => f.attributes.vendorRef === added.id));
    assert.equal(filesOnDisk(dataDir).length, receipts.length + 1);
  });

  test('after the session expires, a background run ends TWOFA_EXPIRED without posting the password', async () => {
    const dataDir = newDataDir();
    const first = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: currentCode });
    assert.deepEqual(first.result, { ok: true });
    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    const logins = site.control.requestCount('/session', 'POST');

    const background = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), mode: 'background' });
    assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.deepEqual(background.codeRequests, []);
    assert.equal(site.control.requestCount('/session', 'POST'), logins, 'the password was not posted');
    assert.equal(site.control.codesSent(), 0);

    // A manual run then logs in again with a new code.
    const manual = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: currentCode });
    assert.deepEqual(manual.result, { ok: true });
    assert.deepEqual(manual.codeRequests, [{ type: 'app_code', retry: false }]);
  });

  test('a wrong code, then the right one, succeeds', async () => {
    const dataDir = newDataDir();
    let calls = 0;
    const run = await runKonnector(new GithubKonnector(), {
      dataDir,
      fields: fields(),
      readCode: async () => (++calls === 1 ? refusedCode() : site.control.currentTotp(octocat.login)),
    });
    assert.deepEqual(run.result, { ok: true });
    assert.deepEqual(run.codeRequests, [
      { type: 'app_code', retry: false },
      { type: 'app_code', retry: true },
    ]);
    assert.deepEqual(run.states.slice(0, 4), [
      'HANDLE_LOGIN_SUCCESS',
      'TWOFA_NEEDED.APP_CODE',
      'TWOFA_NEEDED_RETRY.APP_CODE',
      'LOGIN_SUCCESS',
    ]);
    assert.equal(savedIndex(dataDir).length, site.control.documents(octocat.login).length);
  });

  test('too many wrong codes end with LOGIN_FAILED.TOO_MANY_ATTEMPTS', async () => {
    const dataDir = newDataDir();
    const run = await runKonnector(new GithubKonnector(), {
      dataDir,
      fields: fields(),
      readCode: async () => refusedCode(),
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' });
    assert.equal(run.codeRequests.length, site.control.settings().lockoutThreshold);
    assert.ok(run.states.includes('TWOFA_NEEDED_RETRY.APP_CODE'));
    assert.deepEqual(filesOnDisk(dataDir), []);

    // While locked, even the right code is not asked for: the password page already says so.
    const again = await runKonnector(new GithubKonnector(), { dataDir, fields: fields(), readCode: currentCode });
    assert.deepEqual(again.result, { ok: false, error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' });
    assert.deepEqual(again.codeRequests, []);
  });
});
