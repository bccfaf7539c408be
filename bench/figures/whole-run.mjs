import { readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startFakeSite } from '../lib/fake-site.mjs';
import { assertOk, childEnv, cpuMethod, currentRssMB, markerJson, runMeasured } from '../lib/measure.mjs';
import { notMeasured } from '../lib/outcome.mjs';
import { GLEANER_SCRIPTS, PEER_KONNECTORS, PEER_STANDALONE_ENV, REPO_DIR, gleanerSdkBuilt } from '../lib/paths.mjs';
import { BEFORE_COMMIT, sdkBefore } from '../lib/sdk-before.mjs';
import { median, round } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';
import { progress } from '../lib/progress.mjs';

const RUNS = 5;
const BILLS = 200;
const BILL_BYTES = 50 * 1024;
const LATENCY_MS = 50;
/** The politeness limit: requests in flight to the site at once (the SDK's default). */
const MAX_IN_FLIGHT = 4;
/**
 * Requests that each wait for the answer before them: GET /login, POST /login (302), GET /2fa,
 * POST /2fa (302), GET /bills. No konnector can overlap them; the bills can go 4 at a time.
 */
const SERIAL_REQUESTS = 5;
/** The least a run can take against this site: its latency on the serial requests, then on 200 bills 4 at a time. */
export const FLOOR_MS = (SERIAL_REQUESTS + Math.ceil(BILLS / MAX_IN_FLIGHT)) * LATENCY_MS;
// BENCH_WHOLE_RUN_GLEANER=0 skips the Gleaner sides, for when the SDK is mid-change and the peer
// numbers alone are wanted.
const GLEANER_WIRED = process.env.BENCH_WHOLE_RUN_GLEANER !== '0';
const BEFORE_SHORT = BEFORE_COMMIT.slice(0, 7);

export const name = 'whole-run';
export const title = '4. A whole run';
export const goal = `within 1.1× of the floor (${FLOOR_MS} ms), peak RSS under 64 MB`;
export const beforeLabel = `SDK at ${BEFORE_SHORT}`;
export const metrics = [
  { key: 'wallMs', label: `login + 2FA + ${BILLS} bills, wall (median)`, unit: 'ms', digits: 0, better: 'lower' },
  {
    key: 'floorRatio',
    label: `wall ÷ floor of ${FLOOR_MS} ms (median)`,
    unit: '×',
    digits: 2,
    better: 'lower',
    goalMax: 1.1,
    goalText: '≤ 1.1×',
  },
  {
    key: 'peakRssMB',
    label: 'peak RSS of the konnector (median)',
    unit: 'MB',
    digits: 1,
    better: 'lower',
    goalMax: 64,
    goalText: '< 64 MB',
  },
  { key: 'startRssMB', label: 'RSS at its first request (median)', unit: 'MB', digits: 1, better: 'lower' },
  { key: 'cpuS', label: 'CPU-seconds per run, user + sys (median)', unit: 's', digits: 2, better: 'lower' },
  { key: 'maxParallelRequests', label: 'max parallel requests seen by the site', unit: '', digits: 0, better: 'info' },
];
export const notes = [
  `A whole run: process start to exit of a konnector that signs in (form POST), answers a 2FA form with a code it knows, lists ${BILLS} bills and downloads each (${BILL_BYTES / 1024} KB) from a local site that adds ${LATENCY_MS} ms to every request; median of ${RUNS} runs. The peer downloads one at a time with the request instance its saveFiles builds (saveFiles itself fails standalone since 5.4).`,
  `Floor: ${FLOOR_MS} ms = (${SERIAL_REQUESTS} requests that each need the answer before them + ${BILLS} bills ÷ ${MAX_IN_FLIGHT} in flight) × ${LATENCY_MS} ms. (${SERIAL_REQUESTS + BILLS} × ${LATENCY_MS} ÷ ${MAX_IN_FLIGHT} = ${((SERIAL_REQUESTS + BILLS) * LATENCY_MS) / MAX_IN_FLIGHT} ms would let the login overlap itself.) The peer's own floor, one bill at a time, is ${(SERIAL_REQUESTS + BILLS) * LATENCY_MS} ms.`,
  `Gleaner's konnector is started with the V8 flags that the stack's runner and \`gleaner run\` give every konnector (KONNECTOR_EXEC_ARGV in packages/konnector/src/host/node-flags.ts: a 1 MB young generation, later optimization of lukewarm code; the JSON results list them); "before" ran with none, as the runner then did; the peer runs as cozy-konnector-libs konnectors do.`,
  `"before" is the SDK at commit ${BEFORE_SHORT} (before the capacity work of issue 14), extracted with git archive and built into a temp folder (bench/lib/sdk-before.mjs), running its own copy of the same konnector script; its runs alternate with Gleaner's in one loop, so both see the same machine load. Ratio column on those rows: before ÷ now.`,
  `RSS at the first request: the konnector's VmRSS read from /proc as the site receives its first request (the SDK loaded, nothing downloaded yet). CPU: ${cpuMethod}; one core serves at most 3 600 ÷ (CPU-seconds per run) such runs an hour (the konnector alone: in a stack, the stack's own work for each saved file comes on top).`,
];

/**
 * One run of `script` against `site`. Success is judged by the site's own counters (every bill
 * served once), so a konnector may store its files wherever its SDK stores them.
 */
