import { join } from 'node:path';
import { assertOk, childEnv, runMeasured } from '../lib/measure.mjs';
import { notMeasured } from '../lib/outcome.mjs';
import { GLEANER_SCRIPTS, PEER_KONNECTORS, PEER_STANDALONE_ENV, gleanerSdkBuilt } from '../lib/paths.mjs';
import { median, round } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';

export const name = 'cold-start';
export const title = '1. Cold start';
export const goal = 'Gleaner ≥5× faster and ≤ half the memory';
export const metrics = [
  {
    key: 'wallMs',
    label: 'wall time to fetch() (median)',
    baselineLabel: 'wall time (median)',
    unit: 'ms',
    digits: 0,
    better: 'lower',
    goalRatio: 5,
    goalText: '≥5× faster',
  },
  {
    key: 'peakRssMB',
    label: 'peak RSS (median)',
    baselineLabel: 'peak RSS (median)',
    unit: 'MB',
    digits: 1,
    better: 'lower',
    goalRatio: 2,
    goalText: '≤ ½ memory',
  },
];
export const notes = [
  'Cold start: a fresh process that imports the SDK and exits on the first line of fetch(); median of 5 runs after one discarded warm-up (which warms the file cache for both sides), each run in a fresh cwd holding konnector-dev-config.json.',
];

const RUNS = 5;

async function measure(label, run) {
  assertOk(await run(), `${label} warm-up`);
  const walls = [];
  const rss = [];
  for (let i = 0; i < RUNS; i++) {
    const r = assertOk(await run(), label);
    walls.push(r.wallMs);
    rss.push(r.peakRssMB);
  }
  return {
    metrics: { wallMs: median(walls), peakRssMB: median(rss) },
    raw: { wallMs: walls.map((x) => round(x, 1)), peakRssMB: rss.map((x) => round(x, 1)) },
  };
}

/** Bare `node -e 0`: the floor under both columns. */
export function runBaseline() {
  return measure('node -e 0', () => runMeasured(process.execPath, ['-e', '0'], { env: childEnv() }));
}

export function runPeer() {
  return measure('peer cold start', () =>
    runMeasured(process.execPath, [join(PEER_KONNECTORS, 'cold-start.cjs')], {
      cwd: makeWorkdir('peer-cold'),
      // An account id makes initAttributes read the fields from konnector-dev-config.json, as a
      // real standalone run does; folder_to_save '.' is where its stub keeps importedData.json.
      env: childEnv({
        ...PEER_STANDALONE_ENV,
        COZY_FIELDS: JSON.stringify({ account: 'bench-account', folder_to_save: '.' }),
      }),
      timeoutMs: 30_000,
    }),
  );
}

export function runGleaner() {
  if (!gleanerSdkBuilt()) return notMeasured('SDK not built');
  return measure('Gleaner cold start', () => {
    const cwd = makeWorkdir('gleaner-cold');
    return runMeasured(process.execPath, [join(GLEANER_SCRIPTS, 'cold-start.mjs')], {
      cwd,
      env: childEnv({ GLEANER_DATA: join(cwd, 'data') }),
      timeoutMs: 30_000,
    });
  });
}
