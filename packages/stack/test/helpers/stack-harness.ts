import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Job, StackEvent } from '@gleaner/contracts';
import { createStack, type CreateStackOptions, type GleanerStack } from '../../src/create-stack.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Fixtures are plain JS, read from the source tree (dist/test/helpers → test/fixtures). */
export const FIXTURES = resolve(here, '../../../test/fixtures');
export const TWOFA_KONNECTOR = join(FIXTURES, 'twofa-konnector');
export const GOOD_CODE = '731905264';
export const CANARY_PASSWORD = 'canary-Pw-77f1c2e9';

export const tmpDataDir = (): string => mkdtempSync(join(tmpdir(), 'gleaner-stack-'));

export function openStack(dataDir: string, options: Partial<CreateStackOptions> = {}): Promise<GleanerStack> {
  return createStack({
    dataDir,
    konnectorDirs: [TWOFA_KONNECTOR],
    logger: pino({ level: 'silent' }),
    schedulerIntervalMs: false,
    env: {},
    ...options,
  });
}

/** Every event of a stack from the start, with waits on what comes. */
export class EventRecorder {
  readonly events: StackEvent[] = [];
  readonly #waiters: { test: (e: StackEvent) => boolean; resolve: (e: StackEvent) => void }[] = [];
  readonly stop: () => void;

  constructor(stack: GleanerStack, afterId = 0) {
    this.stop = stack.events.subscribe(afterId, (event) => {
      this.events.push(event);
      for (const waiter of [...this.#waiters]) {
        if (waiter.test(event)) {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          waiter.resolve(event);
        }
      }
    });
  }

  waitFor<E extends StackEvent>(test: (e: StackEvent) => e is E, what: string, ms?: number): Promise<E>;
  waitFor(test: (e: StackEvent) => boolean, what: string, ms?: number): Promise<StackEvent>;
  waitFor(test: (e: StackEvent) => boolean, what: string, ms = 20_000): Promise<StackEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.#waiters.push({
        test,
        resolve: (e) => {
          clearTimeout(timer);
          resolvePromise(e);
        },
      });
    });
  }

  /** The account's successive states, as account.updated events told them (repeats folded). */
  statesOf(accountId: string): (string | null)[] {
    const states: (string | null)[] = [];
    for (const e of this.events) {
      if (e.type !== 'account.updated' || e.account.id !== accountId) continue;
      if (states.at(-1) !== e.account.state || states.length === 0) states.push(e.account.state);
    }
    return states;
  }
}

export const isPrompt =
  (accountId: string, status: string) =>
  (e: StackEvent): e is Extract<StackEvent, { type: 'prompt.updated' }> =>
    e.type === 'prompt.updated' && e.prompt.accountId === accountId && e.prompt.status === status;

export const isJobEnded =
  (jobId: string) =>
  (e: StackEvent): e is Extract<StackEvent, { type: 'job.updated' }> =>
    e.type === 'job.updated' && e.job.id === jobId && (e.job.status === 'done' || e.job.status === 'errored');

/** The raw bytes of the SQLite file and its WAL, as a latin1 string to search in. */
export function databaseBytes(dataDir: string): string {
  return ['gleaner.db', 'gleaner.db-wal', 'gleaner.db-shm']
    .map((name) => join(dataDir, name))
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file).toString('latin1'))
    .join('\n');
}

/** Starts a manual job on the account and resolves with it once it has ended. */
export async function runToEnd(stack: GleanerStack, accountId: string): Promise<Job> {
  const recorder = new EventRecorder(stack);
  try {
    const job = await stack.jobs.start(accountId, 'manual');
    return (await recorder.waitFor(isJobEnded(job.id), 'the job')).job;
  } finally {
    recorder.stop();
  }
}
