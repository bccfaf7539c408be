import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Job, StackEvent } from '@gleaner/contracts';
import { pino } from 'pino';
import { startServer } from '../src/server.js';
import { SseClient } from './api-fixtures/http.js';
import { FIXTURES, isJobEnded, tmpDataDir } from './helpers/stack-harness.js';

const RUNS = 100;
const CLIENTS = 200;
const ROUNDS = 2;
const PASSWORD = 'faults-load-Pw-5521';
const OUTCOMES = ['ok', 'VENDOR_DOWN', 'ok', 'LOGIN_FAILED', 'MAINTENANCE'];
const SCENARIOS = ['short', 'exit-at-once', 'killed-after-finish'];

const ended = (e: StackEvent): e is Extract<StackEvent, { type: 'job.updated' }> =>
  e.type === 'job.updated' && (e.job.status === 'done' || e.job.status === 'errored');

test(`${RUNS} short runs with ${CLIENTS} event-stream clients, ${ROUNDS} rounds: every recorded outcome is the reported one`, async () => {
  const server = await startServer({
    dataDir: tmpDataDir(),
    port: 0,
    konnectorDirs: [join(FIXTURES, 'faults-konnector')],
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    stackOptions: { concurrency: 25, schedulerIntervalMs: false, env: {} },
  });
  const clients: SseClient[] = [];
  try {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password: PASSWORD }),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    for (let i = 0; i < CLIENTS; i++) clients.push(await SseClient.open(`${server.url}/api/events`, { cookie }));
    assert.deepEqual(new Set(clients.map((c) => c.status)), new Set([200]), 'every stream is open');

    const { stack } = server;
    const accounts = await Promise.all(
      Array.from({ length: RUNS }, (_, i) =>
        stack.accounts.create({
          konnector: 'faults-test',
          fields: {
            login: `user${i}`,
            scenario: SCENARIOS[i % SCENARIOS.length]!,
            outcome: OUTCOMES[i % OUTCOMES.length]!,
            delayMs: '500',
          },
        }),
      ),
    );
    for (let round = 0; round < ROUNDS; round++) {
      const jobs: Job[] = await Promise.all(accounts.map((a) => stack.jobs.start(a.id, 'manual')));
      const done = await Promise.all(
        jobs.map((job) =>
          clients[0]!.waitFor((e) => isJobEnded(job.id)(e), 120_000).then(() => stack.jobs.get(job.id)),
        ),
      );
      const wrong = done
        .map((job, i) => {
          const outcome = OUTCOMES[i % OUTCOMES.length]!;
          const want = outcome === 'ok' ? 'done/null' : `errored/${outcome}`;
          return {
            scenario: SCENARIOS[i % SCENARIOS.length],
            want,
            got: `${job.status}/${job.error}`,
            files: job.filesSaved,
          };
        })
        .filter((r) => r.want !== r.got || r.files !== 1);
      assert.deepEqual(wrong, [], `round ${round + 1}: zero lost outcomes, every file counted`);
      // Every client sees every run end, over real SSE (in any order: each client counts the ends it saw).
      const ids = new Set(jobs.map((j) => j.id));
      await Promise.all(
        clients.map((client, c) => {
          const seen = new Set<string>();
          return client
            .waitFor((e) => {
              if (ended(e) && ids.has(e.job.id)) seen.add(e.job.id);
              return seen.size === RUNS;
            }, 30_000)
            .catch(() => {
              throw new Error(`round ${round + 1}: client ${c} saw ${seen.size} of ${RUNS} runs end`);
            });
        }),
      );
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close(1000);
  }
});
