import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from '@gleaner/stack';
import { startSites } from '@gleaner/sites';
import { startDemo } from '../demo.js';
import { homeDistDir } from '../home-dir.js';
import { UsageError } from '../usage-error.js';

function port(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`not a port: ${value}`);
  return n;
}

function graceMs(value: string | undefined): number {
  if (value === undefined) return 10_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new UsageError(`--grace expects seconds, got ${JSON.stringify(value)}`);
  return seconds * 1000;
}

/** Stops gracefully on SIGTERM/SIGINT: no new jobs, running ones get a grace period. */
function untilSignal(close: () => Promise<void>, grace?: number): Promise<number> {
  return new Promise((done) => {
    const stop = (signal: string) => {
      process.stderr.write(
        grace === undefined
          ? `\n${signal}: stopping\n`
          : `\n${signal}: stopping (running jobs get ${grace / 1000} s, then end JOB_INTERRUPTED)\n`,
      );
      close().then(
        () => done(0),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`);
          done(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      konnectors: { type: 'string', multiple: true },
      grace: { type: 'string' },
    },
  });
  const grace = graceMs(values.grace);
  const server = await startServer({
    dataDir: resolve(values.data ?? 'data'),
    port: port(values.port, 3000),
    konnectorDirs: (values.konnectors ?? ['konnectors']).map((d) => resolve(d)),
    homeDir: homeDistDir(),
  });
  process.stderr.write(`Gleaner is serving on ${server.url}\n`);
  return untilSignal(() => server.close(grace), grace);
}

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      'sites-port': { type: 'string' },
      grace: { type: 'string' },
    },
  });
  const grace = graceMs(values.grace);
  const demo = await startDemo({
    ...(values.data ? { dataDir: resolve(values.data) } : {}),
    port: port(values.port, 3000),
    sitesPort: port(values['sites-port'], 8080),
  });
  process.stderr.write(
    [
      '',
      `Home:        ${demo.url}   (sign in with ${demo.signIn})`,
      `Fake sites:  ${demo.sitesUrl}`,
      `Outbox:      ${demo.outbox}   (codes "sent" by SMS and e-mail, and the fake authenticator's code)`,
      '',
      'Try: add a GitHub account as octocat / octocat-password (authenticator code from the outbox page),',
      'or an Amazon account as alice@example.test / alice-amazon-password (code by SMS, in the outbox),',
      'or as frank@example.test / frank-amazon-password (approve the sign-in on the outbox page).',
      '',
    ].join('\n'),
  );
  return untilSignal(() => demo.close(grace), grace);
}

export async function sitesCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const sites = await startSites({ port: port(values.port, 8080) });
  process.stderr.write(
    `Fake sites on ${sites.url} (GitHub ${sites.github}, Amazon ${sites.amazon}, test ${sites.test}); outbox ${sites.outbox}\n`,
  );
  return untilSignal(() => sites.close());
}
