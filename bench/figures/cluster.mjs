import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { notMeasured, sleep } from '../lib/outcome.mjs';
import { progress } from '../lib/progress.mjs';
import { GLEANER_STACK_ENTRY, REPO_DIR } from '../lib/paths.mjs';
import { round } from '../lib/stats.mjs';
import { makeWorkdir } from '../lib/workdir.mjs';

const JOBS = 40;
// Each run waits this long as if on its site: a konnector's time is mostly the site's, so the figure
// measures what the workers' slots carry rather than this machine's two cores (see the notes).
const RUN_MS = '1000';
const CONCURRENCY = 2;
const BIN = join(REPO_DIR, 'packages', 'cli', 'bin', 'gleaner.js');
const KONNECTOR = join(REPO_DIR, 'packages', 'cli', 'test', 'fixtures', 'cluster-konnector');
const POSTGRES_HELPER = join(REPO_DIR, 'packages', 'stack', 'dist', 'test', 'helpers', 'postgres.js');

export const name = 'cluster';
export const title = '7. Scale-out on PostgreSQL';
export const goal = 'jobs per minute of a short konnector, 1 worker against 2 workers on one PostgreSQL';
export const metrics = [
  { key: 'jobsPerMinute', label: 'jobs per minute (short konnector)', unit: '/min', digits: 0, better: 'higher', goalText: '2 workers ≥ 1.5× 1 worker', goalRatio: 1.5 },
];
export const notes = [
  `Scale-out: Gleaner only, and here the two columns are Gleaner with 2 workers ("Gleaner") and Gleaner with 1 worker (in the peer's column; the peer has no workers), so the ratio is how many times more jobs 2 workers run than 1. One throwaway PostgreSQL 15 per side, one \`gleaner serve --no-worker\` node and 1 or 2 \`gleaner worker --concurrency ${CONCURRENCY}\` processes (the bin, sandboxed), all on this machine: ${JOBS} accounts of a short konnector (packages/cli/test/fixtures/cluster-konnector, scenario quick: reports its run to a local site, waits ${RUN_MS} ms as a konnector waits on its site, and saves one bill) started at once through the API (after one warm-up run per slot); jobs per minute = ${JOBS} ÷ the time from the first start to the last job's end. On one machine the workers share its cores: with no wait at all (runMs 0) each run is CPU-bound (a node process started in its sandbox) and two workers on the same two cores ran 0.6–1.5× as many jobs as one, depending on the machine's load; a second machine adds its own cores.`,
];

/** A site that only acknowledges the konnector's reports and serves one small bill. */
function startSite() {
  const server = http.createServer((request, response) => response.end(request.url?.startsWith('/bills') ? '%PDF-1.4\n%%EOF\n' : 'ok'));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function gleaner(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out = (out + c).slice(-20_000)));
  child.stderr.setEncoding('utf8').on('data', (c) => (out = (out + c).slice(-20_000)));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const waitFor = async (pattern, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const match = pattern.exec(out);
      if (match) return match;
      if (child.exitCode !== null) throw new Error(`gleaner ${args[0]} exited:\n${out}`);
      await sleep(50);
    }
    throw new Error(`gleaner ${args[0]} did not start in ${ms / 1000} s:\n${out}`);
  };
  return { child, exited, waitFor, stop: () => (child.kill('SIGTERM'), exited) };
}

