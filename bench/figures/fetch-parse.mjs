import { join } from 'node:path';
import { startFakeSite } from '../lib/fake-site.mjs';
import { assertOk, childEnv, markerJson, runMeasured } from '../lib/measure.mjs';
import { notMeasured } from '../lib/outcome.mjs';
import { GLEANER_SCRIPTS, PEER_KONNECTORS, PEER_STANDALONE_ENV, gleanerSdkBuilt } from '../lib/paths.mjs';
import { round } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';

const REQUESTS = 300;
const WARMUP = 20;
const BUDGET_MS = 12_000;

export const name = 'fetch-parse';
export const title = '2. Fetch and parse';
export const goal = 'Gleaner ≥4× the peer’s requests/s';
export const metrics = [
  {
    key: 'requestsPerSecond',
    label: 'GET + cheerio + query, sequential',
    unit: 'req/s',
    digits: 0,
    better: 'higher',
    goalRatio: 4,
    goalText: '≥4× req/s',
  },
];
export const notes = [
  `Fetch and parse: ${REQUESTS} sequential GETs (after ${WARMUP} warm-up ones, at most ${BUDGET_MS / 1000} s) of a ~25 KB HTML page that sets two cookies, through requestFactory({ cheerio: true, jar: true }); each page is queried (rows of table#bills, an href). The local site answers at once, so this is the client's own cost.`,
];

async function measure(label, script, cwd, extraEnv) {
  const site = await startFakeSite();
  try {
    const run = assertOk(
      await runMeasured(process.execPath, [script], {
        cwd,
        env: childEnv({
          ...extraEnv,
          BENCH_URL: `${site.url}/page`,
          BENCH_REQUESTS: String(REQUESTS),
          BENCH_WARMUP: String(WARMUP),
          BENCH_BUDGET_MS: String(BUDGET_MS),
        }),
        timeoutMs: BUDGET_MS + 60_000,
      }),
      label,
    );
    const result = markerJson(run.stdout, 'BENCH_RESULT');
    const stats = site.stats();
    // A jar that drops cookies would make every request look like a first visit: refuse to time that.
    if (stats.requestsWithCookie < result.requests) {
      throw new Error(
        `${label}: only ${stats.requestsWithCookie} of ${stats.requests} requests sent the site's cookie back`,
      );
    }
    return {
      metrics: { requestsPerSecond: result.requests / (result.ms / 1000) },
      raw: {
        requests: result.requests,
        ms: round(result.ms, 1),
        rowsPerPage: result.rows,
        requestsWithCookie: stats.requestsWithCookie,
        peakRssMB: round(run.peakRssMB, 1),
      },
    };
  } finally {
    await site.close();
  }
}

export function runPeer() {
  return measure(
    'peer fetch-parse',
    join(PEER_KONNECTORS, 'fetch-parse.cjs'),
    makeWorkdir('peer-fp'),
    PEER_STANDALONE_ENV,
  );
}

export function runGleaner() {
  if (!gleanerSdkBuilt()) return notMeasured('SDK not built');
  const cwd = makeWorkdir('gleaner-fp');
  return measure('Gleaner fetch-parse', join(GLEANER_SCRIPTS, 'fetch-parse.mjs'), cwd, {
    GLEANER_DATA: join(cwd, 'data'),
  });
}
