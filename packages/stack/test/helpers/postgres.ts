import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Debian's PostgreSQL 15, which scripts/test.mjs installs when it is missing. */
export const POSTGRES_BIN = '/usr/lib/postgresql/15/bin';
export const POSTGRES_INSTALL_LINE = 'sudo apt-get install -y postgresql   (Debian: PostgreSQL 15)';

/** A throwaway PostgreSQL server: one per test file, a fresh database per test case. */
export type PostgresServer = {
  port: number;
  /** The superuser's password (the URLs carry it). */
  password: string;
  /** The URL of a database on this server. */
  url(database: string): string;
  /** Creates an empty database (ICU en-US collation, as an operator's might be) and returns its URL. */
  createDatabase(): Promise<string>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
};

/** Where a throwaway server listens besides 127.0.0.1, and which other clients it lets in. */
export type PostgresOptions = {
  /** More addresses to listen on (each must exist when the server starts). */
  listenAddresses?: string[];
  /** Client networks (CIDR) allowed in by password, besides 127.0.0.1: one pg_hba.conf line each. */
  clientNetworks?: string[];
};

const isRoot = process.getuid?.() === 0;

/** Runs a PostgreSQL binary as the `postgres` user when we are root (the server refuses root). */
function pgCommand(name: string, args: string[]): [string, string[]] {
  const bin = join(POSTGRES_BIN, name);
  return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Starts a throwaway PostgreSQL 15 under a folder of /tmp (initdb, then pg_ctl on a free port of
 * 127.0.0.1 and `options`' addresses, password authentication, no fsync). Throws with the install
 * line when it is missing.
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  if (!existsSync(join(POSTGRES_BIN, 'initdb')))
    throw new Error(`missing: PostgreSQL 15 (${join(POSTGRES_BIN, 'initdb')}). Install it: ${POSTGRES_INSTALL_LINE}`);
  const dir = mkdtempSync('/tmp/gleaner-pg-');
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (isRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const uid = Number(ids.stdout.trim());
    if (ids.status !== 0 || !Number.isInteger(uid))
      throw new Error(
        `missing: the postgres system user (PostgreSQL's package makes it). Install it: ${POSTGRES_INSTALL_LINE}`,
      );
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  let port = 0;
  let started = false;
  const stopNow = () => {
    if (started) {
      const [cmd, args] = pgCommand('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      spawnSync(cmd, args, { stdio: 'ignore' });
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A test file that crashes still takes its server down.
  process.once('exit', stopNow);
  try {
    const [initdb, initArgs] = pgCommand('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
    ]);
    await run(initdb, initArgs);
    if (options.clientNetworks?.length)
      appendFileSync(
        join(data, 'pg_hba.conf'),
        options.clientNetworks.map((network) => `host all all ${network} scram-sha-256\n`).join(''),
      );
    const listen = ['127.0.0.1', ...(options.listenAddresses ?? [])].join(',');
    // A port picked free may be taken before the server binds it: another, then.
    for (let attempt = 0; attempt < 3 && !started; attempt++) {
      port = await freePort();
      const options = `-p ${port} -k ${dir} -c listen_addresses=${listen} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
      const [pgCtl, ctlArgs] = pgCommand('pg_ctl', ['-D', data, '-l', log, '-o', options, '-w', '-t', '30', 'start']);
      try {
        await run(pgCtl, ctlArgs);
        started = true;
      } catch (error) {
        const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (!/Address already in use/.test(text))
          throw new Error(`PostgreSQL did not start:\n${text}`, { cause: error });
      }
    }
    if (!started) throw new Error('PostgreSQL did not start: no free port in 3 tries');
  } catch (error) {
    process.removeListener('exit', stopNow);
    stopNow();
    throw error;
  }

  const url = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  let created = 0;
  let chain: Promise<unknown> = Promise.resolve();
  return {
    port,
    password,
    url,
    createDatabase() {
      const name = `gleaner_test_${++created}`;
      // One CREATE DATABASE at a time: they copy the same template.
      const next = chain.then(async () => {
        const client = new pg.Client({ connectionString: url('postgres') });
        await client.connect();
        try {
          await client.query(
            `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
          );
        } finally {
          await client.end();
        }
        return url(name);
      });
      chain = next.catch(() => undefined);
      return next;
    },
    async stop() {
      process.removeListener('exit', stopNow);
      if (started) {
        const [pgCtl, args] = pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
        await run(pgCtl, args);
        started = false;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The test file's server, started on first use and stopped after the file's last test: call it at
 * the top of a test file, then `await server()` in a test.
 */
export function postgresForFile(options: PostgresOptions = {}): () => Promise<PostgresServer> {
  let server: Promise<PostgresServer> | undefined;
  after(async () => {
    if (server) await (await server.catch(() => undefined))?.stop();
  });
  return () => (server ??= startPostgres(options));
}
