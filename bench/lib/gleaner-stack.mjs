import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { childEnv } from './measure.mjs';
import { pool } from './outcome.mjs';
import { sharedClockMs } from './stats.mjs';
import { GLEANER_SCRIPTS } from './paths.mjs';
import { makeWorkdir } from './workdir.mjs';

export const BENCH_KONNECTOR_DIR = join(GLEANER_SCRIPTS, 'twofa-konnector');
export const BENCH_KONNECTOR_SLUG = 'bench-twofa';
const START_TIMEOUT_MS = 30_000;

/**
 * The real Gleaner stack (bench/gleaner/stack-server.mjs) in its own process on a fresh data folder,
 * with the bench 2FA konnector installed, an admin session, and one SSE stream of its events. With
 * `database` (a postgres:// URL) and `secretKey` (base64), one node of a cluster on that database;
 * `worker: false` makes it a node that runs no jobs (`serve --no-worker`).
 */
export async function startGleanerStack({ concurrency, sandbox = true, database, secretKey, worker = true }) {
  const password = randomBytes(18).toString('base64url');
  const dataDir = join(makeWorkdir('gleaner-stack'), 'data');
  const child = spawn(process.execPath, [join(GLEANER_SCRIPTS, 'stack-server.mjs')], {
    env: childEnv({
      BENCH_DATA_DIR: dataDir,
      BENCH_KONNECTOR_DIR,
      BENCH_ADMIN_PASSWORD: password,
      BENCH_CONCURRENCY: String(concurrency),
      BENCH_SANDBOX: sandbox ? '1' : '0',
      ...(database ? { BENCH_DATABASE: database } : {}),
      ...(worker ? {} : { BENCH_WORKER: '0' }),
      ...(secretKey ? { GLEANER_SECRET_KEY: secretKey, GLEANER_SECRET_KEY_ID: 'bench1' } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const started = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`stack did not start in ${START_TIMEOUT_MS} ms:\n${stderr}`)),
      START_TIMEOUT_MS,
    );
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_STACK '));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('BENCH_STACK '.length)));
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code ?? signal} before listening:\n${stderr}`));
    });
  });
  const { url, pid } = started;
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`stack listens on ${url}, not 127.0.0.1`);

  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });
  if (login.status !== 200) throw new Error(`stack login: ${login.status}`);
  const cookie = login.headers.getSetCookie()[0]?.split(';')[0];
  const { csrfToken } = await login.json();

  // node:http with a keep-alive agent rather than fetch: undici's fetch adds a few ms of its own per
  // call on this machine, which would be counted as delivery time.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  /** One API call with the admin session; JSON in and out. */
  const call = (path, { method = 'GET', json } = {}) =>
    new Promise((resolve, reject) => {
      const body = json === undefined ? undefined : JSON.stringify(json);
      const headers = { cookie, 'x-csrf-token': csrfToken };
      if (body !== undefined)
        Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      const request = http.request(new URL(path, url), { method, headers, agent }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => {
          const isJson = text && (response.headers['content-type'] ?? '').includes('json');
          resolve({ status: response.statusCode, body: isJson ? JSON.parse(text) : text });
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });

  const events = await EventStream.open(`${url}/api/events?lastEventId=0`, { cookie });

  return {
    url,
    pid,
    call,
    events,
    stderr: () => stderr,
    async close() {
      events.close();
      agent.destroy();
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Reads the stack's Server-Sent Events; `on(test, handler)` sees every event (past and future),
 * `next(test, ms)` resolves with the first one that passes.
 */
class EventStream {
  #listeners = new Set();
  #abort = new AbortController();
  count = 0;

  static async open(url, headers) {
    const stream = new EventStream();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: stream.#abort.signal,
    });
    if (response.status !== 200 || !response.body) throw new Error(`event stream: ${response.status}`);
    void stream.#read(response.body);
    return stream;
  }

  async #read(body) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const data = buffer
            .slice(0, end)
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6));
          buffer = buffer.slice(end + 2);
          if (data.length) this.#dispatch(JSON.parse(data.join('\n')));
        }
      }
    } catch {
      // aborted by close()
    }
  }

  #dispatch(event) {
    this.count++;
    for (const listener of [...this.#listeners]) listener(event);
  }

  /** Calls handler(event) for every event from now on; returns the unsubscribe. */
  on(handler) {
    this.#listeners.add(handler);
    return () => this.#listeners.delete(handler);
  }

  /** The first event from now on that passes `test`. */
  next(test, what, ms = 60_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const off = this.on((event) => {
        if (!test(event)) return;
        clearTimeout(timer);
        off();
        resolve(event);
      });
    });
  }

  close() {
    this.#abort.abort();
  }
}

/**
 * Follows one account's manual job through the event stream: `waiting` resolves with the prompt once
 * the prompt is waiting AND the account is in `state` (TWOFA_NEEDED.SMS unless told); `reported` with
 * the konnector's BENCH_CODE line; `ended` with the finished job.
 */
export function followAccount(events, accountId, ms = 120_000, { state = 'TWOFA_NEEDED.SMS' } = {}) {
  let prompt;
  let inState = false;
  let jobId;
  let resolveWaiting;
  let resolveReported;
  let resolveEnded;
  const waiting = new Promise((r) => (resolveWaiting = r));
  const reported = new Promise((r) => (resolveReported = r));
  const ended = new Promise((r) => (resolveEnded = r));
  const off = events.on((e) => {
    if (e.type === 'prompt.updated' && e.prompt.accountId === accountId && e.prompt.status === 'waiting') {
      prompt = e.prompt;
      jobId = e.prompt.jobId;
    } else if (e.type === 'account.updated' && e.account.id === accountId && e.account.state === state) {
      inState = true;
    } else if (e.type === 'job.log' && jobId && e.line.jobId === jobId && e.line.message.startsWith('BENCH_CODE ')) {
      resolveReported(JSON.parse(e.line.message.slice('BENCH_CODE '.length)));
    } else if (
      e.type === 'job.updated' &&
      e.job.accountId === accountId &&
      (e.job.status === 'done' || e.job.status === 'errored')
    ) {
      resolveEnded(e.job);
    }
    if (prompt && inState) resolveWaiting(prompt);
  });
  const timers = [];
  const deadline = (promise, what) => {
    const bounded = Promise.race([
      promise,
      new Promise((_, reject) => {
        timers.push(setTimeout(() => reject(new Error(`account ${accountId}: no ${what} after ${ms} ms`)), ms));
      }),
    ]);
    // A wait nobody reached (an earlier step failed) must not become an unhandled rejection.
    bounded.catch(() => {});
    return bounded;
  };
  return {
    waiting: deadline(waiting, 'waiting prompt'),
    reported: deadline(reported, 'BENCH_CODE line'),
    ended: deadline(ended, 'job end'),
    stop() {
      off();
      for (const timer of timers) clearTimeout(timer);
    },
  };
}

/** Creates an account of the bench konnector (no job yet). */
export async function createAccount(stack, fields = {}) {
  const created = await stack.call('/api/accounts', {
    method: 'POST',
    json: { konnector: BENCH_KONNECTOR_SLUG, fields: { login: 'bench', password: 'bench-password', ...fields } },
  });
  if (created.status !== 201) throw new Error(`create account: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body;
}

/** Starts a manual job of the account (what Home's Connect and Run now do). */
export async function startManualJob(stack, accountId) {
  const started = await stack.call(`/api/accounts/${accountId}/jobs`, { method: 'POST' });
  if (started.status >= 300) throw new Error(`start job: ${started.status} ${JSON.stringify(started.body)}`);
  return started.body;
}

/**
 * A fresh 10-digit code (SMS codes are 4 to 10 digits). The stack scrubs a run's codes from its output,
 * so the code must not show inside the report's timestamp: 10 random digits do so about once in 10^9.
 */
export const newCode = () => Array.from(randomBytes(10), (b) => String(b % 10)).join('');

export const codeDigest = (code) => createHash('sha256').update(code).digest('hex').slice(0, 16);

/** Posts the code; throws unless the stack accepted it (202). */
export async function answer(stack, promptId, code) {
  const answered = await stack.call(`/api/prompts/${promptId}/answer`, { method: 'POST', json: { code } });
  if (answered.status !== 202) throw new Error(`answer: ${answered.status} ${JSON.stringify(answered.body)}`);
}

/**
 * Memory of a process and all its descendants, from /proc: the sum of VmRSS (what the brief asks;
 * pages shared between processes, such as the node binary's, count once per process) and the sum of
 * Pss (each shared page split between the processes that map it, so the total is what they really
 * take together).
 */
export function processTreeMemory(rootPid) {
  const pids = processTree(rootPid);
  let rssKB = 0;
  let pssKB = 0;
  let rootRssKB = 0;
  for (const pid of pids) {
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      rssKB += rss;
      if (pid === rootPid) rootRssKB = rss;
      pssKB += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited between the listing and the read
    }
  }
  return { processes: pids.length, rssMB: rssKB / 1024, pssMB: pssKB / 1024, stackRssMB: rootRssKB / 1024 };
}

