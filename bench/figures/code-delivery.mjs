import { join } from 'node:path';
import { startFakeCozyStack } from '../lib/fake-cozy-stack.mjs';
import { assertOk, childEnv, markerJson, runMeasured } from '../lib/measure.mjs';
import { notMeasured, pool, sleep } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY, PEER_KONNECTORS } from '../lib/paths.mjs';
import { existsSync } from 'node:fs';
import { percentile, round, sharedClockMs } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';
import { progress } from '../lib/progress.mjs';

const SAMPLES = 30;
const PARALLEL = 10;
// The peer polls every 5 s (its default heartBeat): submitting uniformly over one heartbeat (plus a
// margin) samples every phase of its polling loop.
const SUBMIT_AFTER_MS = [250, 5250];

export const name = 'code-delivery';
export const title = '3. Code delivery';
export const goal = 'not set in the brief (Gleaner pushes the code: no polling)';
export const metrics = [
  { key: 'p50Ms', label: 'code submitted → waitForTwoFaCode returns, p50', unit: 'ms', digits: 0, better: 'lower' },
  { key: 'p99Ms', label: 'code submitted → waitForTwoFaCode returns, p99', unit: 'ms', digits: 0, better: 'lower' },
];
export const notes = [
  `Code delivery: ${SAMPLES} manual runs (${PARALLEL} processes at a time), each waiting in waitForTwoFaCode({ type: 'sms' }); the code is set on the account at a random moment ${SUBMIT_AFTER_MS[0] / 1000}–${SUBMIT_AFTER_MS[1] / 1000} s after the account enters TWOFA_NEEDED.SMS. Peer: production mode against a fake of the cozy-stack endpoint it polls (GET/PUT /data/io.cozy.accounts/<id>), default 5 s heartbeat. Timestamps: performance.timeOrigin + performance.now() in both processes.`,
];

export async function runPeer() {
  const stack = await startFakeCozyStack();
  try {
    const samples = await pool(SAMPLES, PARALLEL, async (i) => {
      const accountId = `bench-2fa-${i}`;
      const code = String(100000 + Math.floor(Math.random() * 900000));
      stack.createAccount(accountId, {
        account_type: 'bench',
        auth: { login: 'x', password: 'y' },
        state: null,
      });
      const run = runMeasured(process.execPath, [join(PEER_KONNECTORS, 'two-fa.cjs')], {
        cwd: makeWorkdir('peer-2fa'),
        env: childEnv({
          NODE_ENV: 'production',
          SENTRY_DSN: 'false',
          COZY_URL: stack.url,
          COZY_CREDENTIALS: stack.token,
          COZY_FIELDS: JSON.stringify({ account: accountId }),
          COZY_JOB_ID: `bench-job-${i}`,
          COZY_JOB_MANUAL_EXECUTION: 'true',
        }),
        timeoutMs: 60_000,
      });
      const waiting = stack.waitFor(accountId, (doc) => doc.state === 'TWOFA_NEEDED.SMS');
      // Whichever comes first: a konnector that dies before waiting must not hang the bench.
      const first = await Promise.race([waiting.then(() => 'waiting'), run.then(() => 'exited')]);
      if (first === 'exited') assertOk(await run, `peer 2FA konnector ${i}`);
      await sleep(SUBMIT_AFTER_MS[0] + Math.random() * (SUBMIT_AFTER_MS[1] - SUBMIT_AFTER_MS[0]));
      const submittedAt = sharedClockMs();
      stack.setAttributes(accountId, { twoFACode: code });
      const result = markerJson(assertOk(await run, `peer 2FA konnector ${i}`).stdout, 'BENCH_CODE');
      if (result.code !== code) throw new Error(`konnector ${i} got code ${result.code}, expected ${code}`);
      const latency = result.t - submittedAt;
      progress(`  peer 2FA sample ${i + 1}/${SAMPLES}: ${round(latency, 0)} ms`);
      return latency;
    });
    if (stack.stats.unknown.length) progress(`  fake stack saw unknown requests: ${stack.stats.unknown.join(', ')}`);
    return {
      metrics: { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) },
      raw: { latenciesMs: samples.map((x) => round(x, 1)), stackRequests: { ...stack.stats } },
    };
  } finally {
    await stack.close();
  }
}

/*
 * Gleaner side, to wire when the stack exists: start it on a temp GLEANER_DATA with a konnector whose
 * fetch() calls `await this.waitForTwoFaCode({ type: 'sms' })` then prints BENCH_CODE {code, t};
 * start SAMPLES manual jobs; on each account's TWOFA_NEEDED.SMS event (SSE), wait a random moment in
 * SUBMIT_AFTER_MS, stamp sharedClockMs() and submit the code through the HTTP API; latency is t minus
 * that stamp, exactly as above.
 */
export function runGleaner() {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  return notMeasured('stack built, but this figure is not wired to it yet');
}
