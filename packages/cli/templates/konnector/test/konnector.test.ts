import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { filesOnDisk, newDataDir, runKonnector } from '@gleaner/konnector/testing';
import { startTestSite, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { TestSiteKonnector } from '../src/konnector.js';

/** The manifest's `twofa`: what a background run of a new account expects the site to ask. */
const { twofa } = JSON.parse(readFileSync(new URL('../../manifest.konnector', import.meta.url), 'utf8')) as {
  twofa: Array<'sms' | 'email' | 'app_code'>;
};

// Runs the konnector against the local 2FA test site, over real HTTP on 127.0.0.1.
let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(() => site.close());

test('the first run asks for the SMS code and saves every bill; the second asks nothing', async () => {
  const { login, password } = TEST_SITE_USERS.alice;
  const dataDir = newDataDir('__SLUG__');
  const fields = { login, password, baseUrl: site.url };
  const readCode = async () => site.control.lastCode(login) ?? '';

  const first = await runKonnector(new TestSiteKonnector(), { dataDir, fields, readCode });
  assert.deepEqual(first.result, { ok: true });
  assert.deepEqual(first.codeRequests, [{ type: 'sms', retry: false }]);
  assert.equal(filesOnDisk(dataDir).length, site.control.documents(login).length);

  const second = await runKonnector(new TestSiteKonnector(), { dataDir, fields, readCode });
  assert.deepEqual(second.result, { ok: true });
  assert.deepEqual(second.codeRequests, [], 'the saved session is used: no new code');
});

test('a background run with no session sends nothing: it stops before the password is posted', async () => {
  for (const { login, password } of [TEST_SITE_USERS.alice, TEST_SITE_USERS.bob, TEST_SITE_USERS.carol]) {
    const postsBefore = site.control.requestCount('/login', 'POST');
    const codesBefore = site.control.codesSent(login);
    const run = await runKonnector(new TestSiteKonnector(), {
      dataDir: newDataDir('__SLUG__'),
      fields: { login, password, baseUrl: site.url },
      mode: 'background',
      twofa,
    });
    assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' }, login);
    assert.equal(site.control.codesSent(login), codesBefore, `${login}: no code sent`);
    assert.equal(site.control.requestCount('/login', 'POST'), postsBefore, `${login}: the password was not posted`);
  }
});
