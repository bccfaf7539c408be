import { startServer } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { homeDistDir } from '../home-dir.js';
import { untilSignal } from '../until-signal.js';
import { UsageError } from '../usage-error.js';
import { databaseFrom, databaseOption } from './data-option.js';

/** Shared by serve and demo: how long running jobs get when the stack stops. */
export const graceOption = {
  type: 'number',
  value: 'SECONDS',
  min: 0,
  default: '10',
  description: 'on SIGTERM/SIGINT, how long running jobs get before they end JOB_INTERRUPTED',
} as const;

/** Shared by serve and worker: konnector folders to run from their sources (development). */
export const konnectorsOption = {
  type: 'dir',
  value: 'DIR',
  multiple: true,
  description: 'a konnector folder, or a folder of konnector folders, to run from its sources',
} as const;

/** Shared by serve and worker. */
export const noSandboxOption = {
  type: 'boolean',
  description: 'run konnectors without the bwrap sandbox (only where bwrap cannot run)',
} as const;

export const portOption = (fallback: number, what: string) =>
  ({
    type: 'number',
    value: 'PORT',
    integer: true,
    min: 0,
    max: 65535,
    default: String(fallback),
    description: `${what} (0 picks a free port)`,
  }) as const;

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'start the stack (API, Home, jobs, scheduler) on the embedded SQLite or a PostgreSQL',
  usage: 'gleaner serve [options]',
  description: [
    'Starts the stack: the HTTP API and Home, the jobs and the scheduler, on the SQLite database in the',
    'data folder. It runs the konnectors installed in the data folder; `--konnectors DIR` adds a',
    "folder of konnector sources, for a konnector's author (re-read at each job start).",
    '',
    '`--database postgres://USER:PASSWORD@HOST:PORT/DB` (or GLEANER_DATABASE_URL, better for a password:',
    'the command line is visible to every local user) keeps the accounts, jobs, files index and the',
    'admin sign-in in that PostgreSQL database instead; keys and files stay in the data folder. Several',
    'serve nodes and `gleaner worker` processes may share that database and one data folder;',
    '`--no-worker` makes this node run no jobs itself, only enqueue them (see docs/scale-out.md).',
    '',
    'The admin password is GLEANER_ADMIN_PASSWORD if set, else generated on the first start and printed',
    'once (lost it? `gleaner reset-admin-password`).',
  ].join('\n'),
  options: {
    data: { type: 'path', value: 'DIR', default: 'data', description: 'the data folder, made if missing' },
    port: portOption(3000, 'where Home and the API listen'),
    host: {
      type: 'string',
      value: 'ADDRESS',
      default: '127.0.0.1',
      description: 'the address Home and the API listen on (0.0.0.0: every interface; a node of a cluster: its own address)',
    },
    database: databaseOption,
    konnectors: konnectorsOption,
    grace: graceOption,
    'no-sandbox': noSandboxOption,
    'scheduler-interval': {
      type: 'number',
      value: 'SECONDS',
      min: 0.1,
      default: '30',
      description: 'how often due scheduled runs are looked for (every serve node looks; each run starts once)',
    },
    'no-worker': {
      type: 'boolean',
      description: 'PostgreSQL only: run no jobs here, leave them to `gleaner worker` processes',
    },
    'public-url': {
      type: 'string',
      value: 'URL',
      description:
        "Home's address as people reach it (or GLEANER_PUBLIC_URL): the links notifications carry; default the address this node listens on",
    },
    'trust-proxy': {
      type: 'boolean',
      description:
        'behind a reverse proxy: trust its X-Forwarded-For/-Proto (client address, Secure cookies over https); never when clients reach the port directly',
    },
  },
  async run({ options }) {
    const graceMs = options.grace * 1000;
    const database = databaseFrom(options.database);
    if (options['no-worker'] && database === undefined)
      throw new UsageError('--no-worker needs --database postgres://… (on SQLite, serve is the only process that runs jobs)');
    const server = await startServer({
      dataDir: options.data,
      port: options.port,
      host: options.host,
      konnectorDirs: options.konnectors,
      homeDir: homeDistDir(),
      ...(options['trust-proxy'] ? { trustProxy: true } : {}),
      stackOptions: {
        ...(options['no-sandbox'] ? { noSandbox: true } : {}),
        ...(database !== undefined ? { database } : {}),
        ...(options['no-worker'] ? { worker: false } : {}),
        schedulerIntervalMs: options['scheduler-interval'] * 1000,
        ...(options['public-url'] !== undefined ? { publicUrl: publicUrl(options['public-url']) } : {}),
      },
    });
    process.stderr.write(`Gleaner is serving on ${server.url}\n`);
    return untilSignal(() => server.close(graceMs), graceMs);
  },
});

/** The public URL, checked: an http(s) address, without its trailing slash. */
function publicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--public-url must be an http:// or https:// address, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--public-url must be an http:// or https:// address, got ${JSON.stringify(raw)}`);
  return url.href.replace(/\/+$/, '');
}
