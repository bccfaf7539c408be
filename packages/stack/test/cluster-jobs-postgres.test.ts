import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dataFolderHolder } from '../src/data-lock.js';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { PG_BOSS_QUEUE, PG_BOSS_SCHEMA } from '../src/runtime/pg-boss-queue.js';
import { localHost } from '../src/runtime/workers.js';
import { hostname } from 'node:os';
import type { CreateStackOptions, GleanerStack } from '../src/create-stack.js';
import { postgresForFile } from './helpers/postgres.js';
import { EventRecorder, GOOD_CODE, isJobEnded, isPrompt, openStack, tmpDataDir } from './helpers/stack-harness.js';

const server = postgresForFile();

/** Nodes of one cluster: one database, one data folder, one key. */
async function cluster() {
  const url = await (await server()).createDatabase();
  const dataDir = tmpDataDir();
  const env = { GLEANER_SECRET_KEY: randomBytes(32).toString('base64'), GLEANER_SECRET_KEY_ID: 'k1' };
  const opened: GleanerStack[] = [];
  const node = async (options: Partial<CreateStackOptions> = {}) => {
    const stack = await openStack(dataDir, { database: url, env, noSandbox: true, heartbeatMs: 200, reapAfterMs: 1500, ...options });
    opened.push(stack);
    return stack;
  };
  const sql = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  const close = () => Promise.all(opened.map((s) => s.close(0)));
  return { url, node, sql, close };
}

const ada = { konnector: 'twofa-test', fields: { login: 'ada', password: 'pw' } };

