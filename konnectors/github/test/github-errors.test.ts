import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { GITHUB_USERS, startGithubSite, type RunningSite } from '@gleaner/sites';
import { GithubKonnector } from '../src/konnector.js';
import { newDataDir, runKonnector } from '@gleaner/konnector/testing';

const octocat = GITHUB_USERS.octocat;

describe('GitHub konnector, failures', () => {
  let site: RunningSite;
  beforeEach(async () => {
    site = await startGithubSite({ prefix: '/github' });
  });
  afterEach(() => site.close());

  test('a wrong password ends with LOGIN_FAILED and asks for no code', async () => {
    const dataDir = newDataDir();
    const run = await runKonnector(new GithubKonnector(), {
      dataDir,
      fields: { login: octocat.login, password: 'not-the-password', baseUrl: site.url },
    });
    assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED' });
    assert.deepEqual(run.codeRequests, []);
    assert.equal(site.control.requestCount('/session', 'POST'), 1);
  });

  test('a site answering 503 ends with VENDOR_DOWN', async () => {
    site.control.injectFault({ status: 503 });
    const run = await runKonnector(new GithubKonnector(), {
      dataDir: newDataDir(),
      fields: { login: octocat.login, password: octocat.password, baseUrl: site.url },
    });
    assert.deepEqual(run.result, { ok: false, error: 'VENDOR_DOWN' });
    assert.deepEqual(run.codeRequests, []);
  });

  test('a 503 answer to the login form ends with VENDOR_DOWN, not LOGIN_FAILED', async () => {
    site.control.injectFault({ status: 503, paths: '^/session$' });
    const run = await runKonnector(new GithubKonnector(), {
      dataDir: newDataDir(),
      fields: { login: octocat.login, password: octocat.password, baseUrl: site.url },
    });
    assert.deepEqual(run.result, { ok: false, error: 'VENDOR_DOWN' });
    assert.deepEqual(run.codeRequests, []);
  });

  test('the manifest names the fields, the 2FA methods and the demo address', () => {
    const manifest = JSON.parse(readFileSync(new URL('../../manifest.konnector', import.meta.url), 'utf8')) as {
      slug: string;
      main: string;
      twofa: string[];
      fields: Record<string, { type: string; default?: string; advanced?: boolean }>;
    };
    assert.equal(manifest.slug, 'github');
    assert.equal(manifest.main, 'dist/src/index.js');
    assert.deepEqual([...manifest.twofa].sort(), ['app_code', 'email']);
    assert.equal(manifest.fields.password?.type, 'password');
    assert.deepEqual(manifest.fields.baseUrl, {
      type: 'url',
      label: 'Site address',
      required: false,
      default: 'http://127.0.0.1:8080/github',
      advanced: true,
    });
  });
});
