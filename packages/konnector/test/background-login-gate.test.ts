import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestSite, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { StandaloneHost } from '../src/host/index.js';
import { CookieKonnector, submitForm, type Fields } from '../src/index.js';
import { newDataDir, runKonnector } from '../src/testing.js';

/** Posts the test site's login form, nothing else: what the gate lets through or stops is all it does. */
class PostsPassword extends CookieKonnector {
  silent = false;
  async testSession(): Promise<boolean> {
    return false;
  }
  override loginIsSilent(): Promise<boolean> {
    return Promise.resolve(this.silent);
  }
  override async fetch(fields: Fields): Promise<void> {
    await this.signin({
      url: `${fields.baseUrl}/login`,
      formSelector: '#login-form',
      formData: { login: fields.login ?? '', password: fields.password ?? '' },
      request: this.request,
    });
  }
}

describe('the background rule in the SDK: signin and submitForm do not post the credentials unasked', () => {
  let site: RunningSite;
  before(async () => {
    site = await startTestSite();
  });
  after(() => site.close());

  const fieldsOf = (user: { login: string; password: string }) => ({
    login: user.login,
    password: user.password,
    baseUrl: site.url,
  });
  const posts = () => site.control.requestCount('/login', 'POST');

  test('a background run of a new account stops before the POST; the site sends no code', async () => {
    const { alice } = TEST_SITE_USERS;
    const before = { posts: posts(), codes: site.control.codesSent(alice.login) };
    const run = await runKonnector(new PostsPassword(), {
      dataDir: newDataDir(),
      fields: fieldsOf(alice),
      mode: 'background',
      twofa: ['sms'],
    });
    assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.equal(posts(), before.posts, 'nothing posted');
    assert.equal(site.control.codesSent(alice.login), before.codes, 'no code sent');
    assert.ok(run.logs.some((line) => /asks for a second factor \(sms\)/.test(line.message)));
    assert.ok(!run.logs.some((line) => line.message.includes(alice.password)));
  });

  test('a password field with a name that says nothing is still a secret when the manifest types it password', async () => {
    const { alice } = TEST_SITE_USERS;
    /** Posts its `motDeCle` field as the password: only the manifest says it is one. */
    class NamedOddly extends PostsPassword {
      override async fetch(fields: Fields): Promise<void> {
        await this.signin({
          url: `${fields.baseUrl}/login`,
          formSelector: '#login-form',
          formData: { login: fields.login ?? '', password: fields.motDeCle ?? '' },
          request: this.request,
        });
      }
    }
    const fields = { login: alice.login, motDeCle: alice.password, baseUrl: site.url };
    const before = { posts: posts(), codes: site.control.codesSent(alice.login) };
    const run = await runKonnector(new NamedOddly(), {
      dataDir: newDataDir(),
      fields,
      mode: 'background',
      twofa: ['sms'],
      secretFields: ['motDeCle'],
    });
    assert.deepEqual(run.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
    assert.equal(posts(), before.posts, 'nothing posted');
    assert.equal(site.control.codesSent(alice.login), before.codes, 'no code sent');
    assert.ok(!run.logs.some((line) => line.message.includes(alice.password)));
  });

  test('it goes through when the login is declared silent, when the run is manual, or when nothing was ever asked', async () => {
    const { dave } = TEST_SITE_USERS;
    const silent = new PostsPassword();
    silent.silent = true;
    const before = posts();
    const declared = await runKonnector(silent, {
      dataDir: newDataDir(),
      fields: fieldsOf(dave),
      mode: 'background',
      twofa: ['sms'],
    });
    assert.deepEqual(declared.result, { ok: true });
    assert.equal(posts(), before + 1);

    const manual = await runKonnector(new PostsPassword(), { dataDir: newDataDir(), fields: fieldsOf(dave), twofa: ['sms'] });
    assert.deepEqual(manual.result, { ok: true });

    // Logged in before, never asked a code: the manifest's kinds no longer count.
    const dataDir = newDataDir();
    writeFileSync(join(dataDir, 'account.json'), JSON.stringify({ state: null, data: {}, history: ['LOGIN_SUCCESS'] }));
    const known = await runKonnector(new PostsPassword(), {
      dataDir,
      fields: fieldsOf(dave),
      mode: 'background',
      twofa: ['sms'],
    });
    assert.deepEqual(known.result, { ok: true });
    assert.equal(posts(), before + 3);
  });

  test('a form that carries no credential is posted; canWaitForTwoFaCode() is the konnector-level override', async () => {
    class SearchesOnly extends PostsPassword {
      override async fetch(fields: Fields): Promise<void> {
        const page = { $: await this.request(`${fields.baseUrl}/login`), url: `${fields.baseUrl}/login` };
        await submitForm(page, '#login-form', { login: 'someone', password: 'not-the-password' }, { request: this.request });
      }
    }
    const before = posts();
    const searched = await runKonnector(new SearchesOnly(), {
      dataDir: newDataDir(),
      fields: fieldsOf(TEST_SITE_USERS.bob),
      mode: 'background',
      twofa: ['email'],
    });
    assert.deepEqual(searched.result, { ok: true });
    assert.equal(posts(), before + 1);

    class AlwaysSomeone extends PostsPassword {
      override canWaitForTwoFaCode(): boolean {
        return true;
      }
    }
    const asked = await runKonnector(new AlwaysSomeone(), {
      dataDir: newDataDir(),
      fields: fieldsOf(TEST_SITE_USERS.dave),
      mode: 'background',
      twofa: ['email'],
    });
    assert.deepEqual(asked.result, { ok: true });
    assert.equal(posts(), before + 2);
  });
});

test("the standalone host tells the run what the site asked: the manifest's kinds until a login, then the kinds asked", async () => {
  const dataDir = newDataDir();
  const host = () => new StandaloneHost({ dataDir, fields: {}, twofa: ['sms', 'app'] });
  assert.deepEqual((await host().start()).siteTwoFa, ['sms', 'app']);
  const first = host();
  await first.updateAccountAttributes({ state: 'TWOFA_NEEDED.EMAIL' });
  await first.updateAccountAttributes({ state: 'LOGIN_SUCCESS' });
  assert.deepEqual((await host().start()).siteTwoFa, ['email']);
  // Long after: the states' history has moved on, what was asked is kept.
  for (let n = 0; n < 60; n++) await first.updateAccountAttributes({ state: n % 2 ? 'LOGIN_SUCCESS' : null });
  const account = JSON.parse(readFileSync(join(dataDir, 'account.json'), 'utf8')) as { history: string[] };
  assert.ok(!account.history.includes('TWOFA_NEEDED.EMAIL'));
  assert.deepEqual((await host().start()).siteTwoFa, ['email']);
});
