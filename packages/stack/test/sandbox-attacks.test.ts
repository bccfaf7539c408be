// Konnectors written to misbehave, run by a real stack under the real sandbox (bubblewrap): each
// asserts that nothing was read, nothing was moved, no process is left, the job ended with a clear
// code, and the stack still answers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { Job, JobLogLine } from '@gleaner/contracts';
import type { GleanerStack } from '../src/create-stack.js';
import { EventRecorder, FIXTURES, isJobEnded, openStack, tmpDataDir } from './helpers/stack-harness.js';
import { requireBwrap } from './runner-fixtures/handlers.js';

requireBwrap();

const ATTACKS = ['attack-read', 'attack-symlink', 'attack-procs', 'attack-fill', 'attack-memory'];
const ENV_CANARY = `env-canary-${randomUUID()}`;

type Attempt = { what: string; path: string; ok: boolean; sample?: string; names?: string[]; env?: object };

/** The processes whose command line holds `marker` (zombies excluded), as `ps` shows them. */
function processesWith(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(marker))
    .filter((line) => !/^\s*\d+\s+Z/.test(line));
}

async function noneLeft(marker: string, ms = 3000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = processesWith(marker);
  }
  return left;
}

async function runJob(
  stack: GleanerStack,
  recorder: EventRecorder,
  konnector: string,
  fields: Record<string, string>,
  ms = 60_000,
): Promise<{ job: Job; logs: JobLogLine[]; accountId: string }> {
  const account = await stack.accounts.create({ konnector, fields: { login: 'mallory', password: 'pw-0', ...fields } });
  const started = await stack.jobs.start(account.id, 'manual');
  const ended = await recorder.waitFor(isJobEnded(started.id), `the ${konnector} job`, ms);
  return { job: ended.job, logs: await stack.jobs.logs(started.id), accountId: account.id };
}

const text = (logs: JobLogLine[]): string => logs.map((l) => l.message).join('\n');

function attempts(logs: JobLogLine[]): Attempt[] {
  return logs
    .filter((l) => l.message.startsWith('ATTEMPT '))
    .map((l) => JSON.parse(l.message.slice('ATTEMPT '.length)) as Attempt);
}

