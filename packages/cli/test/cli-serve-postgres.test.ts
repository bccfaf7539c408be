import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrations } from '@gleaner/stack';
import { gleaner, repoRoot, type Session } from './support/cli.js';
import { cliTestPackage } from './support/konnector-package.js';
import { postgresForFile } from './support/postgres.js';

const server = await postgresForFile();
const ADMIN_PASSWORD = 'serve-pg-admin-Pw-1414';
const TWOFA_KONNECTOR = join(repoRoot, 'packages/stack/test/fixtures/twofa-konnector');
const env = { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD, GLEANER_LOG_LEVEL: 'info' };
/** Every migration of the schema, in order: each helper's branch adds its own. */

async function serving(serve: Session): Promise<string> {
  return /Gleaner is serving on (http:\/\/\S+)/.exec(
    await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/, 20_000),
  )![1]!;
}

async function signIn(url: string): Promise<{ cookie: string; csrfToken: string }> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return { cookie: login.headers.getSetCookie()[0]!.split(';')[0]!, csrfToken };
}

async function finish(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const session = gleaner(args, { env: { ...env, ...extraEnv } });
  const code = await session.exit;
  return { code, output: session.output() };
}

async function stop(serve: Session): Promise<void> {
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exit, 0, serve.output());
}

test('gleaner serve, uninstall, migrate and rotate-key on PostgreSQL: GLEANER_DATABASE_URL or --database selects it; what one start stored the next one reads; the password never printed', async () => {
  const pgServer = await server();
  const url = await pgServer.createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-serve-pg-'));
  const tgz = join(mkdtempSync(join(tmpdir(), 'gleaner-serve-pg-')), 'shop-0.1.0.tgz');
  writeFileSync(tgz, cliTestPackage('shop', '0.1.0'));
  assert.equal((await finish(['install', tgz, '--data', dataDir])).code, 0);
  const args = ['serve', '--data', dataDir, '--port', '0', '--konnectors', TWOFA_KONNECTOR, '--grace', '1'];

  const first = gleaner(args, { env: { ...env, GLEANER_DATABASE_URL: url } });
  let accountId: string;
  try {
    const base = await serving(first);
    const { cookie, csrfToken } = await signIn(base);
    const created = await fetch(`${base}/api/accounts`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' },
      body: JSON.stringify({
        konnector: 'shop',
        label: 'kept in PostgreSQL',
        fields: { login: 'ada', password: 'pw' },
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    accountId = ((await created.json()) as { id: string }).id;
  } finally {
    await stop(first);
  }
  assert.equal(existsSync(join(dataDir, 'gleaner.db')), false, 'no SQLite database in the data folder');

  const uninstall = await finish(['uninstall', 'shop', '--data', dataDir], { GLEANER_DATABASE_URL: url });
  assert.equal(uninstall.code, 1, uninstall.output);
  assert.match(uninstall.output, /konnector shop is used by 1 account\(s\)/, 'the accounts are counted in PostgreSQL');
  const migrate = await finish(['migrate', '--database', url]);
  assert.equal(migrate.code, 0, migrate.output);
  // Every migration the stack ships, whichever were added since this test was written.
  const names = Object.keys(migrations('postgres')).sort();
  assert.equal(migrate.output, `already at the latest schema (${names.at(-1)})\n`);
  const fresh = await finish(['migrate', '--database', await pgServer.createDatabase()]);
  assert.equal(fresh.output, `applied ${names.length} migration(s): ${names.join(', ')}; now at ${names.at(-1)}\n`);
  const rotate = await finish(['rotate-key', '--data', dataDir], { GLEANER_DATABASE_URL: url });
  assert.equal(rotate.code, 0, rotate.output);
  assert.match(rotate.output, /^key k2 is now current: 1 secret\(s\) of 1 account\(s\) re-sealed\n$/);

  const second = gleaner([...args, '--database', url], { env });
  try {
    const base = await serving(second);
    const { cookie } = await signIn(base);
    const accounts = (await (await fetch(`${base}/api/accounts`, { headers: { cookie } })).json()) as Array<{
      id: string;
      label: string;
    }>;
    assert.deepEqual(
      accounts.map((a) => [a.id, a.label]),
      [[accountId, 'kept in PostgreSQL']],
    );
  } finally {
    await stop(second);
  }
  for (const output of [first.output(), second.output()])
    assert.match(
      output,
      new RegExp(`postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${pgServer.port}/`),
      'the log names the database',
    );
  for (const output of [first.output(), second.output(), uninstall.output, migrate.output, rotate.output]) {
    assert.ok(!output.includes(pgServer.password), `the database password printed:\n${output}`);
  }
});

test('gleaner serve refuses a database it cannot open, naming it without its password (exit 1, no stack trace)', async () => {
  const pgServer = await server();
  const url = await pgServer.createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-serve-pg-'));
  const wrong = gleaner(
    ['serve', '--data', dataDir, '--port', '0', '--database', url.replace(pgServer.password, 'Wr0ng-canary-pw')],
    {
      env,
    },
  );
  assert.equal(await wrong.exit, 1, wrong.output());
  assert.match(
    wrong.output(),
    /gleaner serve: could not connect to the PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+: password authentication failed/,
  );
  assert.ok(!wrong.output().includes('Wr0ng-canary-pw'), wrong.output());
  assert.ok(!wrong.output().includes('    at '), 'no stack trace');

  const other = gleaner(['serve', '--data', dataDir, '--port', '0'], {
    env: { ...env, GLEANER_DATABASE_URL: 'mysql://root:hunter2@db/x' },
  });
  assert.equal(await other.exit, 1, other.output());
  assert.match(
    other.output(),
    /gleaner serve: the database must be a postgres:\/\/ URL .*, got mysql:\/\/root:\*\*\*@db\/x\n/,
  );
  assert.ok(!other.output().includes('hunter2'));
});