async function measure(workers, postgres, siteUrl) {
  const database = await postgres.createDatabase();
  const dataDir = join(makeWorkdir('cluster'), 'data');
  const password = randomBytes(18).toString('base64url');
  const env = {
    GLEANER_ADMIN_PASSWORD: password,
    GLEANER_SECRET_KEY: randomBytes(32).toString('base64'),
    GLEANER_SECRET_KEY_ID: 'k1',
    GLEANER_LOG_LEVEL: 'warn',
  };
  const common = ['--database', database, '--data', dataDir, '--konnectors', KONNECTOR];
  const serve = gleaner(['serve', '--no-worker', '--port', '0', ...common], env);
  const procs = [serve];
  try {
    const url = (await serve.waitFor(/Gleaner is serving on (http:\/\/\S+)/))[1];
    for (let i = 0; i < workers; i++) procs.push(gleaner(['worker', '--concurrency', String(CONCURRENCY), ...common], env));
    await Promise.all(procs.slice(1).map((w) => w.waitFor(/Gleaner worker \S+ is running/)));
    const login = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    const cookie = login.headers.getSetCookie()[0].split(';')[0];
    const { csrfToken } = await login.json();
    const call = async (path, json) => {
      const response = await fetch(`${url}${path}`, {
        method: json === undefined ? 'GET' : 'POST',
        headers: { cookie, 'x-csrf-token': csrfToken, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return response.json();
    };
    const until = async (ids) => {
      const deadline = performance.now() + 600_000;
      for (;;) {
        const jobs = await call(`/api/jobs?limit=500`);
        const ended = jobs.filter((j) => ids.has(j.id) && (j.status === 'done' || j.status === 'errored'));
        if (ended.length >= ids.size) return ended;
        if (performance.now() > deadline) throw new Error('the jobs did not end in 10 minutes');
        await sleep(100);
      }
    };
    // A warm-up run per slot first (file cache, pg-boss's first queries), outside the timing.
    const warm = [];
    for (let i = 0; i < workers * CONCURRENCY; i++)
      warm.push((await call('/api/accounts', { konnector: 'cluster-test', fields: { login: `w${i}`, password: 'pw', site: siteUrl, runMs: '0' } })).id);
    await until(new Set(await Promise.all(warm.map(async (id) => (await call(`/api/accounts/${id}/jobs`, {})).id))));
    const accounts = [];
    for (let i = 0; i < JOBS; i++)
      accounts.push(
        (await call('/api/accounts', { konnector: 'cluster-test', fields: { login: `b${i}`, password: 'pw', site: siteUrl, runMs: RUN_MS } })).id,
      );
    const started = performance.now();
    const ids = new Set(await Promise.all(accounts.map(async (id) => (await call(`/api/accounts/${id}/jobs`, {})).id)));
    const jobs = await until(ids);
    const seconds = (performance.now() - started) / 1000;
    const failed = jobs.filter((j) => j.status !== 'done');
    if (failed.length) throw new Error(`${failed.length} job(s) did not end done: ${failed[0].error}`);
    const perWorker = {};
    for (const job of jobs) perWorker[job.worker] = (perWorker[job.worker] ?? 0) + 1;
    progress(`  ${workers} worker(s): ${JOBS} jobs in ${round(seconds, 1)} s (${Object.values(perWorker).join(' + ')})`);
    return { jobsPerMinute: (JOBS / seconds) * 60, raw: { seconds: round(seconds, 2), perWorker: Object.values(perWorker) } };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

let postgresServer = null;
let site = null;

async function setUp() {
  if (!existsSync(GLEANER_STACK_ENTRY) || !existsSync(POSTGRES_HELPER)) return null;
  const { startPostgres } = await import(POSTGRES_HELPER);
  postgresServer ??= await startPostgres();
  site ??= await startSite();
  return { postgres: postgresServer, siteUrl: `http://127.0.0.1:${site.address().port}` };
}

async function tearDown() {
  await postgresServer?.stop();
  postgresServer = null;
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
  site = null;
}

/** 1 worker, in the peer's column (see the note). */
export async function runPeer() {
  const env = await setUp();
  if (!env) return notMeasured('stack (and its test helpers) not built');
  try {
    const one = await measure(1, env.postgres, env.siteUrl);
    return { metrics: { jobsPerMinute: one.jobsPerMinute }, raw: one.raw };
  } catch (error) {
    await tearDown();
    throw error;
  }
}

/** 2 workers. */
export async function runGleaner() {
  const env = await setUp();
  if (!env) return notMeasured('stack (and its test helpers) not built');
  try {
    const two = await measure(2, env.postgres, env.siteUrl);
    return { metrics: { jobsPerMinute: two.jobsPerMinute }, raw: two.raw };
  } finally {
    await tearDown();
  }
}
