import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { filesOnDisk, newDataDir, runKonnector } from '@gleaner/konnector/testing';
import { startTestSite, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { TestSiteKonnector } from '../src/konnector.js';

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
