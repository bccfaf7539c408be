import { readdirSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeSite } from '../lib/fake-site.mjs';
import { assertOk, childEnv, markerJson, runMeasured } from '../lib/measure.mjs';
import { notMeasured } from '../lib/outcome.mjs';
import { GLEANER_SCRIPTS, PEER_KONNECTORS, PEER_STANDALONE_ENV, gleanerSdkBuilt } from '../lib/paths.mjs';
import { median, round } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';
import { progress } from '../lib/progress.mjs';

const RUNS = 3;
const BILLS = 200;
const BILL_BYTES = 50 * 1024;
const LATENCY_MS = 50;
// BENCH_WHOLE_RUN_GLEANER=0 skips the Gleaner side, for when the SDK is mid-change and the peer
// numbers alone are wanted.
const GLEANER_WIRED = process.env.BENCH_WHOLE_RUN_GLEANER !== '0';

export const name = 'whole-run';
export const title = '4. A whole run';
export const goal = 'not set in the brief';
export const metrics = [
  { key: 'wallMs', label: `login + 2FA + ${BILLS} bills, wall (median)`, unit: 'ms', digits: 0, better: 'lower' },
  { key: 'maxParallelRequests', label: 'max parallel requests seen by the site', unit: '', digits: 0, better: 'info' },
  { key: 'peakRssMB', label: 'peak RSS of the konnector (median)', unit: 'MB', digits: 1, better: 'lower' },
];
export const notes = [
  `A whole run: process start to exit of a konnector that signs in (form POST), answers a 2FA form with a code it knows, lists ${BILLS} bills and downloads each (${BILL_BYTES / 1024} KB) from a local site that adds ${LATENCY_MS} ms to every request; median of ${RUNS} runs. The peer downloads one at a time with the request instance its saveFiles builds (saveFiles itself fails standalone since 5.4).`,
];

/**
 * Both konnectors get the same contract: env BENCH_SITE_URL, BENCH_TWOFA_CODE, BENCH_OUT_DIR,
 * fields { login, password } in konnector-dev-config.json. Success is judged by the site's own
 * counters (every bill served once), so a konnector may store its files wherever its SDK stores them.
 */
async function measure(label, script, extraEnv, { filesInOutDir = false } = {}) {
  const site = await startFakeSite({ latencyMs: LATENCY_MS, bills: BILLS, billBytes: BILL_BYTES });
  try {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      site.resetStats();
      const cwd = makeWorkdir(label.replace(/\W+/g, '-'), site.credentials);
      const outDir = join(cwd, 'files');
      mkdirSync(outDir);
      const run = assertOk(
        await runMeasured(process.execPath, [script], {
          cwd,
          env: childEnv({
            ...extraEnv(cwd),
            BENCH_SITE_URL: site.url,
            BENCH_TWOFA_CODE: site.twoFaCode,
            BENCH_OUT_DIR: outDir,
          }),
          timeoutMs: 180_000,
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
      runs.push({
        wallMs: run.wallMs,
        peakRssMB: run.peakRssMB,
        maxParallelRequests: stats.maxInFlight,
        requests: stats.requests,
        filesReported: result.files,
        filesOnDisk: countFiles(outDir),
      });
      progress(`  ${label} run ${i + 1}/${RUNS}: ${round(run.wallMs, 0)} ms, max ${stats.maxInFlight} parallel`);
    }
    return {
      metrics: {
        wallMs: median(runs.map((r) => r.wallMs)),
        maxParallelRequests: Math.max(...runs.map((r) => r.maxParallelRequests)),
        peakRssMB: median(runs.map((r) => r.peakRssMB)),
      },
      raw: { runs: runs.map((r) => ({ ...r, wallMs: round(r.wallMs, 1), peakRssMB: round(r.peakRssMB, 1) })) },
    };
  } finally {
    await site.close();
  }
}

function countFiles(dir) {
  return readdirSync(dir).filter((f) => statSync(join(dir, f)).size === BILL_BYTES).length;
}

export function runPeer() {
  return measure(
    'peer whole run',
    join(PEER_KONNECTORS, 'whole-run.cjs'),
    () => ({
      ...PEER_STANDALONE_ENV,
      COZY_FIELDS: JSON.stringify({ account: 'bench-account', folder_to_save: '.' }),
    }),
    { filesInOutDir: true },
  );
}

export function runGleaner() {
  if (!gleanerSdkBuilt()) return notMeasured('konnectors not built');
  if (!GLEANER_WIRED) return notMeasured('skipped (BENCH_WHOLE_RUN_GLEANER=0)');
  return measure('Gleaner whole run', join(GLEANER_SCRIPTS, 'whole-run.mjs'), (cwd) => ({
    GLEANER_DATA: join(cwd, 'data'),
  }));
}
