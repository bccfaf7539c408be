import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GITHUB_USERS, startGithubSite } from '@gleaner/sites';
import type { CodeRequest } from '@gleaner/konnector/host';
import { newDataDir, runKonnector } from '@gleaner/konnector/testing';
import { GithubKonnector } from '../src/konnector.js';

const monalisa = GITHUB_USERS.monalisa;

void test("device verification: the e-mail's masked address, its 15 minutes and the attempts left reach the request; Re-send waits for GitHub's cooldown", async (t) => {
  const site = await startGithubSite({ prefix: '/github' });
  t.after(() => site.close());
  const asked: CodeRequest[] = [];
  const run = await runKonnector(new GithubKonnector(), {
    dataDir: newDataDir(),
    fields: { login: monalisa.login, password: monalisa.password, baseUrl: site.url },
    // Above GitHub's 15 minutes, so that the site's own lifetime is what the wait gets.
    twoFaTimeoutCapMs: 20 * 60_000,
    readCode: async (request) => {
      asked.push(request);
      // 1: at once (GitHub says too soon), 2: after its 30 s, 3: the code of the second e-mail.
      if (asked.length === 1) return { resend: {} };
      if (asked.length === 2) {
        site.control.advance(31_000);
        return { resend: {} };
      }
      return site.control.lastCode(monalisa.login) ?? 'none';
    },
  });
  assert.deepEqual(run.result, { ok: true });
  const first = asked[0];
  assert.equal(first?.type, 'email');
  assert.equal(first?.details?.destination, 'm•••••••@example.test');
  assert.equal(first?.details?.attemptsLeft, 5);
  assert.ok(first?.details?.resend && first.details.resend.cooldownMs > 25_000, 'the cooldown GitHub states');
  const lifetime = (first?.expiresAt ?? 0) - Date.now();
  assert.ok(lifetime > 14 * 60_000 && lifetime <= 15 * 60_000, `the code's own 15 minutes (${lifetime} ms)`);
  assert.equal(asked.length, 3);
  assert.equal(site.control.codesSent(monalisa.login), 2, 'one e-mail at the sign-in, one after the cooldown');
  const log = run.logs.map((line) => line.message).join('\n');
  assert.match(
    log,
    /the site answered 429 to the form form#device-verification-resend\nthe site did not send a new code/,
  );
});
