import { createStack } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { UsageError } from '../usage-error.js';
import { untilSignal } from '../until-signal.js';
import { dataOption, databaseFrom, databaseOption } from './data-option.js';
import { graceOption, konnectorsOption, noSandboxOption } from './serve.js';

export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'run jobs for the stacks that share one PostgreSQL (no HTTP, no scheduler)',
  usage: 'gleaner worker --database URL [--data DIR] [--concurrency N] [--konnectors DIR]… [--no-sandbox]',
  description: [
    'Takes jobs from the PostgreSQL database that `gleaner serve --database` nodes enqueue (pg-boss),',
    'and runs their konnectors, each in its sandbox: no HTTP, no Home, no scheduler. Start as many as',
    'the work needs, on as many machines: each needs the database URL, the same data folder (a shared',
    'folder: keys/, files/, konnectors/), the same secrets key (the key file there, or',
    'GLEANER_SECRET_KEY and GLEANER_SECRET_KEY_ID), and bubblewrap. A worker beats every 2 s; one',
    'silent for 10 s is dead, and any node ends its running jobs JOB_INTERRUPTED (docs/scale-out.md).',
    'SIGTERM stops it: running jobs get the grace, then end JOB_INTERRUPTED.',
  ].join('\n'),
  options: {
    data: dataOption,
    database: databaseOption,
    concurrency: {
      type: 'number',
      value: 'N',
      integer: true,
      min: 1,
      max: 256,
      default: '4',
      description: 'jobs this worker runs at once',
    },
    konnectors: konnectorsOption,
    grace: graceOption,
    'no-sandbox': noSandboxOption,
  },
  async run({ options }) {
    const database = databaseFrom(options.database);
    if (database === undefined)
      throw new UsageError(
        'gleaner worker needs a PostgreSQL database: --database postgres://… or GLEANER_DATABASE_URL (on SQLite, `gleaner serve` runs the jobs itself)',
      );
    const graceMs = options.grace * 1000;
    const stack = await createStack({
      dataDir: options.data,
      database,
      konnectorDirs: options.konnectors,
      concurrency: options.concurrency,
      schedulerIntervalMs: false,
      worker: true,
      ...(options['no-sandbox'] ? { noSandbox: true } : {}),
    });
    process.stderr.write(`Gleaner worker ${stack.workerId} is running ${options.concurrency} job(s) at once\n`);
    return untilSignal(() => stack.close(graceMs), graceMs);
  },
});
