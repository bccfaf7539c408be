import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { StandaloneHost } from '@gleaner/konnector/host';
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
  const dataDir = mkdtempSync(join(tmpdir(), '__SLUG__-'));
  let codesAsked = 0;
  const host = () =>
    new StandaloneHost({
      dataDir,
      fields: { login, password, baseUrl: site.url },
      codeReader: async ({ type }) => {
        codesAsked += 1;
        assert.equal(type, 'sms');
        return site.control.lastCode(login) ?? '';
      },
      onLog: () => {},
    });

  assert.deepEqual(await new TestSiteKonnector().run({ host: host() }), { ok: true });
  assert.equal(codesAsked, 1);
  assert.equal(readdirSync(join(dataDir, 'files')).length, site.control.documents(login).length);

  assert.deepEqual(await new TestSiteKonnector().run({ host: host() }), { ok: true });
  assert.equal(codesAsked, 1, 'the saved session is used: no new code');
});
