import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { AccountState, TwoFaType } from '@gleaner/konnector';
import { startAmazonSite, type RunningSite } from '@gleaner/sites';
import { AmazonKonnector } from '../../src/konnector.js';
import { filesOnDisk, newDataDir, readSaved, runKonnector, savedIndex } from '@gleaner/konnector/testing';

export type TwoFaCase = {
  /** Says which method is tested, e.g. 'SMS code (alice)'. */
  title: string;
  user: { login: string; password: string };
  /** Extra fields (codeDestination). */
  fields?: Record<string, string>;
  type: TwoFaType;
  /** The code the person would type now. */
  rightCode: (site: RunningSite) => string;
  /** A code the site refuses now. */
  wrongCode: (site: RunningSite) => string;
  /** The channel the outbox shows, for codes Amazon sends. */
  channel?: 'sms' | 'email';
};

const DAY = 24 * 60 * 60_000;

/** The behaviours every Amazon 2FA method must show, over real HTTP against the fake Amazon. */
export function amazonTwoFaSuite(c: TwoFaCase): void {
  const state = `TWOFA_NEEDED.${c.type.toUpperCase()}` as AccountState;
  const retryState = `TWOFA_NEEDED_RETRY.${c.type.toUpperCase()}` as AccountState;

  describe(`Amazon konnector, ${c.title}`, () => {
    let site: RunningSite;
    beforeEach(async () => {
      site = await startAmazonSite({ prefix: '/amazon' });
    });
    afterEach(() => site.close());

    const fields = (password: string = c.user.password) => ({
      login: c.user.login,
      password,
      baseUrl: site.url,
      ...c.fields,
    });
    const rightCode = async () => c.rightCode(site);
    const sentCodes = () => site.control.codesSent(c.user.login);
    const passwordPosts = () => site.control.requestCount('/ap/signin', 'POST');

    test(`the first manual run asks for a code of type ${c.type} and saves every invoice of every page; a second run asks nothing and saves only the new one`, async () => {
      const dataDir = newDataDir();
      const first = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), readCode: rightCode });
      assert.deepEqual(first.result, { ok: true });
      assert.deepEqual(first.codeRequests, [{ type: c.type, retry: false }]);
      assert.deepEqual(first.states.slice(0, 3), ['HANDLE_LOGIN_SUCCESS', state, 'LOGIN_SUCCESS']);
      if (c.channel) {
        assert.equal(sentCodes(), 1);
        assert.equal(site.control.outbox(c.user.login)[0]?.channel, c.channel);
      } else {
        assert.equal(sentCodes(), 0, 'an authenticator code is never sent');
      }

      const orders = site.control.documents(c.user.login);
      assert.ok(orders.length > 20, 'the history spans several pages');
      const index = savedIndex(dataDir);
      assert.deepEqual(index.map((f) => f.attributes.vendorRef).sort(), orders.map((o) => o.id).sort());
      assert.deepEqual(filesOnDisk(dataDir), index.map((f) => f.name).sort());
      for (const order of orders) {
        const saved = index.find((f) => f.attributes.vendorRef === order.id);
        assert.deepEqual(saved?.bill, {
          amount: order.amount,
          currency: 'EUR',
          date: order.date,
          vendor: 'Amazon',
          vendorRef: order.id,
        });
      }
      assert.match(readSaved(dataDir, index[0]?.name ?? ''), /^%PDF-/);

      // Two hours later the short session (60 min) would be over: "Keep me signed in" keeps this one.
      site.control.advance(2 * 60 * 60_000);
      const added = site.control.addDocument(c.user.login);
      const posts = passwordPosts();
      const codes = sentCodes();
      const second = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields() });
      assert.deepEqual(second.result, { ok: true });
      assert.deepEqual(second.codeRequests, []);
      assert.ok(
        !second.states.some((s) => s?.startsWith('TWOFA') || s === 'HANDLE_LOGIN_SUCCESS'),
        `states: ${second.states.join(', ')}`,
      );
      assert.equal(passwordPosts(), posts, 'the saved session was used');
      assert.equal(sentCodes(), codes);
      const after = savedIndex(dataDir);
      assert.equal(after.length, orders.length + 1);
      assert.equal(new Set(after.map((f) => f.attributes.vendorRef)).size, after.length, 'no invoice saved twice');
      assert.ok(after.some((f) => f.attributes.vendorRef === added.id));
      assert.equal(filesOnDisk(dataDir).length, orders.length + 1);
    });

    test('after the session expires, the remembered browser lets a background run sign in without a code', async () => {
      const dataDir = newDataDir();
      const first = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), readCode: rightCode });
      assert.deepEqual(first.result, { ok: true });
      site.control.advance(site.control.settings().longSessionLifetimeMs + DAY);
      const codes = sentCodes();

      const background = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), mode: 'background' });
      assert.deepEqual(background.result, { ok: true });
      assert.deepEqual(background.codeRequests, []);
      assert.ok(background.states.includes('LOGIN_SUCCESS'));
      assert.equal(sentCodes(), codes, 'no code was sent');
    });

    test('after the session expires and the site forgets the browser, a background run ends TWOFA_EXPIRED and no code is sent', async () => {
      const dataDir = newDataDir();
      const first = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), readCode: rightCode });
      assert.deepEqual(first.result, { ok: true });
      site.control.advance(site.control.settings().longSessionLifetimeMs + DAY);
      site.control.forgetDevices(c.user.login);
      const codes = sentCodes();
      const sendPresses = site.control.requestCount('/ap/cvf/request', 'POST');

      const background = await runKonnector(new AmazonKonnector(), { dataDir, fields: fields(), mode: 'background' });
      assert.deepEqual(background.result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
      assert.deepEqual(background.codeRequests, []);
      assert.equal(sentCodes(), codes, 'no code was sent');
      assert.equal(site.control.requestCount('/ap/cvf/request', 'POST'), sendPresses, '"Send OTP" was not pressed');
    });

    test('a wrong code, then the right one, succeeds', async () => {
      const dataDir = newDataDir();
      let calls = 0;
      const run = await runKonnector(new AmazonKonnector(), {
        dataDir,
        fields: fields(),
        readCode: async () => (++calls === 1 ? c.wrongCode(site) : c.rightCode(site)),
      });
      assert.deepEqual(run.result, { ok: true });
      assert.deepEqual(run.codeRequests, [
        { type: c.type, retry: false },
        { type: c.type, retry: true },
      ]);
      assert.deepEqual(run.states.slice(0, 4), ['HANDLE_LOGIN_SUCCESS', state, retryState, 'LOGIN_SUCCESS']);
      assert.equal(sentCodes(), c.channel ? 1 : 0, 'a refused code does not make Amazon send another');
      assert.equal(savedIndex(dataDir).length, site.control.documents(c.user.login).length);
    });

    test('too many wrong codes end with LOGIN_FAILED.TOO_MANY_ATTEMPTS', async () => {
      const dataDir = newDataDir();
      const run = await runKonnector(new AmazonKonnector(), {
        dataDir,
        fields: fields(),
        readCode: async () => c.wrongCode(site),
      });
      assert.deepEqual(run.result, { ok: false, error: 'LOGIN_FAILED.TOO_MANY_ATTEMPTS' });
      assert.equal(run.codeRequests.length, site.control.settings().lockoutThreshold);
      assert.ok(run.states.includes(retryState));
      assert.deepEqual(filesOnDisk(dataDir), []);
    });
  });
}