/** CPU time (user + system, ms) used so far by a process and all its descendants, from /proc/<pid>/stat. */
export function processTreeCpuMs(rootPid) {
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    try {
      // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/**
 * A process and all its descendants: through /proc/<pid>/task/<tid>/children where the kernel has
 * it (CONFIG_PROC_CHILDREN), else by a scan of every /proc/<pid>/stat's parent pid.
 */
function processTree(rootPid) {
  const byParent = childrenByScan();
  const pids = [];
  const visit = (pid) => {
    pids.push(pid);
    for (const child of byParent.get(pid) ?? []) visit(child);
  };
  visit(rootPid);
  return pids;
}

function childrenByScan() {
  const byParent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!byParent.has(ppid)) byParent.set(ppid, []);
      byParent.get(ppid).push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return byParent;
}

/**
 * Once the account waits for its code: sleep `delayMs`, stamp the shared clock, post a fresh code,
 * and wait for the konnector's report of the moment waitForTwoFaCode returned it.
 * Resolves with that latency in ms (konnector's moment − stamp) and, to see where the time goes, how
 * long the POST took to answer (202) on the same clock.
 */
export async function deliverCode(stack, follower, delayMs) {
  const prompt = await follower.waiting;
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const code = newCode();
  const submittedAt = sharedClockMs();
  await answer(stack, prompt.id, code);
  const answeredMs = sharedClockMs() - submittedAt;
  const report = await follower.reported;
  if (report.sha !== codeDigest(code)) throw new Error(`job ${prompt.jobId}: the konnector got another code`);
  return { latencyMs: report.t - submittedAt, answeredMs };
}

/**
 * Creates `count` accounts of the bench konnector and starts a manual job for each; resolves once
 * every one of them waits for its code. `onWaiting(n)` sees the count grow. The caller stops the
 * followers (`run.follower.stop()`) when done with them.
 */
export async function startWaitingRuns(stack, count, { fields = {}, timeoutMs = 120_000, onWaiting } = {}) {
  const runs = [];
  try {
    await pool(count, 8, async () => {
      const account = await createAccount(stack, fields);
      const run = { accountId: account.id, follower: followAccount(stack.events, account.id, timeoutMs) };
      runs.push(run);
      await startManualJob(stack, account.id);
    });
    let waiting = 0;
    await Promise.all(runs.map((run) => run.follower.waiting.then(() => onWaiting?.(++waiting))));
    return runs;
  } catch (error) {
    for (const run of runs) run.follower.stop();
    throw error;
  }
}