describe('a sandboxed konnector cannot hurt the stack', { concurrency: true }, () => {
  let dataDir: string;
  let stack: GleanerStack;
  let recorder: EventRecorder;
  let keyText: string;
  let keyFile: string;

  before(async () => {
    process.env.GLEANER_ATTACK_CANARY = ENV_CANARY;
    dataDir = tmpDataDir();
    stack = await openStack(dataDir, {
      konnectorDirs: ATTACKS.map((name) => join(FIXTURES, name)),
      untrusted: ATTACKS.map((name) => name),
      concurrency: 8,
      memoryLimitMb: 64,
      stagingLimitMb: 8,
      jobTimeLimitMs: 60_000,
      killGraceMs: 300,
    });
    recorder = new EventRecorder(stack);
    const current = readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim();
    keyFile = join(dataDir, 'keys', `${current}.key`);
    keyText = readFileSync(keyFile, 'utf8').trim();
  });

  after(async () => {
    recorder.stop();
    await stack.close(300);
    delete process.env.GLEANER_ATTACK_CANARY;
  });

  test('the stack runs every job sandboxed', () => {
    assert.equal(stack.sandbox.state, 'on');
  });

  test('reads of the data folder, the keys, gleaner.db and the stack environment all fail', async () => {
    const targets = [join(dataDir, 'gleaner.db'), keyFile, join(dataDir, 'keys', 'current')];
    const { job, logs } = await runJob(stack, recorder, 'attack-read', { targets: JSON.stringify(targets) });
    const all = text(logs);
    assert.equal(job.status, 'done', all.slice(0, 2000));
    assert.ok(all.includes('DONE'), 'the konnector went through all its attempts');
    const tried = attempts(logs);
    assert.ok(tried.length > 40, `attempts made: ${tried.length}`);

    // Nothing of a secret, in clear or in the konnector's base64 samples.
    const samples = tried.flatMap((a) => (a.sample ? [Buffer.from(a.sample, 'base64').toString('latin1')] : []));
    for (const seen of [all, ...samples]) {
      assert.ok(!seen.includes(keyText), 'the key never appears');
      assert.ok(!seen.includes('SQLite format 3'), 'no page of a database appears');
      assert.ok(!seen.includes(ENV_CANARY), "the stack's environment never appears");
    }
    // Every read aimed at the data folder failed; no listing shows what is in it.
    const sensitive = tried.filter((a) => /gleaner\.db|key|guessed/.test(a.what));
    assert.ok(sensitive.length > 10, `sensitive attempts: ${sensitive.length}`);
    for (const a of sensitive) assert.equal(a.ok, false, `${a.what} ${a.path} succeeded`);
    for (const a of tried.filter((t) => !t.path.startsWith('/proc')))
      for (const name of a.names ?? []) assert.ok(!['gleaner.db', 'keys', 'gleaner.lock'].includes(name), a.path);
    // The environment it sees: only what the runner gives.
    const own = tried.find((a) => a.what === 'own environment')!;
    assert.deepEqual(
      Object.keys(own.env!).filter(
        (name) =>
          !['PATH', 'NODE_ENV', 'LANG', 'TZ', 'PWD', 'NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE'].includes(
            name,
          ),
      ),
      [],
    );
    // /proc shows only the sandbox: bwrap's init (pid 1) and the konnector.
    const processes = tried.find((a) => a.what === 'processes')!;
    assert.ok((processes.names ?? []).filter((n) => /^\d+$/.test(n)).length <= 3, JSON.stringify(processes.names));
    assert.ok(existsSync(keyFile), 'the key file is still there');
    assert.ok((await stack.accounts.list()).length > 0, 'the stack answers');
  });

  test("another job's staging folder cannot be read while it runs", async () => {
    const secret = `other-job-secret-${randomUUID()}`;
    const holder = await stack.accounts.create({
      konnector: 'attack-read',
      fields: { login: 'alice', password: 'pw-1', hold: secret },
    });
    const holding = await stack.jobs.start(holder.id, 'manual');
    const line = await recorder.waitFor(
      (e) => e.type === 'job.log' && e.line.jobId === holding.id && e.line.message.startsWith('HOLDING '),
      'the holding job',
    );
    const otherStaging = (line as { line: JobLogLine }).line.message.slice('HOLDING '.length);
    assert.ok(existsSync(join(otherStaging, 'secret.txt')), 'the secret is in the other job’s staging on the host');
    const { job, logs } = await runJob(stack, recorder, 'attack-read', { otherStaging });
    assert.equal(job.status, 'done');
    const tried = attempts(logs).filter((a) => a.what.startsWith('other staging'));
    assert.equal(tried.length, 2);
    for (const a of tried) assert.equal(a.ok, false, `${a.what} succeeded`);
    assert.ok(!text(logs).includes(secret));
    await recorder.waitFor(isJobEnded(holding.id), 'the holding job to end');
  });

  test('symbolic links out of staging are refused, each named in the log; the host file stays', async () => {
    const hostDir = mkdtempSync(join(tmpdir(), 'gleaner-host-'));
    const hostFile = join(hostDir, 'host-secret.txt');
    writeFileSync(hostFile, 'host secret: never taken\n');
    const { job, logs, accountId } = await runJob(stack, recorder, 'attack-symlink', { hostFile });
    assertSymlinkAttackFailed({ job, logs, files: await stack.files.list(accountId), hostFile });
    assert.ok((await stack.accounts.list()).length > 0, 'the stack answers');
  });

  test('a detached grandchild and a busy loop die at JOB_TIMEOUT', async () => {
    const marker = `gleaner-attack-${randomUUID()}`;
    const timed = await openStack(tmpDataDir(), {
      konnectorDirs: [join(FIXTURES, 'attack-procs')],
      untrusted: ['attack-procs'],
      // Room for a slow start on a loaded machine (all the suites at once): the limit must not hit
      // before both processes are seen running.
      jobTimeLimitMs: 6000,
      killGraceMs: 300,
    });
    const timedRecorder = new EventRecorder(timed);
    try {
      const account = await timed.accounts.create({
        konnector: 'attack-procs',
        fields: { login: 'x', password: 'y', marker },
      });
      const started = await timed.jobs.start(account.id, 'manual');
      await timedRecorder.waitFor(
        (e) => e.type === 'job.log' && e.line.jobId === started.id && e.line.message.startsWith('READY'),
        'the konnector ready',
      );
      // The grandchild and the busy loop, both running (the konnector busy-loops 300 ms after READY).
      const deadline = Date.now() + 3000;
      while (processesWith(marker).length < 2 && Date.now() < deadline) await sleep(50);
      assert.equal(processesWith(marker).length, 2, processesWith(marker).join('\n'));
      const ended = await timedRecorder.waitFor(isJobEnded(started.id), 'the timeout');
      assert.equal(ended.job.error, 'JOB_TIMEOUT');
      assert.deepEqual(await noneLeft(marker), [], 'no process of the konnector is left');
      assert.ok((await timed.accounts.list()).length === 1, 'the stack answers');
    } finally {
      timedRecorder.stop();
      await timed.close(300);
    }
  });

  test('a busy loop past its CPU time is stopped (JOB_TIMEOUT, the CPU limit named), its grandchild with it', async () => {
    const marker = `gleaner-attack-${randomUUID()}`;
    const cpu = await openStack(tmpDataDir(), {
      konnectorDirs: [join(FIXTURES, 'attack-procs')],
      untrusted: ['attack-procs'],
      sandboxLimits: { cpuSeconds: 1 },
      jobTimeLimitMs: 60_000,
    });
    const cpuRecorder = new EventRecorder(cpu);
    try {
      const { job, logs } = await runJob(cpu, cpuRecorder, 'attack-procs', { marker }, 30_000);
      assert.equal(job.error, 'JOB_TIMEOUT');
      assert.ok(
        logs.some((l) => l.level === 'error' && l.message.includes('used up its CPU time (limit 1 s)')),
        text(logs),
      );
      assert.deepEqual(await noneLeft(marker), []);
    } finally {
      cpuRecorder.stop();
      await cpu.close(300);
    }
  });

  test('a data folder inside the konnector’s own checkout (as the demo’s) is hidden from it', async () => {
    // The checkout is bound read-only for a development konnector: its data folder must not show.
    // Under a folder others may enter, so that only the mask hides it (not a 0700 parent).
    const holder = join(FIXTURES, '../../../../artifacts', `sandbox-test-${randomUUID()}`);
    mkdirSync(holder, { recursive: true, mode: 0o755 });
    chmodSync(holder, 0o755);
    const checkoutData = join(holder, 'data');
    const inside = await openStack(checkoutData, {
      konnectorDirs: [join(FIXTURES, 'attack-read')],
      untrusted: ['attack-read'],
    });
    const insideRecorder = new EventRecorder(inside);
    try {
      const key = join(
        checkoutData,
        'keys',
        `${readFileSync(join(checkoutData, 'keys', 'current'), 'utf8').trim()}.key`,
      );
      const targets = [join(checkoutData, 'gleaner.db'), key];
      const { job, logs } = await runJob(inside, insideRecorder, 'attack-read', { targets: JSON.stringify(targets) });
      assert.equal(job.status, 'done', text(logs).slice(0, 2000));
      const guessed = attempts(logs).filter((a) => a.what.startsWith('guessed'));
      assert.ok(guessed.length >= 8, `guessed attempts: ${guessed.length}`);
      for (const a of guessed) assert.equal(a.ok, false, `${a.what} ${a.path} succeeded`);
      assert.ok(!text(logs).includes(readFileSync(key, 'utf8').trim()));
      const mounts = attempts(logs).find((a) => a.what === 'mount points')!;
      assert.ok(mounts.names!.includes(realpathSync(checkoutData)), 'an empty tmpfs is mounted over the data folder');
    } finally {
      insideRecorder.stop();
      await inside.close(300);
      rmSync(holder, { recursive: true, force: true });
    }
  });

  test('a trusted checkout that uid 65534 cannot read (under a 0700 folder, as /root) runs sandboxed as the stack’s user, its data folder still hidden', async () => {
    const holder = mkdtempSync(join(tmpdir(), 'gleaner-private-'));
    chmodSync(holder, 0o700);
    const project = join(holder, 'checkout');
    const folder = join(project, 'konnectors', 'attack-read');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    mkdirSync(folder, { recursive: true });
    // Bundled, so that it needs nothing of node_modules; still a development folder (no package file).
    const esbuild = join(FIXTURES, '../../../../node_modules/.bin/esbuild');
    execFileSync(esbuild, [join(FIXTURES, 'attack-read', 'index.mjs'), '--bundle', '--platform=node', '--format=esm',
      '--target=node20', `--outfile=${join(folder, 'index.mjs')}`, '--log-level=warning']);
    writeFileSync(join(folder, 'manifest.konnector'), readFileSync(join(FIXTURES, 'attack-read', 'manifest.konnector')));
    const dataDir = join(project, 'data');
    const stack = await openStack(dataDir, { konnectorDirs: [folder] });
    const recorder = new EventRecorder(stack);
    try {
      const key = join(dataDir, 'keys', `${readFileSync(join(dataDir, 'keys', 'current'), 'utf8').trim()}.key`);
      const { job, logs } = await runJob(stack, recorder, 'attack-read', {
        targets: JSON.stringify([join(dataDir, 'gleaner.db'), key]),
      });
      assert.equal(job.status, 'done', text(logs).slice(0, 2000));
      assert.ok(
        logs.some((l) => l.level === 'warn' && /the sandbox runs as the stack's user: uid 65534 cannot read/.test(l.message)),
        text(logs).slice(0, 2000),
      );
      const guessed = attempts(logs).filter((a) => a.what.startsWith('guessed'));
      assert.ok(guessed.length >= 8, `guessed attempts: ${guessed.length}`);
      for (const a of guessed) assert.equal(a.ok, false, `${a.what} ${a.path} succeeded`);
      assert.ok(!text(logs).includes(readFileSync(key, 'utf8').trim()));
      const mounts = attempts(logs).find((a) => a.what === 'mount points')!;
      assert.ok(mounts.names!.includes(realpathSync(dataDir)), 'an empty tmpfs is mounted over the data folder');
    } finally {
      recorder.stop();
      await stack.close(300);
      rmSync(holder, { recursive: true, force: true });
    }
  });

  test('filling its staging folder beyond its limit ends the run with DISK_QUOTA_EXCEEDED', async () => {
    const { job, logs } = await runJob(stack, recorder, 'attack-fill', {});
    assert.equal(job.error, 'DISK_QUOTA_EXCEEDED', text(logs).slice(-1000));
    assert.ok(
      logs.some((l) => l.level === 'error' && /staging folder reached \d+ MB \(limit 8 MB\)/.test(l.message)),
      text(logs).slice(-1000),
    );
    assert.ok(existsSync(stack.stagingDir), 'the staging root exists');
    assert.ok(!existsSync(join(stack.stagingDir, job.id)), 'its staging folder is gone');
    assert.ok((await stack.accounts.list()).length > 0, 'the stack answers');
  });

  test('allocating beyond its memory limit ends the run with MEMORY_LIMIT_EXCEEDED', async () => {
    const { job, logs } = await runJob(stack, recorder, 'attack-memory', {});
    assert.equal(job.error, 'MEMORY_LIMIT_EXCEEDED', text(logs).slice(-1000));
    assert.ok(
      logs.some((l) => l.level === 'error' && /used \d+ MB of memory \(limit 192 MB\)/.test(l.message)),
      text(logs).slice(-1000),
    );
    assert.ok((await stack.accounts.list()).length > 0, 'the stack answers');
  });

  test('killed with SIGKILL, the stack leaves no process of its konnector; restarted, it says JOB_INTERRUPTED', async () => {
    const marker = `gleaner-attack-${randomUUID()}`;
    const crashDir = tmpDataDir();
    const child = spawn(
      process.execPath,
      [join(FIXTURES, 'attack-stack.mjs'), crashDir, join(FIXTURES, 'attack-procs')],
      // In the environment, not the command line: ps must find only the konnector's processes.
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ATTACK_MARKER: marker } },
    );
    let ready: { jobId: string };
    try {
      ready = await new Promise<{ jobId: string }>((resolve, reject) => {
        let buffered = '';
        const timer = setTimeout(() => reject(new Error('the stack never said READY')), 30_000);
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const match = /READY (\{.*\})\n/.exec(buffered);
          if (match) {
            clearTimeout(timer);
            resolve(JSON.parse(match[1]!) as { jobId: string });
          }
        });
        child.once('exit', () => reject(new Error('the stack exited early')));
      });
      await sleep(300);
      assert.equal(processesWith(marker).length, 2, 'the busy konnector and its detached grandchild run');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      assert.deepEqual(await noneLeft(marker), [], 'no process of the konnector outlives the stack');
    } finally {
      child.kill('SIGKILL');
    }

    const restarted = await openStack(crashDir, {
      konnectorDirs: [join(FIXTURES, 'attack-procs')],
      untrusted: ['attack-procs'],
    });
    try {
      assert.equal(restarted.recovered.jobs, 1);
      assert.equal((await restarted.jobs.get(ready.jobId)).error, 'JOB_INTERRUPTED');
      assert.deepEqual(processesWith(marker), [], 'still none after the restart');
      assert.deepEqual(readdirSync(restarted.stagingDir), [], 'its staging is cleaned');
    } finally {
      await restarted.close(300);
    }
  });
});