async function runOnce(label, site, script, extraEnv, { filesInOutDir = false, nodeArgs = [] } = {}) {
  site.resetStats();
  const cwd = makeWorkdir(label.replace(/\W+/g, '-'), site.credentials);
  const outDir = join(cwd, 'files');
  mkdirSync(outDir);
  let child;
  site.firstRequest = () => {
    site.firstRequest = undefined;
    site.startRssMB = currentRssMB(child);
  };
  site.startRssMB = NaN;
  const run = assertOk(
    await runMeasured(process.execPath, [...nodeArgs, script], {
      cwd,
      env: childEnv({
        ...extraEnv(cwd),
        BENCH_SITE_URL: site.url,
        BENCH_TWOFA_CODE: site.twoFaCode,
        BENCH_OUT_DIR: outDir,
      }),
      timeoutMs: 180_000,
      onSpawn: (spawned) => {
        child = spawned;
      },
    }),
    label,
  );
  const stats = site.stats();
  if (stats.downloads !== BILLS || stats.logins !== 1) {
    throw new Error(`${label}: the site served ${stats.downloads}/${BILLS} bills after ${stats.logins} logins`);
  }
  const result = markerJson(run.stdout, 'BENCH_RESULT');
  if (result.files !== BILLS) throw new Error(`${label}: the konnector saved ${result.files}/${BILLS} bills`);
  if (filesInOutDir && countFiles(outDir) !== BILLS) {
    throw new Error(`${label}: ${countFiles(outDir)}/${BILLS} whole bills on disk`);
  }
  const entry = {
    wallMs: run.wallMs,
    peakRssMB: run.peakRssMB,
    startRssMB: site.startRssMB,
    cpuS: run.cpuMs / 1000,
    maxParallelRequests: stats.maxInFlight,
    requests: stats.requests,
    filesReported: result.files,
  };
  progress(
    `  ${label}: ${round(run.wallMs, 0)} ms (${round(run.wallMs / FLOOR_MS, 2)}× the floor), ${round(run.peakRssMB, 1)} MB peak, ${round(entry.cpuS, 2)} CPU-s, max ${stats.maxInFlight} parallel`,
  );
  return entry;
}

async function withSite(fn) {
  const holder = {};
  const site = await startFakeSite({
    latencyMs: LATENCY_MS,
    bills: BILLS,
    billBytes: BILL_BYTES,
    onRequest: () => holder.site?.firstRequest?.(),
  });
  holder.site = site;
  try {
    return await fn(site);
  } finally {
    await site.close();
  }
}

function summary(runs) {
  const pick = (key) => runs.map((r) => r[key]);
  const wallMs = median(pick('wallMs'));
  return {
    metrics: {
      wallMs,
      floorRatio: wallMs / FLOOR_MS,
      peakRssMB: median(pick('peakRssMB')),
      startRssMB: median(pick('startRssMB')),
      cpuS: median(pick('cpuS')),
      maxParallelRequests: Math.max(...pick('maxParallelRequests')),
    },
    raw: {
      floorMs: FLOOR_MS,
      runs: runs.map((r) => ({
        ...r,
        wallMs: round(r.wallMs, 1),
        peakRssMB: round(r.peakRssMB, 1),
        startRssMB: round(r.startRssMB, 1),
        cpuS: round(r.cpuS, 2),
      })),
    },
  };
}

function countFiles(dir) {
  return readdirSync(dir).filter((f) => statSync(join(dir, f)).size === BILL_BYTES).length;
}

export function runPeer() {
  const env = () => ({
    ...PEER_STANDALONE_ENV,
    COZY_FIELDS: JSON.stringify({ account: 'bench-account', folder_to_save: '.' }),
  });
  return withSite(async (site) => {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      runs.push(await runOnce(`peer whole run ${i + 1}/${RUNS}`, site, join(PEER_KONNECTORS, 'whole-run.cjs'), env, { filesInOutDir: true }));
    }
    return summary(runs);
  });
}

let before;

/** Gleaner now and Gleaner before, run by run in turn; runBefore() hands over the second. */
export async function runGleaner() {
  if (!gleanerSdkBuilt()) return notMeasured('konnectors not built');
  if (!GLEANER_WIRED) return notMeasured('skipped (BENCH_WHOLE_RUN_GLEANER=0)');
  let beforeScript;
  try {
    beforeScript = sdkBefore();
  } catch (error) {
    before = { failed: `could not build the SDK of ${BEFORE_SHORT}: ${String(error.message ?? error).split('\n')[0]}` };
  }
  const env = (cwd) => ({ GLEANER_DATA: join(cwd, 'data') });
  // As the stack's runner starts a konnector (its heap cap aside): with the SDK's V8 flags.
  const flagsModule = join(REPO_DIR, 'packages', 'konnector', 'dist', 'src', 'host', 'node-flags.js');
  const nodeArgs = [...(await import(pathToFileURL(flagsModule).href)).KONNECTOR_EXEC_ARGV];
  return withSite(async (site) => {
    const now = [];
    const then = [];
    for (let i = 0; i < RUNS; i++) {
      now.push(await runOnce(`Gleaner whole run ${i + 1}/${RUNS}`, site, join(GLEANER_SCRIPTS, 'whole-run.mjs'), env, { nodeArgs }));
      if (beforeScript) then.push(await runOnce(`Gleaner before (${BEFORE_SHORT}) ${i + 1}/${RUNS}`, site, beforeScript, env));
    }
    if (beforeScript) before = summary(then);
    const result = summary(now);
    result.raw.nodeArgs = nodeArgs;
    return result;
  });
}

/** The runs of the SDK at BEFORE_COMMIT that runGleaner() made. */
export function runBefore() {
  if (!GLEANER_WIRED) return notMeasured('skipped (BENCH_WHOLE_RUN_GLEANER=0)');
  if (!before) return notMeasured('runs with the Gleaner side');
  if (before.failed) throw new Error(before.failed);
  return before;
}
