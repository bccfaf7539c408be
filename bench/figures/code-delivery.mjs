import { join } from 'node:path';
import { startFakeCozyStack } from '../lib/fake-cozy-stack.mjs';
import { assertOk, childEnv, markerJson, runMeasured } from '../lib/measure.mjs';
import { notMeasured, pool, sleep } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY, PEER_KONNECTORS } from '../lib/paths.mjs';
import { existsSync } from 'node:fs';
import { percentile, round, sharedClockMs, summarize } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';
import { progress } from '../lib/progress.mjs';
import { deliverCode, startGleanerStack, startWaitingRuns } from '../lib/gleaner-stack.mjs';

const SAMPLES = 30;
const PARALLEL = 10;
// The peer polls every 5 s (its default heartBeat): submitting uniformly over one heartbeat (plus a
// margin) samples every phase of its polling loop.
const SUBMIT_AFTER_MS = [250, 5250];
// Gleaner pushes the code, so there is no polling phase to sample: a short random delay is enough.
// The issue asks for p50 and p99 over 200 runs. They start in batches: a batch's konnectors all boot
// first, then get their codes one at a time, so that no delivery races another konnector's start-up
// for the 2 cores (figure 5 measures delivery with many runs around).
const GLEANER_SAMPLES = 200;
const GLEANER_BATCH = 20;
const GLEANER_SUBMIT_AFTER_MS = [0, 100];
const GOAL_P99_MS = 20;

export const name = 'code-delivery';
export const title = '3. Code delivery';
export const goal = `Gleaner p99 under ${GOAL_P99_MS} ms (the stack pushes the code: no polling)`;
export const metrics = [
  { key: 'p50Ms', label: 'code submitted → waitForTwoFaCode returns, p50', unit: 'ms', digits: 1, better: 'lower' },
  {
    key: 'p99Ms',
    label: 'code submitted → waitForTwoFaCode returns, p99',
    unit: 'ms',
    digits: 1,
    better: 'lower',
    goalText: `Gleaner < ${GOAL_P99_MS} ms`,
  },
];
export const notes = [
  `Code delivery: manual runs, each waiting in waitForTwoFaCode({ type: 'sms' }); latency = the moment waitForTwoFaCode returned in the konnector − the moment just before the code was submitted (performance.timeOrigin + performance.now() in both processes). Peer: ${SAMPLES} runs (${PARALLEL} processes at a time) in production mode against a fake of the cozy-stack endpoint it polls (GET/PUT /data/io.cozy.accounts/<id>), default 5 s heartbeat; the code is set on the account at a random moment ${SUBMIT_AFTER_MS[0] / 1000}–${SUBMIT_AFTER_MS[1] / 1000} s after the account enters TWOFA_NEEDED.SMS, to sample every phase of its polling. Gleaner: ${GLEANER_SAMPLES} runs on the real stack (bench/gleaner/stack-server.mjs: SQLite on a temp data folder, HTTP API on 127.0.0.1, one konnector child process a job); started ${GLEANER_BATCH} at a time: once the event stream shows every run of a batch waiting (prompt waiting, account in TWOFA_NEEDED.SMS), their codes are POSTed to /api/prompts/<id>/answer one at a time, each ${GLEANER_SUBMIT_AFTER_MS[0]}–${GLEANER_SUBMIT_AFTER_MS[1]} ms (random) after the previous run ended (short, since there is no polling phase to sample), so that no other konnector's start-up or exit competes with a delivery for the 2 cores (figure 5 measures delivery with 200 runs around); the stamp is taken in the bench, so each latency includes the HTTP request (node:http, keep-alive); the konnector's moment comes back as a BENCH_CODE line of the job log, read from the event stream, with a digest of the code it got (the stack scrubs the code itself from job logs).`,
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

/**
 * Gleaner: the real stack in its own process; GLEANER_SAMPLES manual jobs of the bench konnector
 * (bench/gleaner/twofa-konnector), one account each, started GLEANER_BATCH at a time.
 */
export async function runGleaner() {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  const stack = await startGleanerStack({ concurrency: GLEANER_BATCH });
  try {
    const samples = [];
    const answered = [];
    while (samples.length < GLEANER_SAMPLES) {
      const batchStarted = performance.now();
      const runs = await startWaitingRuns(stack, Math.min(GLEANER_BATCH, GLEANER_SAMPLES - samples.length));
      const bootMs = performance.now() - batchStarted;
      try {
        for (const { follower } of runs) {
          const [a, b] = GLEANER_SUBMIT_AFTER_MS;
          const delivery = await deliverCode(stack, follower, a + Math.random() * (b - a));
          samples.push(delivery.latencyMs);
          answered.push(delivery.answeredMs);
          // The next code waits until this run has ended, so that its exit is not measured as well.
          const job = await follower.ended;
          if (job.status !== 'done') throw new Error(`job ${job.id} ended ${job.status} ${job.error ?? ''}`);
        }
      } finally {
        for (const run of runs) run.follower.stop();
      }
      progress(
        `  Gleaner 2FA samples ${samples.length}/${GLEANER_SAMPLES} (batch: ${round(bootMs / 1000, 1)} s to all waiting, ${round((performance.now() - batchStarted - bootMs) / 1000, 1)} s of deliveries)`,
      );
    }
    const summary = summarize(samples);
    return {
      metrics: { p50Ms: summary.p50, p99Ms: summary.p99 },
      raw: {
        summaryMs: Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, round(v, 2)])),
        latenciesMs: samples.map((x) => round(x, 2)),
        answeredMs: answered.map((x) => round(x, 2)),
        batch: GLEANER_BATCH,
        submitAfterMs: GLEANER_SUBMIT_AFTER_MS,
      },
    };
  } catch (error) {
    error.message += `\nstack stderr (tail):\n${stack.stderr().split('\n').slice(-10).join('\n')}`;
    throw error;
  } finally {
    await stack.close();
  }
}
