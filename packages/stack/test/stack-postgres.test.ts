import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { postgresForFile } from './helpers/postgres.js';
import {
  CANARY_PASSWORD,
  EventRecorder,
  GOOD_CODE,
  isJobEnded,
  isPrompt,
  openStack,
  tmpDataDir,
  TWOFA_KONNECTOR,
} from './helpers/stack-harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const createStackModule = pathToFileURL(resolve(here, '../src/create-stack.js')).href;

const server = postgresForFile();

/** A logger that keeps every line it writes, at debug level. */
function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), text: () => lines.join('') };
}

/** Every row of the stores' tables, as one string to search in. */
async function everyRow(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = ['accounts', 'jobs', 'job_logs', 'prompts', 'files', 'events', 'triggers', 'settings'];
    const out: unknown[] = [];
    for (const table of tables) out.push((await client.query(`SELECT * FROM ${table}`)).rows);
    return JSON.stringify(out);
  } finally {
    await client.end();
  }
}

describe('createStack on PostgreSQL', { concurrency: true }, () => {
  it('runs a real job of a fixture konnector end to end: the 2FA prompt answered, the file saved, no secret in clear', async () => {
    const pgServer = await server();
    const url = await pgServer.createDatabase();
    const dataDir = tmpDataDir();
    const { logger, text: logText } = capturingLogger();
    const stack = await openStack(dataDir, { database: url, logger });
    const recorder = new EventRecorder(stack);
    try {
      assert.equal(stack.storage.dialect, 'postgres');
      const account = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: CANARY_PASSWORD },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      await assert.rejects(stack.jobs.start(account.id, 'manual'), { name: 'StackError', code: 'conflict' });
      const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
      assert.equal(waiting.prompt.type, 'sms');
      assert.equal((await stack.accounts.get(account.id)).state, 'TWOFA_NEEDED.SMS');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'accepted');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'not_waiting');

      const ended = await recorder.waitFor(isJobEnded(job.id), 'the end of the job');
      assert.equal(ended.job.status, 'done', `job ended ${ended.job.error}`);
      assert.equal(ended.job.loginStatus, 'succeeded');
      assert.equal(ended.job.filesSaved, 1);
      await stack.events.flush();
      assert.equal((await stack.accounts.get(account.id)).state, 'LOGIN_SUCCESS');
      const files = await stack.files.list(account.id);
      assert.deepEqual(
        files.map((f) => f.name),
        ['bill-2030-01.pdf'],
      );
      assert.equal(files[0]?.bill?.amount, 12.5);
      const opened = await stack.files.open(files[0].id);
      const chunks: Buffer[] = [];
      for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
      assert.match(Buffer.concat(chunks).toString(), /^%PDF-1\.4/);
      assert.equal((await stack.storage.prompts.listByJob(job.id))[0]?.status, 'answered');
      assert.ok((await stack.jobs.logs(job.id)).some((l) => l.message.includes('logging in as ada with [redacted]')));
    } finally {
      recorder.stop();
      await stack.close(1000);
    }

    assert.equal(existsSync(join(dataDir, 'gleaner.db')), false, 'no SQLite database beside PostgreSQL');
    const rows = await everyRow(url);
    assert.ok(
      rows.includes('bill-2030-01.pdf') && rows.includes('ada'),
      'the rows are in PostgreSQL: the search works',
    );
    assert.ok(!rows.includes(CANARY_PASSWORD), 'password in the database');
    assert.ok(!rows.includes(GOOD_CODE), 'code in the database');
    const log = logText();
    assert.ok(log.includes(`postgres://postgres:***@127.0.0.1:${pgServer.port}/`), 'the log names the database');
    assert.ok(!log.includes(pgServer.password), "the database password in the stack's log");
    assert.ok(!log.includes(CANARY_PASSWORD), "the account's password in the stack's log");
  });

  it('a stack stopped while its job waits for a code: the job ends JOB_INTERRUPTED, its prompt interrupted; the next start finds the account free to run', async () => {
    const url = await (await server()).createDatabase();
    const dataDir = tmpDataDir();
    let stack = await openStack(dataDir, { database: url });
    const recorder = new EventRecorder(stack);
    const account = await stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'ada', password: 'pw' } });
    const job = await stack.jobs.start(account.id, 'manual');
    const waiting = await recorder.waitFor(isPrompt(account.id, 'waiting'), 'the prompt');
    recorder.stop();
    await stack.close(0);

    stack = await openStack(dataDir, { database: url });
    try {
      assert.equal(stack.recovered.jobs, 0, 'the stack that stopped ended its own job');
      const after = await stack.jobs.get(job.id);
      assert.equal(after.status, 'errored');
      assert.equal(after.error, 'JOB_INTERRUPTED');
      assert.equal((await stack.storage.prompts.get(waiting.prompt.id))?.status, 'interrupted');
      assert.equal(await stack.prompts.answer(waiting.prompt.id, GOOD_CODE), 'not_waiting');
      // The account may run again: the one-active-job index let the ended job go.
      const next = await stack.jobs.start(account.id, 'manual');
      assert.equal(next.status, 'queued');
      await stack.jobs.cancel(next.id);
      await stack.jobs.settled(next.id);
    } finally {
      await stack.close(1000);
    }
  });

  it('several stacks on one database: a second starts while the first runs (the nodes of a cluster)', async () => {
    const url = await (await server()).createDatabase();
    const first = await openStack(tmpDataDir(), { database: url });
    try {
      const second = await openStack(tmpDataDir(), { database: url });
      await second.close(0);
    } finally {
      await first.close(0);
    }
  });

  it('a stack killed (SIGKILL) while its job waits for a code: the next start, at once, takes the database over and ends the job JOB_INTERRUPTED', async () => {
    const url = await (await server()).createDatabase();
    const dataDir = tmpDataDir();
    // The stack in a process of its own, so that it can die without closing anything.
    const script = `
      import { createStack } from ${JSON.stringify(createStackModule)};
      const stack = await createStack({
        dataDir: process.env.DATA, database: process.env.DB, konnectorDirs: [process.env.KONNECTOR],
        schedulerIntervalMs: false, env: {},
      });
      const account = await stack.accounts.create({ konnector: 'twofa-test', fields: { login: 'ada', password: 'pw' } });
      const job = await stack.jobs.start(account.id, 'manual');
      stack.events.subscribe(0, (e) => {
        if (e.type === 'prompt.updated' && e.prompt.status === 'waiting')
          process.stdout.write(JSON.stringify({ accountId: account.id, jobId: job.id, promptId: e.prompt.id }) + '\\n');
      });`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: resolve(here, '../..'),
      env: { ...process.env, DATA: dataDir, DB: url, KONNECTOR: TWOFA_KONNECTOR, GLEANER_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout });
    const [line] = (await Promise.race([
      once(lines, 'line'),
      once(child, 'exit').then(() => {
        throw new Error(`the stack process ended before its job waited:\n${stderr}`);
      }),
    ])) as [string];
    const waiting = JSON.parse(line) as { accountId: string; jobId: string; promptId: string };
    child.kill('SIGKILL');
    await once(child, 'exit');

    const stack = await openStack(dataDir, { database: url });
    try {
      assert.equal(stack.recovered.jobs, 1, 'the killed stack left its job running: recovery ends it');
      assert.equal(stack.recovered.prompts, 1);
      const job = await stack.jobs.get(waiting.jobId);
      assert.equal(job.status, 'errored');
      assert.equal(job.error, 'JOB_INTERRUPTED');
      assert.equal((await stack.storage.prompts.get(waiting.promptId))?.status, 'interrupted');
      assert.equal((await stack.accounts.get(waiting.accountId)).state, null);
    } finally {
      await stack.close(0);
    }
  });

  it('a database that is not a postgres:// URL is refused by name, its password hidden', async () => {
    await assert.rejects(openStack(tmpDataDir(), { database: 'mysql://root:hunter2@db/gleaner' }), (error: Error) => {
      assert.equal(error.name, 'DatabaseError');
      assert.match(error.message, /must be a postgres:\/\/ URL .* got mysql:\/\/root:\*\*\*@db\/gleaner$/);
      return true;
    });
  });
});