function assertSymlinkAttackFailed(seen: {
  job: Job;
  logs: JobLogLine[];
  files: { name: string; folder: string }[];
  hostFile: string;
}): void {
  const all = text(seen.logs);
  const saves = seen.logs.filter((l) => l.message.startsWith('SAVE ')).map((l) => l.message);
  assert.equal(saves.length, 9, all.slice(0, 3000));
  assert.deepEqual(
    saves.filter((m) => m.includes(' accepted')),
    ['SAVE honest accepted'],
    'only the honest file is taken',
  );
  for (const m of saves.filter((s) => s !== 'SAVE honest accepted')) assert.match(m, / refused SAVE_FILE_FAILED$/);
  // Each refusal names the file in the job's log.
  const refusals = seen.logs.filter((l) => l.message.startsWith('refused to save '));
  assert.ok(refusals.length >= 6, all.slice(0, 3000));
  for (const name of ['absolute.pdf', 'relative.pdf', 'deep/er/nested.pdf', 'linked-folder/host-secret.txt'])
    assert.ok(
      refusals.some((l) => l.message.includes(name)),
      `a refusal names ${name}`,
    );
  assert.deepEqual(
    seen.files.map((f) => `${f.folder}/${f.name}`),
    ['taken/honest.pdf'],
  );
  assert.equal(readFileSync(seen.hostFile, 'utf8'), 'host secret: never taken\n', 'the host file stays');
  assert.equal(seen.job.error, 'SAVE_FILE_FAILED');
}

describe('without the sandbox, file intake alone refuses links out of staging', () => {
  test('the same symlink attack, unsandboxed, takes nothing of the host', async () => {
    const stack = await openStack(tmpDataDir(), { konnectorDirs: [join(FIXTURES, 'attack-symlink')], sandbox: false });
    const recorder = new EventRecorder(stack);
    try {
      assert.equal(stack.sandbox.state, 'off');
      const hostDir = mkdtempSync(join(tmpdir(), 'gleaner-host-'));
      const hostFile = join(hostDir, 'host-secret.txt');
      writeFileSync(hostFile, 'host secret: never taken\n');
      const { job, logs, accountId } = await runJob(stack, recorder, 'attack-symlink', { hostFile });
      assertSymlinkAttackFailed({ job, logs, files: await stack.files.list(accountId), hostFile });
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });
});