describe('jobs across nodes on one PostgreSQL', { concurrency: true }, () => {
  it('two schedulers ticking at once start each due account exactly once; the nodes mark the shared data folder (no lock) while they run', async () => {
    const c = await cluster();
    try {
      const [a, b] = await Promise.all([c.node({ worker: false }), c.node({ worker: false })]);
      assert.equal(dataFolderHolder(a.dataDir), process.pid, 'gleaner install beside the cluster leaves pruning to the nodes');
      assert.equal(existsSync(join(a.dataDir, 'gleaner.lock')), false);
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push((await a.accounts.create({ ...ada, label: `s${i}` })).id);
      for (const id of ids) await b.triggers.set(id, { frequency: 'daily', time: '03:00' });
      await c.sql("update triggers set next_run_at = '2000-01-01T00:00:00.000Z'");
      const [ta, tb] = await Promise.all([a.scheduler.tick(), b.scheduler.tick()]);
      const started = [...ta.started, ...tb.started].map((s) => s.accountId).sort();
      assert.deepEqual(started, [...ids].sort(), 'each account started once, by one node or the other');
      const rows = await c.sql<{ account_id: string; n: string }>(
        'select account_id, count(*) as n from jobs group by account_id having count(*) <> 1',
      );
      assert.deepEqual(rows, []);
      await c.close();
      assert.equal(dataFolderHolder(a.dataDir), null, 'the marks go with the nodes');
    } finally {
      await c.close();
    }
  });

  it('a job queued on a node that runs none is run by a worker node; cancelled from the first node while it runs there, it ends at once; an account deleted the same way', async () => {
    const c = await cluster();
    try {
      const api = await c.node({ worker: false });
      const worker = await c.node();
      assert.equal(api.workerId, null);
      const recorder = new EventRecorder(worker);
      const account = await api.accounts.create(ada);
      const job = await api.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt, on the worker');
      assert.equal((await api.jobs.get(job.id)).worker, worker.workerId);
      const cancelled = await api.jobs.cancel(job.id);
      assert.equal(cancelled.status, 'errored');
      assert.equal(cancelled.error, 'JOB_CANCELLED');
      assert.equal((await api.storage.prompts.get(waiting.prompt.id))?.status, 'cancelled');
      await worker.jobs.settled(job.id);

      const second = await api.jobs.start(account.id, 'manual');
      await recorder.waitFor((e) => e.type === 'prompt.updated' && e.prompt.jobId === second.id, 'the second prompt');
      await api.accounts.remove(account.id);
      assert.equal(await api.storage.jobs.get(second.id), undefined, 'the job went with its account');
      await worker.jobs.settled(second.id);
      recorder.stop();
    } finally {
      await c.close();
    }
  });

  it('a job fetched by a worker that died before taking it is sent again and runs once', async () => {
    const c = await cluster();
    try {
      const api = await c.node({ worker: false });
      const account = await api.accounts.create(ada);
      const job = await api.jobs.start(account.id, 'manual');
      // A worker that fetched it and died: its pg-boss job active, taken 1 minute ago, the row still queued.
      const boss = new PgBoss({ connectionString: c.url, schema: PG_BOSS_SCHEMA, supervise: false, schedule: false, migrate: false });
      boss.on('error', () => undefined);
      await boss.start();
      const [fetched] = await boss.fetch(PG_BOSS_QUEUE);
      await boss.stop({ graceful: false, wait: true });
      assert.equal((fetched?.data as { jobId: string }).jobId, job.id);
      await c.sql(`update ${PG_BOSS_SCHEMA}.job set started_on = now() - interval '1 minute' where id = $1`, [fetched!.id]);
      await c.sql("update jobs set created_at = '2000-01-01T00:00:00.000Z' where id = $1", [job.id]);

      const worker = await c.node();
      const recorder = new EventRecorder(worker);
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the job running after all');
      assert.equal(await worker.prompts.answer(waiting.prompt.id, GOOD_CODE), 'accepted');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'its end');
      assert.equal(ended.job.status, 'done', `ended ${ended.job.error}`);
      assert.equal(ended.job.worker, worker.workerId);
      recorder.stop();
    } finally {
      await c.close();
    }
  });

  it("a worker silent past the bound is reaped by another node (its job JOB_INTERRUPTED, its prompt interrupted); a start never takes a live node's job", async () => {
    const c = await cluster();
    try {
      // A long bound: which node reaps what is decided by the test, not by the timers' timing.
      const first = await c.node({ worker: false, reapAfterMs: 120_000, heartbeatMs: 3_600_000 });
      const dead = await first.accounts.create({ ...ada, label: 'on a dead worker' });
      const live = await first.accounts.create({ ...ada, label: 'on a live worker' });
      const old = new Date(Date.now() - 600_000).toISOString();
      const now = new Date().toISOString();
      // Two workers on other machines: one stopped beating 10 minutes ago, one beats now.
      await c.sql(
        `insert into workers (id, host, pid, started_at, heartbeat_at) values
           ('gone', 'elsewhere', 1, $1, $1), ('alive', 'elsewhere', 1, $1, $2)`,
        [old, now],
      );
      for (const [id, accountId, workerId] of [
        ['job-dead', dead.id, 'gone'],
        ['job-live', live.id, 'alive'],
      ] as const)
        await c.sql(
          `insert into jobs (id, account_id, konnector, mode, status, login_status, files_saved, created_at, started_at, worker_id)
             values ($1, $2, 'twofa-test', 'manual', 'running', 'pending', 0, $3, $3, $4)`,
          [id, accountId, old, workerId],
        );
      await c.sql(
        `insert into prompts (id, job_id, account_id, type, retry, status, attempts, created_at, expires_at)
           values ('p-dead', 'job-dead', $1, 'sms', 0, 'waiting', 0, $2, '2999-01-01T00:00:00.000Z')`,
        [dead.id, old],
      );
      await first.storage.accounts.update(dead.id, { state: 'TWOFA_NEEDED.SMS' });

      // A node starting now takes only what the dead worker left.
      const second = await c.node({ worker: false, reapAfterMs: 120_000, heartbeatMs: 3_600_000 });
      assert.deepEqual(second.recovered, { jobs: 1, prompts: 1, accounts: 1 });
      const ended = await second.jobs.get('job-dead');
      assert.equal(ended.status, 'errored');
      assert.equal(ended.error, 'JOB_INTERRUPTED');
      assert.equal((await second.storage.prompts.get('p-dead'))?.status, 'interrupted');
      assert.equal((await second.accounts.get(dead.id)).state, null);
      assert.ok((await second.jobs.logs('job-dead')).some((l) => l.message.includes('the worker running this job (gone) stopped')));
      assert.equal((await second.jobs.get('job-live')).status, 'running', "a live node's job goes on");
      assert.deepEqual(
        (await c.sql<{ id: string }>('select id from workers order by id')).map((r) => r.id),
        ['alive'],
      );
      // Once it too is silent past the bound, any node's reap ends its job.
      await c.sql("update workers set heartbeat_at = $1 where id = 'alive'", [old]);
      assert.equal((await first.cluster.reap()).jobs, 1);
      const reaped = await second.jobs.get('job-live');
      assert.equal(reaped.error, 'JOB_INTERRUPTED');
    } finally {
      await c.close();
    }
  });

  it('a live worker declared dead (a pause past the bound) learns it at its next beat: it stops the job already ended, registers again and runs the next one', async () => {
    const c = await cluster();
    try {
      // This node's bound of 1 ms makes any worker dead at its reap: the pause, without pausing.
      const api = await c.node({ worker: false, reapAfterMs: 1, heartbeatMs: 3_600_000 });
      const worker = await c.node({ heartbeatMs: 200, reapAfterMs: 3_600_000 });
      const recorder = new EventRecorder(worker);
      const account = await api.accounts.create(ada);
      const job = await api.jobs.start(account.id, 'manual');
      await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt, on the worker');
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await api.cluster.reap()).jobs, 1);
      const ended = await api.jobs.get(job.id);
      assert.equal(ended.error, 'JOB_INTERRUPTED');
      await worker.jobs.settled(job.id);
      const back = await (async () => {
        for (let i = 0; i < 50; i++) {
          const rows = await c.sql<{ id: string }>('select id from workers where id = $1', [worker.workerId]);
          if (rows.length) return rows;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return [];
      })();
      assert.equal(back.length, 1, 'the worker registered again');
      assert.equal((await api.jobs.get(job.id)).error, 'JOB_INTERRUPTED', 'its own end did not override the reaper');
      const next = await api.jobs.start(account.id, 'manual');
      const waiting = await recorder.waitFor((e) => e.type === 'prompt.updated' && e.prompt.jobId === next.id, 'the next job, on the same worker');
      assert.equal(await worker.prompts.answer(waiting.type === 'prompt.updated' ? waiting.prompt.id : '', GOOD_CODE), 'accepted');
      const done = await recorder.waitFor(isJobEnded(next.id), 'its end');
      assert.equal(done.job.status, 'done', `ended ${done.job.error}`);
      recorder.stop();
    } finally {
      await c.close();
    }
  });

  it('a pid proves death only in this pid namespace of this kernel: a beating row that merely shares the host name is kept', async () => {
    const c = await cluster();
    try {
      const node = await c.node({ worker: false, reapAfterMs: 120_000, heartbeatMs: 3_600_000 });
      const now = new Date().toISOString();
      // A pid that no process here has (beyond pid_max's default), in two rows beating now.
      const gonePid = 4_194_000;
      await c.sql(
        `insert into workers (id, host, pid, started_at, heartbeat_at) values
           ('twin-host', $1, $3, $4, $4), ('here', $2, $3, $4, $4)`,
        [hostname(), localHost, gonePid, now],
      );
      const reaped = await node.cluster.reap();
      assert.deepEqual(reaped.workers, ['here'], 'only the row of this very host is judged by its pid');
      assert.deepEqual((await c.sql<{ id: string }>('select id from workers order by id')).map((r) => r.id), ['twin-host']);
    } finally {
      await c.close();
    }
  });
});
