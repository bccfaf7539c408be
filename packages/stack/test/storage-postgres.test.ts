import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { migrations, openPostgresStorage, redactDatabaseUrl } from '../src/storage/index.js';
import { postgresForFile } from './helpers/postgres.js';
import { storageContract } from './storage-contract.js';

const server = postgresForFile();

storageContract('postgres', async () => openPostgresStorage(await (await server()).createDatabase()));

async function rows(url: string, query: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

void test('migrations: the same names as SQLite, applied once however many nodes open a new database at once', async () => {
  const url = await (await server()).createDatabase();
  const opened = await Promise.all([openPostgresStorage(url), openPostgresStorage(url), openPostgresStorage(url)]);
  await Promise.all(opened.map((s) => s.close()));
  const again = await openPostgresStorage(url);
  await again.close();
  const applied = await rows(url, 'SELECT name FROM kysely_migration ORDER BY name');
  assert.deepEqual(
    applied.map((r) => r.name),
    Object.keys(migrations('sqlite')).sort(),
  );
  assert.deepEqual(Object.keys(migrations('postgres')), Object.keys(migrations('sqlite')));
  // Text is compared byte by byte (the "C" collation) although the database's locale is ICU en-US.
  const collations = await rows(
    url,
    "SELECT DISTINCT collation_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text' AND table_name NOT LIKE 'kysely%'",
  );
  assert.deepEqual(collations, [{ collation_name: 'C' }]);
  const one = await rows(url, "SELECT indexdef FROM pg_indexes WHERE indexname = 'jobs_one_active_per_account'");
  assert.match(
    String(one[0]?.indexdef),
    /UNIQUE INDEX .* WHERE \(status = ANY \(ARRAY\['queued'::text, 'running'::text\]\)\)/,
  );
});

void test("a wrong password or an unreachable server: the error names the server, never the URL's password", async () => {
  const pgServer = await server();
  const url = await pgServer.createDatabase();
  const wrong = url.replace(pgServer.password, 'Wr0ng-canary-pw');
  await assert.rejects(openPostgresStorage(wrong), (error: Error) => {
    assert.equal(error.name, 'DatabaseError');
    assert.match(error.message, /password authentication failed/);
    assert.ok(error.message.includes(`postgres://postgres:***@127.0.0.1:${pgServer.port}/`), error.message);
    assert.ok(!error.message.includes('Wr0ng-canary-pw'), error.message);
    assert.ok(!JSON.stringify(error).includes('Wr0ng-canary-pw'));
    return true;
  });
  await assert.rejects(openPostgresStorage(url.replace(`:${pgServer.port}/`, ':1/')), (error: Error) => {
    assert.match(error.message, /could not connect to the PostgreSQL database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\//);
    assert.ok(!error.message.includes(pgServer.password), error.message);
    return true;
  });
  await assert.rejects(openPostgresStorage('mysql://root:hunter2@db/x'), (error: Error) => {
    assert.equal(error.message, 'the database must be a postgres:// URL, got mysql://root:***@db/x');
    return true;
  });
  assert.equal(
    redactDatabaseUrl('postgresql://u:p%40ss@h:5/d?sslmode=require&password=x'),
    'postgresql://u:***@h:5/d?sslmode=require&password=***',
  );
  assert.equal(redactDatabaseUrl('not a url: hunter2'), '(a database URL that does not parse)');
});
