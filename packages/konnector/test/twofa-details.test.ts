import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunContext, TwoFaReply } from '@gleaner/contracts';
import {
  BaseKonnector,
  type KonnectorHost,
  type TwoFaAnswer,
  type TwoFaRequest,
  type TwoFaResentReport,
} from '../src/index.js';

const CAP_MS = 10 * 60_000;

/** A host that answers the konnector's waits from a script, and records what it was told. */
function scriptedHost(replies: TwoFaReply[]) {
  const seen: { requests: TwoFaRequest[]; reports: TwoFaResentReport[]; logs: string[] } = {
    requests: [],
    reports: [],
    logs: [],
  };
  const next = async (): Promise<TwoFaReply> => {
    const reply = replies.shift();
    if (!reply) throw new Error('the script has no more replies');
    return reply;
  };
  const context: RunContext = {
    jobId: 'j1',
    accountId: 'a1',
    konnector: 'test',
    mode: 'manual',
    fields: {},
    state: null,
    stagingDir: '/nonexistent',
    twoFaTimeoutCapMs: CAP_MS,
    siteTwoFa: [],
  };
  const host: KonnectorHost = {
    start: async () => context,
    updateAccountAttributes: async () => {},
    getAccountData: async () => ({}),
    saveAccountData: async (data) => data,
    loadSession: async () => null,
    saveSession: async () => {},
    waitForTwoFaCode: async (request) => {
      seen.requests.push({ ...request, signal: undefined });
      return next();
    },
    twoFaResent: async (report) => {
      seen.reports.push(report);
      return next();
    },
    twoFaApproved: async () => {},
    listFiles: async () => [],
    saveFile: async () => {
      throw new Error('no files here');
    },
    log: (entry) => seen.logs.push(entry.message),
    finish: async () => {},
    cancelled: new AbortController().signal,
  };
  return { host, seen };
}

void test("the site's details reach the host; the wait lasts until the code's own expiresAt, capped", async () => {
  const { host, seen } = scriptedHost([{ code: '123456' }, { code: '654321' }]);
  const expiresAt = new Date(Date.now() + 9 * 60_000);
  let answer: TwoFaAnswer | undefined;
  const result = await new BaseKonnector(async function () {
    answer = await this.waitForTwoFaAnswer({
      type: 'sms',
      destination: '+33 6 •• •• •• 78',
      expiresAt,
      attemptsLeft: 4,
      trustDevice: "Don't ask again on this browser",
    });
    // Far beyond the cap: the host's cap wins.
    await this.waitForTwoFaCode({ type: 'sms', retry: true, expiresAt: Date.now() + 60 * 60_000 });
  }).run({ host });
  assert.deepEqual(result, { ok: true });
  const [first, second] = seen.requests;
  assert.deepEqual(first?.details, {
    destination: '+33 6 •• •• •• 78',
    attemptsLeft: 4,
    trustDevice: { label: "Don't ask again on this browser", checked: true },
  });
  assert.ok(first && Math.abs(first.timeoutMs - 9 * 60_000) < 2_000, `timeout ${first?.timeoutMs}`);
  assert.equal(second?.timeoutMs, CAP_MS);
  assert.deepEqual(answer, { code: '123456', trustDevice: true }, 'the box starts checked when the host says nothing');
});

void test('"Send a new code" by e-mail: the konnector\'s resend gets the method, the host hears what the site said, the answer carries the choice', async () => {
  const { host, seen } = scriptedHost([
    { resend: { method: 'email' } },
    { code: 'AB12CD', method: 'email', trustDevice: false },
  ]);
  const asked: Array<string | undefined> = [];
  let answer: TwoFaAnswer | undefined;
  const result = await new BaseKonnector(async function () {
    answer = await this.waitForTwoFaAnswer({
      type: 'sms',
      methods: [
        { id: 'sms', label: 'Text me at +33 6 •• •• •• 78', type: 'sms' },
        { id: 'email', label: 'Email me at a••••@example.test', type: 'email' },
      ],
      method: 'sms',
      resendCooldown: 20_000,
      trustDevice: true,
      resend: async (method) => {
        asked.push(method);
        return { destination: 'a••••@example.test', expiresAt: Date.now() + 5 * 60_000, cooldown: 45_000 };
      },
    });
  }).run({ host });
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(asked, ['email']);
  assert.deepEqual(seen.requests[0]?.details?.resend, { cooldownMs: 20_000 });
  const report = seen.reports[0];
  assert.equal(report?.ok, true);
  assert.equal(report?.type, 'email', "the picked method's type");
  assert.equal(report?.method, 'email');
  assert.equal(report?.destination, 'a••••@example.test');
  assert.equal(report?.cooldownMs, 45_000);
  assert.ok(report?.timeoutMs && Math.abs(report.timeoutMs - 5 * 60_000) < 2_000);
  assert.deepEqual(answer, { code: 'AB12CD', method: 'email', trustDevice: false });
});

void test('a resend the site refuses leaves the old code standing: the host is told, the wait goes on', async () => {
  const { host, seen } = scriptedHost([{ resend: {} }, { code: '111111' }]);
  const result = await new BaseKonnector(async function () {
    assert.equal(
      await this.waitForTwoFaCode({
        type: 'sms',
        resend: async () => {
          throw new Error('too soon: wait 20 seconds');
        },
      }),
      '111111',
    );
  }).run({ host });
  assert.deepEqual(result, { ok: true });
  assert.deepEqual(seen.reports, [{ ok: false }]);
  assert.ok(seen.logs.some((line) => /the site did not send a new code: too soon/.test(line)));
});

void test("bad details are the konnector author's bug, said plainly; an expiresAt already past ends the wait at once", async () => {
  for (const [options, message] of [
    [{ attemptsLeft: -1 }, /attemptsLeft must be a whole number/],
    [{ methods: [{ id: 'sms', label: 'SMS' }], method: 'email' }, /method "email" is not one of methods/],
    [{ expiresAt: 'soon' }, /expiresAt "soon" is not a date/],
  ] as const) {
    const { host } = scriptedHost([{ code: '123456' }]);
    let thrown: unknown;
    await new BaseKonnector(async function () {
      try {
        await this.waitForTwoFaCode({ type: 'sms', ...options });
      } catch (error) {
        thrown = error;
      }
    }).run({ host });
    assert.match(String((thrown as Error)?.message), message);
  }
  const { host, seen } = scriptedHost([{ code: '123456' }]);
  const result = await new BaseKonnector(async function () {
    await this.waitForTwoFaCode({ type: 'sms', expiresAt: Date.now() - 1_000 });
  }).run({ host });
  assert.deepEqual(result, { ok: false, error: 'USER_ACTION_NEEDED.TWOFA_EXPIRED' });
  assert.equal(seen.requests.length, 0, 'nobody is asked for a code that has already expired');
});
