import { existsSync } from 'node:fs';
import { notApplicable, notMeasured, sleep } from '../lib/outcome.mjs';
import { GLEANER_STACK_ENTRY } from '../lib/paths.mjs';
import { median, round } from '../lib/stats.mjs';
import { progress } from '../lib/progress.mjs';
import {
  createAccount,
  followAccount,
  processTreeMemory,
  startGleanerStack,
  startManualJob,
  startWaitingRuns,
} from '../lib/gleaner-stack.mjs';

const STARTS = 10;
const WAITING_RUNS = 20;
const SETTLE_MS = 1_000;

export const name = 'sandbox';
export const title = '6. Sandbox cost';
export const goal = 'what bubblewrap adds to a job: start time and memory per waiting run';
export const metrics = [
  { key: 'startSandboxMs', label: 'job start to fetch(), sandboxed (median)', unit: 'ms', digits: 0, better: 'info' },
  { key: 'startPlainMs', label: 'job start to fetch(), --no-sandbox (median)', unit: 'ms', digits: 0, better: 'info' },
  { key: 'perRunSandboxMB', label: 'memory per waiting run, sandboxed', unit: 'MB', digits: 1, better: 'info' },
  { key: 'perRunPlainMB', label: 'memory per waiting run, --no-sandbox', unit: 'MB', digits: 1, better: 'info' },
];
export const notes = [
  `Sandbox cost: Gleaner only (the peer runs no sandbox of its own; cozy-stack's nsjail is not installable here). The same stack (bench/gleaner/stack-server.mjs) run twice, sandboxed (bubblewrap + prlimit, the default) and with noSandbox. Start: ${STARTS} manual jobs one after the other, from POST /api/accounts/<id>/jobs to the prompt the konnector's fetch() opens first (waitForTwoFaCode: one IPC round trip after fetch() starts), median. Memory: ${WAITING_RUNS} runs waiting for a code at once, ${SETTLE_MS / 1000} s after the last one waits; (sum of VmRSS over the stack's process tree − the idle stack's) ÷ ${WAITING_RUNS}; the sum of Pss is in latest.json.`,
];

export function runPeer() {
  return notApplicable('the peer has no sandbox');
}

async function measureSide(sandbox) {
  const label = sandbox ? 'sandboxed' : '--no-sandbox';
  const stack = await startGleanerStack({ concurrency: WAITING_RUNS, sandbox });
  try {
    const starts = [];
    for (let i = 0; i < STARTS + 1; i++) {
      const account = await createAccount(stack);
      const follower = followAccount(stack.events, account.id, 60_000);
      const started = performance.now();
      await startManualJob(stack, account.id);
      const prompt = await follower.waiting;
      // The first one warms the file cache.
      if (i > 0) starts.push(performance.now() - started);
      await stack.call(`/api/jobs/${prompt.jobId}/cancel`, { method: 'POST' });
      await follower.ended;
      follower.stop();
    }
    const idle = processTreeMemory(stack.pid);
    await startWaitingRuns(stack, WAITING_RUNS, { timeoutMs: 120_000 });
    await sleep(SETTLE_MS);
    const memory = processTreeMemory(stack.pid);
    progress(
      `  ${label}: start median ${round(median(starts), 0)} ms; ${WAITING_RUNS} waiting: ${round(memory.rssMB, 0)} MB RSS in ${memory.processes} processes`,
    );
    return {
      startMs: median(starts),
      perRunMB: (memory.rssMB - idle.rssMB) / WAITING_RUNS,
      raw: {
        startsMs: starts.map((x) => round(x, 1)),
        processes: memory.processes,
        perRunPssMB: round((memory.pssMB - idle.pssMB) / WAITING_RUNS, 2),
      },
    };
  } finally {
    await stack.close();
  }
}

export async function runGleaner() {
  if (!existsSync(GLEANER_STACK_ENTRY)) return notMeasured('stack not built');
  const sandboxed = await measureSide(true);
  const plain = await measureSide(false);
  return {
    metrics: {
      startSandboxMs: sandboxed.startMs,
      startPlainMs: plain.startMs,
      perRunSandboxMB: sandboxed.perRunMB,
      perRunPlainMB: plain.perRunMB,
    },
    raw: { sandboxed: sandboxed.raw, plain: plain.raw },
  };
}
