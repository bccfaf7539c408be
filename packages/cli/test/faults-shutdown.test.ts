import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Job, JobLogLine } from '@gleaner/contracts';
import { openSqliteStorage } from '@gleaner/stack';
import { gleaner, repoRoot, type Session } from './support/cli.js';
import { fillDisk, makeReadOnly, mountTmpfs } from './support/mounts.js';

const PASSWORD = 'faults-cli-Pw-4410';
const FAULTS_KONNECTOR = join(repoRoot, 'packages/stack/test/fixtures/faults-konnector');
const env = { GLEANER_ADMIN_PASSWORD: PASSWORD, GLEANER_LOG_LEVEL: 'silent' };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'gleaner-faults-'));

/** `gleaner serve` on `dataDir`, signed in: a small HTTP client on its API. */
async function serve(dataDir: string, grace: number) {
  const cli = gleaner(
    ['serve', '--data', dataDir, '--port', '0', '--konnectors', FAULTS_KONNECTOR, '--grace', String(grace)],
    {
      env,
    },
  );
  const url = (await cli.waitFor(/serving on http:\/\/127\.0\.0\.1:\d+/, 30_000)).replace('serving on ', '');
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: PASSWORD }),
  });
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const call = async <T>(path: string, json?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${url}${path}`, {
      method: json === undefined ? 'GET' : 'POST',
      headers: {
        cookie,
        'x-csrf-token': csrfToken,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const startJob = async (fields: Record<string, string>): Promise<{ accountId: string; job: Job }> => {
    const account = await call<{ id: string }>('/api/accounts', { konnector: 'faults-test', fields });
    assert.equal(account.status, 201, JSON.stringify(account.body));
    const started = await call<Job>(`/api/accounts/${account.body.id}/jobs`, {});
    assert.ok(started.status < 300, JSON.stringify(started.body));
    return { accountId: account.body.id, job: started.body };
  };
  const logs = async (jobId: string) => (await call<JobLogLine[]>(`/api/jobs/${jobId}/logs`)).body;
  const until = async (what: string, test: () => Promise<boolean>, ms = 20_000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await test()) return;
    throw new Error(`timed out waiting for ${what}; output:\n${cli.output()}`);
  };
  return { cli, url, call, startJob, logs, until };
}

/** Milliseconds from now until the process ends, and its exit code. */
async function timedExit(cli: Session): Promise<{ ms: number; code: number | null }> {
  const start = Date.now();
  const code = await cli.exit;
  return { ms: Date.now() - start, code };
}

const noStackTrace = (output: string) => assert.doesNotMatch(output, /\n\s+at .+\(.*:\d+:\d+\)/, output);

describe('faults: shutdown', () => {
  it('data folder made read-only under a running serve: the job ends (not running), a new one starts, SIGTERM ends the process in time', async () => {
    const dataDir = tmp();
    const server = await serve(dataDir, 1);
    const mounts: { undo(): void }[] = [];
    try {
      const { accountId, job } = await server.startJob({ login: 'ada', scenario: 'wait-then-save', delayMs: '1500' });
      await server.until('the konnector to wait', async () =>
        (await server.logs(job.id)).some((l) => l.message === 'waiting'),
      );
      // The data folder and the job's staging root (outside it, for the sandbox's uid) become read-only.
      const stagingRoot = join(
        tmpdir(),
        `gleaner-staging-${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16)}`,
      );
      assert.ok(existsSync(stagingRoot), stagingRoot);
      mounts.push(makeReadOnly(dataDir), makeReadOnly(stagingRoot));
      await server.until(
        'the job to end',
        async () => (await server.call<Job>(`/api/jobs/${job.id}`)).body.status !== 'running',
      );
      const ended = (await server.call<Job>(`/api/jobs/${job.id}`)).body;
      const messages = (await server.logs(job.id)).map((l) => l.message);
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'SAVE_FILE_FAILED', JSON.stringify(messages));
      assert.ok(
        messages.some((m) => m.includes(`the folder ${join(dataDir, 'files')}`) && m.includes('is read-only')),
        JSON.stringify(messages),
      );
      assert.ok(
        messages.some((m) => /could not remove the staging folder .*EROFS/.test(m)),
        JSON.stringify(messages),
      );
      // The account is not held by a job that cannot be cleaned up: the next one starts (and ends).
      const next = await server.call<Job>(`/api/accounts/${accountId}/jobs`, {});
      assert.ok(next.status < 300, JSON.stringify(next.body));
      await server.until(
        'the next job to end',
        async () =>
          (await server.call<Job>(`/api/jobs/${next.body.id}`)).body.status !== 'running' &&
          (await server.call<Job>(`/api/jobs/${next.body.id}`)).body.status !== 'queued',
      );
      const nextMessages = (await server.logs(next.body.id)).map((l) => l.message);
      assert.equal(
        (await server.call<Job>(`/api/jobs/${next.body.id}`)).body.error,
        'SAVE_FILE_FAILED',
        JSON.stringify(nextMessages),
      );
      assert.ok(
        nextMessages.some((m) => /could not run the konnector: the folder .*gleaner-staging-.* is read-only/.test(m)),
        JSON.stringify(nextMessages),
      );

      server.cli.child.kill('SIGTERM');
      const { ms, code } = await timedExit(server.cli);
      assert.ok(ms < 1000 + 10_000, `ended within the grace plus the bound (${ms} ms)`);
      assert.equal(code, 1, 'the lock could not be removed: said, and a non-zero exit');
      assert.match(server.cli.output(), /while stopping: the folder .* is read-only/);
      noStackTrace(server.cli.output());
    } finally {
      server.cli.child.kill('SIGKILL');
      for (const mount of mounts.reverse()) mount.undo();
    }
    const storage = await openSqliteStorage(join(dataDir, 'gleaner.db'));
    try {
      assert.deepEqual(await storage.jobs.list({ statuses: ['queued', 'running'] }), [], 'no job left running');
    } finally {
      await storage.close();
    }
  });

  it('SIGTERM while a job waits: serve ends after the grace (exit 0); restarted, the job is JOB_INTERRUPTED', async () => {
    const dataDir = tmp();
    const first = await serve(dataDir, 1);
    let jobId: string;
    try {
      const { job } = await first.startJob({ login: 'ada', scenario: 'wait-then-save', delayMs: '60000' });
      jobId = job.id;
      await first.until('the konnector to wait', async () =>
        (await first.logs(job.id)).some((l) => l.message === 'waiting'),
      );
      first.cli.child.kill('SIGTERM');
      const { ms, code } = await timedExit(first.cli);
      assert.equal(code, 0, first.cli.output());
      assert.ok(ms < 1000 + 10_000, `within the grace plus the bound (${ms} ms)`);
    } finally {
      first.cli.child.kill('SIGKILL');
    }
    const second = await serve(dataDir, 1);
    try {
      const ended = (await second.call<Job>(`/api/jobs/${jobId}`)).body;
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'JOB_INTERRUPTED');
    } finally {
      second.cli.child.kill('SIGTERM');
      await second.cli.exit;
    }
  });

  it('a second SIGTERM ends serve at once, while a job still has its grace', async () => {
    const dataDir = tmp();
    const server = await serve(dataDir, 60);
    try {
      const { job } = await server.startJob({ login: 'ada', scenario: 'wait-then-save', delayMs: '60000' });
      await server.until('the konnector to wait', async () =>
        (await server.logs(job.id)).some((l) => l.message === 'waiting'),
      );
      server.cli.child.kill('SIGTERM');
      await server.cli.waitFor(/SIGTERM: stopping \(running jobs get 60 s/);
      await sleep(200);
      server.cli.child.kill('SIGTERM');
      const { ms, code } = await timedExit(server.cli);
      assert.ok(ms < 3000, `ended at once (${ms} ms)`);
      assert.equal(code, 143);
      assert.match(server.cli.output(), /SIGTERM again: stopping now/);
    } finally {
      server.cli.child.kill('SIGKILL');
    }
  });
});

describe('faults: starting on a bad folder', () => {
  it('a full disk: serve prints one sentence naming the folder and exits 1, no stack trace', async () => {
    const tmpfs = mountTmpfs('1m');
    try {
      const dataDir = join(tmpfs.dir, 'data');
      mkdirSync(dataDir);
      fillDisk(join(tmpfs.dir, 'filler'), 64 * 1024);
      const cli = gleaner(['serve', '--data', dataDir, '--port', '0', '--konnectors', FAULTS_KONNECTOR], { env });
      assert.equal(await cli.exit, 1);
      assert.equal(
        cli.output().trim(),
        `gleaner serve: the disk holding ${dataDir} is full: free some space, then try again`,
      );
    } finally {
      tmpfs.unmount();
    }
  });

  it('a read-only folder: serve prints one sentence naming it and exits 1, no stack trace', async () => {
    const dataDir = tmp();
    const mount = makeReadOnly(dataDir);
    try {
      const cli = gleaner(['serve', '--data', dataDir, '--port', '0', '--konnectors', FAULTS_KONNECTOR], { env });
      assert.equal(await cli.exit, 1);
      assert.equal(
        cli.output().trim(),
        `gleaner serve: the folder ${dataDir} is read-only: make it writable, then try again`,
      );
    } finally {
      mount.undo();
    }
  });

  it('the demo on a full disk leaves no empty demo-admin-password; an empty one found is replaced', async () => {
    const tmpfs = mountTmpfs('1m');
    try {
      const dataDir = join(tmpfs.dir, 'demo');
      mkdirSync(dataDir);
      fillDisk(join(tmpfs.dir, 'filler'), 64 * 1024);
      const failed = gleaner(['demo', '--data', dataDir, '--port', '0', '--sites-port', '0', '--mailbox-port', '0'], {
        env: { GLEANER_LOG_LEVEL: 'silent' },
      });
      assert.equal(await failed.exit, 1);
      assert.match(failed.output(), /^gleaner demo: the disk holding .* is full/);
      noStackTrace(failed.output());
      assert.equal(existsSync(join(dataDir, 'demo-admin-password')), false, 'nothing half-written');
    } finally {
      tmpfs.unmount();
    }
    const dataDir = tmp();
    writeFileSync(join(dataDir, 'demo-admin-password'), '', { mode: 0o600 });
    const demo = gleaner(['demo', '--data', dataDir, '--port', '0', '--sites-port', '0', '--mailbox-port', '0'], {
      env: { GLEANER_LOG_LEVEL: 'silent' },
    });
    try {
      const banner = await demo.waitFor(/sign in with admin password \S+\)/, 60_000);
      const password = readFileSync(join(dataDir, 'demo-admin-password'), 'utf8').trim();
      assert.ok(password.length >= 12, 'a new password');
      assert.ok(banner.includes(`admin password ${password})`), banner);
    } finally {
      demo.child.kill('SIGTERM');
      await demo.exit;
    }
  });
});
