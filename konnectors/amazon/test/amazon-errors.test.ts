import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { AMAZON_USERS, startAmazonSite, type RunningSite } from '@gleaner/sites';
import { AmazonKonnector } from '../src/konnector.js';
import { filesOnDisk, newDataDir, runKonnector, savedIndex } from '@gleaner/konnector/testing';

const alice = AMAZON_USERS.alice;

describe('Amazon konnector, failures and accounts without 2FA', () => {
  let site: RunningSite;
  beforeEach(async () => {
    site = await startAmazonSite({ prefix: '/amazon' });
  });
  afterEach(() => site.close());

  const fieldsOf = (user: { login: string; password: string }) => ({
    login: user.login,
    password: user.password,
    baseUrl: site.url,
  });

  test('a wrong password ends with LOGIN_FAILED, asks for no code and sends none', async () => {
    const run = await runKonnector(new AmazonKonnector(), {
      dataDir: newDataDir(),
      fields: { ...fieldsOf(alice), password: 'not-the-password' },
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED' });
    assert.deepEqual(run.codeRequests, []);
    assert.equal(site.control.codesSent(alice.login), 0);
  });

  test('an e-mail address Amazon does not know ends with LOGIN_FAILED', async () => {
    const run = await runKonnector(new AmazonKonnector(), {
      dataDir: newDataDir(),
      fields: { ...fieldsOf(alice), login: 'nobody@example.test' },
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED' });
  });

  test('a site answering 503 ends with VENDOR_DOWN', async () => {
    site.control.injectFault({ status: 503 });
    const run = await runKonnector(new AmazonKonnector(), { dataDir: newDataDir(), fields: fieldsOf(alice) });
    assert.deepEqual(run.result, { ok: false, error: 'VENDOR_DOWN' });
    assert.deepEqual(run.codeRequests, []);
  });

  test('a 503 on the code page ends with VENDOR_DOWN', async () => {
    site.control.injectFault({ status: 503, paths: '^/ap/mfa$' });
    const run = await runKonnector(new AmazonKonnector(), {
      dataDir: newDataDir(),
      fields: fieldsOf(alice),
      readCode: async () => site.control.lastCode(alice.login) ?? 'none',
    });
    assert.deepEqual(run.result, { ok: false, error: 'VENDOR_DOWN' });
  });

  test('a captcha before the password ends with USER_ACTION_NEEDED without posting the password', async () => {
    const erin = AMAZON_USERS.erin;
    const run = await runKonnector(new AmazonKonnector(), { dataDir: newDataDir(), fields: fieldsOf(erin) });
    assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED' });
    assert.deepEqual(run.codeRequests, []);
    assert.equal(site.control.requestCount('/ap/signin', 'POST'), 1, 'only the e-mail step was posted');
  });

  test('an account without 2FA signs in without asking anything and saves every invoice', async () => {
    const dave = AMAZON_USERS.dave;
    const dataDir = newDataDir();
    const run = await runKonnector(new AmazonKonnector(), { dataDir, fields: fieldsOf(dave) });
    assert.deepEqual(run.result, { ok: true });
    assert.deepEqual(run.codeRequests, []);
    assert.deepEqual(run.states.slice(0, 2), ['HANDLE_LOGIN_SUCCESS', 'LOGIN_SUCCESS']);
    assert.equal(savedIndex(dataDir).length, site.control.documents(dave.login).length);
    assert.equal(filesOnDisk(dataDir).length, site.control.documents(dave.login).length);
  });

  test('the manifest names the fields, the 2FA methods and the demo address', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../manifest.konnector', import.meta.url), 'utf8')) as {
      slug: string;
      main: string;
      twofa: string[];
      fields: Record<string, { type: string; default?: string; advanced?: boolean }>;
    };
    assert.equal(manifest.slug, 'amazon');
    assert.equal(manifest.main, 'dist/src/index.js');
    assert.deepEqual([...manifest.twofa].sort(), ['app', 'app_code', 'email', 'sms']);
    assert.equal(manifest.fields.login?.type, 'email');
    assert.equal(manifest.fields.password?.type, 'password');
    assert.equal(manifest.fields.baseUrl?.type, 'url');
    assert.equal(manifest.fields.baseUrl?.default, 'http://127.0.0.1:8080/amazon');
    assert.equal(manifest.fields.baseUrl?.advanced, true);
  });
});
