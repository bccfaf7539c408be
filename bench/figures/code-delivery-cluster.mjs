import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { deliverCode, startGleanerStack, startWaitingRuns } from '../lib/gleaner-stack.mjs';
import { notMeasured } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY } from '../lib/paths.mjs';
import { startBenchPostgres } from '../lib/postgres.mjs';
import { progress } from '../lib/progress.mjs';
import { round, summarize } from '../lib/stats.mjs';

const SAMPLES = 100;
const BATCH = 20;
const SUBMIT_AFTER_MS = [0, 100];
const GOAL_P99_MS = 50;

export const name = 'code-delivery-cluster';
export const title = '3b. Code delivery across nodes (PostgreSQL)';
export const goal = `across nodes p99 under ${GOAL_P99_MS} ms`;
export const metrics = [
  {
    key: 'p50Ms',
    label: 'code posted → waitForTwoFaCode returns, p50 (Gleaner: posted to node B, konnector on node A; other column: posted to node A)',
    unit: 'ms',
    digits: 1,
    better: 'info',
  },
  {
    key: 'p99Ms',
    label: 'code posted → waitForTwoFaCode returns, p99 (same two sides)',
    unit: 'ms',
    digits: 1,
    better: 'info',
    goalText: `across nodes < ${GOAL_P99_MS} ms`,
  },
];
export const notes = [
  `Code delivery across nodes: two real stacks (bench/gleaner/stack-server.mjs, each a process of its own with its HTTP API) on one throwaway PostgreSQL 15 database and one secrets key; ${SAMPLES} manual runs of the bench 2FA konnector started through node A (all run on A, sandboxed: B runs no jobs, as serve --no-worker), ${BATCH} at a time; once a batch waits, each code is POSTed to node B's /api/prompts/<id>/answer ${SUBMIT_AFTER_MS[0]}–${SUBMIT_AFTER_MS[1]} ms after the previous run ended. B checks it in the database, leaves it sealed in the mailbox table and sends the prompt id on NOTIFY gleaner_prompts; A takes it and hands it to the konnector. Latency as in figure 3 (the konnector's moment from its BENCH_CODE job log line − the stamp before the POST). The column beside it is not cozy-konnector-libs here: it is the same delivery on the same two-node database with the code POSTed to node A itself (no NOTIFY, the code handed over in process).`,
];

/** Codes posted to `target` for runs started on `runner`; returns the latencies. */
async function measure(runner, target, label) {
  const samples = [];
  while (samples.length < SAMPLES) {
    const runs = await startWaitingRuns(runner, Math.min(BATCH, SAMPLES - samples.length));
    try {
      for (const { follower } of runs) {
        const [a, b] = SUBMIT_AFTER_MS;
        const delivery = await deliverCode({ call: target.call }, follower, a + Math.random() * (b - a));
        samples.push(delivery.latencyMs);
        const job = await follower.ended;
        if (job.status !== 'done') throw new Error(`job ${job.id} ended ${job.status} ${job.error ?? ''}`);
      }
    } finally {
      for (const run of runs) run.follower.stop();
    }
    progress(`  ${label}: ${samples.length}/${SAMPLES}`);
  }
  return samples;
}

/** Two nodes on one new database; `fn(a, b)` measures; everything stops after. */
async function withCluster(fn) {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  const started = await startBenchPostgres();
  if (!started.server) return notMeasured(started.missing);
  const secretKey = randomBytes(32).toString('base64');
  const nodes = [];
  try {
    const database = await started.server.createDatabase();
    nodes.push(await startGleanerStack({ concurrency: BATCH, database, secretKey }));
    // B runs no jobs (serve --no-worker): every job runs on A, whichever node gets its code.
    nodes.push(await startGleanerStack({ concurrency: 1, database, secretKey, worker: false }));
    const samples = await fn(nodes[0], nodes[1]);
    const summary = summarize(samples);
    return {
      metrics: { p50Ms: summary.p50, p99Ms: summary.p99 },
      raw: {
        summaryMs: Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, round(v, 2)])),
        latenciesMs: samples.map((x) => round(x, 2)),
      },
    };
  } finally {
    for (const node of nodes) await node.close();
    await started.server.stop();
  }
}

/** Beside it: the code posted to the node whose queue runs the job. */
export const runPeer = () => withCluster((a) => measure(a, a, 'posted to node A (its own job)'));

/** The code posted to node B, the job on node A. */
export const runGleaner = () => withCluster((a, b) => measure(a, b, 'posted to node B (job on A)'));
