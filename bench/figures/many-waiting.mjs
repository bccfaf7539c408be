import { existsSync } from 'node:fs';
import { notApplicable, notMeasured, sleep } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY } from '../lib/paths.mjs';
import { round, summarize } from '../lib/stats.mjs';
import { progress } from '../lib/progress.mjs';
import {
  deliverCode,
  processTreeCpuMs,
  processTreeMemory,
  startGleanerStack,
  startWaitingRuns,
} from '../lib/gleaner-stack.mjs';

const WAITING_RUNS = 200;
// Codes go out at uniformly random moments over this window (about 20 a second); every konnector
// stays alive HOLD_MS after its code, so that all WAITING_RUNS processes are still there while the
// last codes are delivered.
const SUBMIT_WINDOW_MS = 10_000;
const HOLD_MS = SUBMIT_WINDOW_MS + 1_000;
const SETTLE_MS = 1_000;
const GOAL_P99_MS = 20;
const PROCESSES_PER_RUN = 3;

export const name = 'many-waiting';
export const title = '5. Many waiting runs';
export const goal = `${WAITING_RUNS} runs waiting at once on one stack; code delivery p99 under ${GOAL_P99_MS} ms with all of them there`;
export const metrics = [
  { key: 'waitingRuns', label: 'runs waiting for a code at once', unit: '', digits: 0, better: 'higher' },
  {
    key: 'totalRssMB',
    label: 'RSS of the stack + all its konnectors, all waiting',
    unit: 'MB',
    digits: 0,
    better: 'lower',
  },
  { key: 'rssPerWaitingRunMB', label: 'memory per waiting run', unit: 'MB', digits: 1, better: 'lower' },
  {
    key: 'p50UnderLoadMs',
    label: 'code delivery p50 with all of them waiting',
    unit: 'ms',
    digits: 1,
    better: 'lower',
  },
  {
    key: 'p99UnderLoadMs',
    label: 'code delivery p99 with all of them waiting',
    unit: 'ms',
    digits: 1,
    better: 'lower',
    goalText: `Gleaner < ${GOAL_P99_MS} ms`,
  },
];
export const notes = [
  'Many waiting runs: Gleaner only. The peer has no column here because what holds its waiting runs is cozy-stack (Go, CouchDB, one konnector process per job), which is not part of cozy-konnector-libs and is not installable on this machine; figure 3 fakes only the one endpoint a single run polls.',
  `Gleaner: one stack (bench/gleaner/stack-server.mjs, its own process, concurrency raised to ${WAITING_RUNS}), ${WAITING_RUNS} accounts, one manual job each, every konnector waiting in waitForTwoFaCode({ type: 'sms' }) (each job is its own sandbox: bwrap, its init and the konnector's node, as the design requires). Memory is read ${SETTLE_MS / 1000} s after the last one started waiting: the sum of VmRSS over the stack process and every descendant (/proc/<pid>/task/*/children, /proc/<pid>/status); per run = that total ÷ ${WAITING_RUNS}, the stack's own share included. RSS counts shared pages (the node binary, V8's read-only pages) once per process; the sum of Pss, which splits them, is in latest.json. Then the ${WAITING_RUNS} codes are POSTed at uniformly random moments over ${SUBMIT_WINDOW_MS / 1000} s, stamped and reported as in figure 3; each konnector stays alive ${HOLD_MS / 1000} s after its code so that all ${WAITING_RUNS} processes are there until the last code.`,
];

export function runPeer() {
  return notApplicable('the peer has no stack here');
}

export async function runGleaner() {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  const stack = await startGleanerStack({ concurrency: WAITING_RUNS });
  let runs = [];
  try {
    const idle = processTreeMemory(stack.pid);
    const started = performance.now();
    runs = await startWaitingRuns(stack, WAITING_RUNS, {
      fields: { holdMs: String(HOLD_MS) },
      timeoutMs: 180_000,
      onWaiting: (n) => {
        if (n % 50 === 0) progress(`  ${n}/${WAITING_RUNS} runs waiting for their code`);
      },
    });
    const startMs = performance.now() - started;
    const cpuBefore = processTreeCpuMs(stack.pid);
    await sleep(SETTLE_MS);
    const idleCpuPercent = ((processTreeCpuMs(stack.pid) - cpuBefore) / SETTLE_MS) * 100;
    const memory = processTreeMemory(stack.pid);
    // Each sandboxed run is bwrap (under prlimit, same process), bwrap's PID-namespace init, and node.
    if (memory.processes !== WAITING_RUNS * PROCESSES_PER_RUN + 1) {
      throw new Error(
        `expected the stack and ${WAITING_RUNS} × ${PROCESSES_PER_RUN} sandbox processes, found ${memory.processes}`,
      );
    }
    progress(
      `  all ${WAITING_RUNS} waiting after ${round(startMs / 1000, 1)} s: ${round(memory.rssMB, 0)} MB RSS (${round(memory.pssMB, 0)} MB PSS) in ${memory.processes} processes, ${round(idleCpuPercent, 0)}% of a core; delivering the codes`,
    );
    const delays = runs.map(() => Math.random() * SUBMIT_WINDOW_MS);
    const deliveries = await Promise.all(runs.map((run, i) => deliverCode(stack, run.follower, delays[i])));
    const latencies = deliveries.map((d) => d.latencyMs);
    const summary = summarize(latencies);
    progress(
      `  codes delivered: p50 ${round(summary.p50, 1)} ms, p99 ${round(summary.p99, 1)} ms; waiting for the runs to end`,
    );
    const jobs = await Promise.all(runs.map((run) => run.follower.ended));
    const failed = jobs.filter((job) => job.status !== 'done');
    if (failed.length) {
      const log = await stack.call(`/api/jobs/${failed[0].id}/logs`);
      const tail = Array.isArray(log.body) ? log.body.slice(-8).map((l) => `  ${l.level} ${l.message}`) : [];
      throw new Error(
        `${failed.length}/${WAITING_RUNS} jobs did not end done, e.g. ${failed[0].id}: ${failed[0].status} ${failed[0].error ?? ''}\n${tail.join('\n')}`,
      );
    }
    return {
      metrics: {
        waitingRuns: WAITING_RUNS,
        totalRssMB: memory.rssMB,
        rssPerWaitingRunMB: memory.rssMB / WAITING_RUNS,
        p50UnderLoadMs: summary.p50,
        p99UnderLoadMs: summary.p99,
      },
      raw: {
        memory: {
          idleStack: roundAll(idle),
          allWaiting: roundAll(memory),
          pssPerWaitingRunMB: round(memory.pssMB / WAITING_RUNS, 2),
          konnectorRssAverageMB: round((memory.rssMB - memory.stackRssMB) / WAITING_RUNS, 2),
        },
        secondsToAllWaiting: round(startMs / 1000, 1),
        cpuPercentOfOneCoreWhileAllWait: round(idleCpuPercent, 1),
        summaryMs: roundAll(summary, 2),
        latenciesMs: latencies.map((x) => round(x, 2)),
        answeredMs: deliveries.map((d) => round(d.answeredMs, 2)),
        submitDelaysMs: delays.map((x) => round(x, 0)),
        submitWindowMs: SUBMIT_WINDOW_MS,
      },
    };
  } catch (error) {
    error.message += `\nstack stderr (tail):\n${stack.stderr().split('\n').slice(-10).join('\n')}`;
    throw error;
  } finally {
    for (const run of runs) run.follower.stop();
    await stack.close();
  }
}

const roundAll = (record, digits = 1) =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, round(v, digits)]));
