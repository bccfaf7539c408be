import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AMAZON_USERS, startAmazonSite } from '@gleaner/sites';
import type { CodeRequest } from '@gleaner/konnector/host';
import { newDataDir, runKonnector } from '@gleaner/konnector/testing';
import { AmazonKonnector } from '../src/konnector.js';

const alice = AMAZON_USERS.alice;

void test('Two-Step Verification: the masked number, attempts left, SMS or e-mail and the remember box reach the request; picking e-mail sends the next code there', async (t) => {
  const site = await startAmazonSite({ prefix: '/amazon' });
  t.after(() => site.close());
  const asked: CodeRequest[] = [];
  const run = await runKonnector(new AmazonKonnector(), {
    dataDir: newDataDir(),
    fields: { login: alice.login, password: alice.password, baseUrl: site.url },
    readCode: async (request) => {
      asked.push(request);
      if (asked.length === 1) {
        site.control.advance(31_000);
        return { resend: { method: 'email' } };
      }
      return site.control.lastCode(alice.login) ?? 'none';
    },
  });
  assert.deepEqual(run.result, { ok: true });
  const [first, second] = asked;
  assert.equal(first?.type, 'sms');
  assert.equal(first?.details?.destination, '+33 6 •• •• •• 78');
  assert.equal(first?.details?.attemptsLeft, 5);
  assert.deepEqual(
    first?.details?.methods?.map((m) => [m.id, m.label]),
    [
      ['sms', 'Text me at +33 6 •• •• •• 78'],
      ['email', 'Email me at a••••@example.test'],
    ],
  );
  assert.equal(first?.details?.method, 'sms');
  assert.deepEqual(first?.details?.trustDevice, { label: "Don't require OTP on this browser", checked: true });
  const lifetime = (first?.expiresAt ?? 0) - Date.now();
  assert.ok(lifetime > 9 * 60_000 && lifetime <= 10 * 60_000, `the code's own 10 minutes (${lifetime} ms)`);
  assert.equal(second?.type, 'email', 'the person picked e-mail');
  assert.equal(second?.details?.destination, 'a••••@example.test');
  assert.deepEqual(
    site.control
      .outbox(alice.login)
      .map((m) => m.channel)
      .reverse(),
    ['sms', 'email'],
    'the second code went by e-mail, and it signed in',
  );
});
