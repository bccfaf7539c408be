import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startTestSite, type RunningSite } from '@gleaner/sites';
import { writeKonnectorPackage, writeTarGz, type TarEntry } from '@gleaner/stack';
import type { Account, FileInfo, Job, KonnectorInfo } from '@gleaner/contracts';
import { gleaner, repoRoot, session, type Session } from './support/cli.js';
import { signIn, until, type AdminApi } from './support/admin-api.js';
import { protocolBundle } from './support/konnector-package.js';

/**
 * Issue 15's backup scenario, with real processes: a stack with one account connected through a
 * 2FA code and 20 jobs running; `gleaner backup` taken meanwhile; `gleaner restore` into a fresh
 * folder; `gleaner serve` there on another port, where the account runs on its saved session (no
 * login, no code) and every file downloads with the same sha256.
 */
const API_TWOFA_KONNECTOR = join(repoRoot, 'packages/stack/test/fixtures/api-twofa-konnector');
const BUSY_STACK = fileURLToPath(new URL('./support/busy-stack.js', import.meta.url));
const ADMIN_PASSWORD = 'backup-test-admin-Pw-1618';
const SLOW_JOBS = 20;
const SLOW_MS = 8000;

/** An installed package (run in the sandbox) that waits `sleepMs` and ends ok. */
function slowPackage(): Buffer {
  const bundle = protocolBundle(`const context = await call('start');
await new Promise((resolve) => setTimeout(resolve, Number(context.fields.sleepMs || 0)));`);
  return writeKonnectorPackage({
    manifest: {
      slug: 'slow-test',
      name: 'Slow test',
      version: '1.0.0',
      main: 'index.js',
      fields: { login: { type: 'text' }, password: { type: 'password' }, sleepMs: { type: 'text', required: false } },
    },
    bundle,
  });
}


const serving = async (s: Session) =>
  /Gleaner is serving on (http:\/\/\S+)/.exec(await s.waitFor(/Gleaner is serving on http:\/\/\S+\n/, 30_000))![1]!;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Every file and folder under `dir` with its mode, for the 0600/0700 check. */
function modes(dir: string, prefix = ''): Array<{ path: string; dir: boolean; mode: number }> {
  const out: Array<{ path: string; dir: boolean; mode: number }> = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    out.push({ path, dir: entry.isDirectory(), mode: statSync(join(dir, path)).mode & 0o777 });
    if (entry.isDirectory()) out.push(...modes(dir, path));
  }
  return out;
}

/** Waits for a job of the account to end, and returns it. */
async function jobEnded(api: AdminApi, accountId: string, notId?: string): Promise<Job> {
  return until(`a job of ${accountId} to end`, async () => {
    const jobs = (await api(`/api/accounts/${accountId}/jobs`)).body as Job[];
    const job = jobs.find((j) => j.id !== notId);
    return job && job.status !== 'queued' && job.status !== 'running' ? job : undefined;
  }, 60_000);
}

let site: RunningSite;
before(async () => {
  site = await startTestSite();
});
after(async () => {
  await site?.close();
});

test('a backup taken while 20 jobs run, restored into a fresh folder on another port: the account runs on its saved session with no code asked, every file downloads the same', async () => {
  const work = mkdtempSync(join(tmpdir(), 'gleaner-backup-'));
  const source = join(work, 'source');
  writeFileSync(join(work, 'slow-test-1.0.0.tgz'), slowPackage());
  const install = gleaner(['install', join(work, 'slow-test-1.0.0.tgz'), '--data', source]);
  assert.equal(await install.exit, 0, install.output());

  const stack = session([process.execPath, BUSY_STACK, source, API_TWOFA_KONNECTOR, String(SLOW_JOBS + 2)], {
    env: { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  let restored: Session | undefined;
  try {
    const sourceUrl = await serving(stack);
    const api = await signIn(sourceUrl, ADMIN_PASSWORD);

    // One account connected with its code: the site's session cookie is now sealed in the database.
    const created = await api('/api/accounts', {
      method: 'POST',
      json: { konnector: 'api-twofa-test', fields: { login: 'alice', password: 'alice-password', baseUrl: site.url }, connect: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const alice = (created.body as Account).id;
    const prompt = await until('the code prompt', async () => {
      const account = (await api(`/api/accounts/${alice}`)).body as Account;
      return account.prompt?.status === 'waiting' ? account.prompt : undefined;
    });
    const answered = await api(`/api/prompts/${prompt.id}/answer`, { method: 'POST', json: { code: site.control.lastCode('alice') } });
    assert.equal(answered.status, 202);
    const first = await jobEnded(api, alice);
    assert.deepEqual([first.status, first.loginStatus], ['done', 'succeeded'], `first run: ${first.error}`);
    const files = (await api(`/api/accounts/${alice}/files`)).body as FileInfo[];
    assert.ok(files.length >= 5, `${files.length} files saved`);
    const sums = new Map<string, string>();
    for (const file of files) sums.set(file.id, sha256((await api(`/api/files/${file.id}/content`)).raw));

    // 20 jobs running on other accounts.
    const slow = await Promise.all(
      Array.from({ length: SLOW_JOBS }, async (_, i) => {
        const made = await api('/api/accounts', {
          method: 'POST',
          json: { konnector: 'slow-test', fields: { login: `user${i}`, password: `pw-${i}`, sleepMs: String(SLOW_MS) }, connect: true },
        });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        return (made.body as Account).id;
      }),
    );
    const running = async () =>
      ((await api('/api/jobs?limit=100')).body as Job[]).filter((j) => slow.includes(j.accountId) && j.status === 'running').length;
    await until(`${SLOW_JOBS} jobs running`, async () => ((await running()) === SLOW_JOBS ? true : undefined), 40_000);

    // A large file (odd size, random bytes) crosses every chunk boundary of the streamed archive.
    const big = randomBytes(12 * 1024 * 1024 + 777);
    mkdirSync(join(source, 'files', alice), { recursive: true });
    writeFileSync(join(source, 'files', alice, 'big.bin'), big);

    const plain = join(work, 'plain.tgz');
    const withKeys = join(work, 'with-keys.tgz');
    const backups = [gleaner(['backup', '--data', source, plain]), gleaner(['backup', '--data', source, '--with-keys', withKeys])];
    assert.deepEqual(await Promise.all(backups.map((b) => b.exit)), [0, 0], backups.map((b) => b.output()).join('\n'));
    assert.equal(await running(), SLOW_JOBS, 'the backups were taken while the 20 jobs ran');
    assert.match(backups[0]!.output(), /the secret key is NOT inside: a restore needs key k1\b/);
    assert.match(backups[0]!.output(), /Keep the key apart from the backup/);
    assert.match(backups[1]!.output(), /the key file\(s\) are inside/);
    assert.equal(statSync(plain).mode & 0o777, 0o600, 'the backup file is 0600');
    assert.deepEqual(readdirSync(work).sort(), ['plain.tgz', 'slow-test-1.0.0.tgz', 'source', 'with-keys.tgz'], 'no temp file left');

    // The stack still works after the backups: every slow job ends done.
    for (const id of slow) assert.equal((await jobEnded(api, id)).status, 'done');
    stack.child.kill('SIGTERM');
    assert.equal(await stack.exit, 0, stack.output());

    // Restore into a fresh folder; again into the same (now non-empty) folder is refused.
    const target = join(work, 'restored');
    const restore = gleaner(['restore', plain, '--data', target]);
    assert.equal(await restore.exit, 0, restore.output());
    assert.match(restore.output(), /the stack starts only once key k1 is given/);
    assert.match(restore.output(), /GLEANER_SECRET_KEY/);
    const again = gleaner(['restore', plain, '--data', target]);
    assert.equal(await again.exit, 1);
    assert.match(again.output(), /is not empty .*restore into a new or empty folder/);
    for (const entry of modes(target)) assert.equal(entry.mode, entry.dir ? 0o700 : 0o600, `${entry.path} is 0${entry.mode.toString(8)}`);
    assert.deepEqual(readdirSync(join(target, 'keys')), ['current'], 'no key file restored without --with-keys');
    assert.equal(sha256(readFileSync(join(target, 'files', alice, 'big.bin'))), sha256(big), 'the large file came back whole');

    // Without the key the stack refuses to start, naming it; with the key (as the docs say) it serves.
    const refused = gleaner(['serve', '--data', target, '--port', '0']);
    assert.equal(await refused.exit, 1);
    assert.match(refused.output(), /sealed with key k1, but .*k1\.key is missing/);
    const key = readFileSync(join(source, 'keys', 'k1.key'), 'utf8').trim();
    restored = gleaner(['serve', '--data', target, '--port', '0', '--konnectors', API_TWOFA_KONNECTOR], {
      env: { GLEANER_SECRET_KEY: key, GLEANER_LOG_LEVEL: 'warn' },
    });
    const restoredUrl = await serving(restored);
    assert.notEqual(new URL(restoredUrl).port, new URL(sourceUrl).port);
    const api2 = await signIn(restoredUrl, ADMIN_PASSWORD); // the admin password came back in auth.sqlite: none given here

    const konnectors = (await api2('/api/konnectors')).body as KonnectorInfo[];
    const installed = konnectors.find((k) => k.slug === 'slow-test');
    assert.equal(installed?.source, 'installed', 'the installed konnector came back');
    const slowJobs = ((await api2('/api/jobs?limit=100')).body as Job[]).filter((j) => slow.includes(j.accountId));
    assert.equal(slowJobs.length, SLOW_JOBS, 'the 20 jobs were in the snapshot');
    assert.ok(slowJobs.every((j) => j.status !== 'running'), 'none left running in the restored stack');

    const logins = site.control.requestCount('/login', 'POST');
    const codes = site.control.codesSent('alice');
    const run = await api2(`/api/accounts/${alice}/jobs`, { method: 'POST', json: {} });
    assert.equal(run.status, 201, JSON.stringify(run.body));
    const second = await jobEnded(api2, alice, first.id);
    assert.deepEqual([second.status, second.loginStatus], ['done', 'succeeded'], `restored run: ${second.error}`);
    assert.equal(site.control.requestCount('/login', 'POST'), logins, 'no login: the saved session was used');
    assert.equal(site.control.codesSent('alice'), codes, 'no code asked');

    // The restored package runs (in the sandbox, from its 0600 files).
    const fresh = await api2('/api/accounts', {
      method: 'POST',
      json: { konnector: 'slow-test', fields: { login: 'new', password: 'pw-new', sleepMs: '0' }, connect: true },
    });
    assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
    const freshJob = await jobEnded(api2, (fresh.body as Account).id);
    assert.deepEqual([freshJob.status, freshJob.konnectorVersion], ['done', '1.0.0'], `restored package: ${freshJob.error}`);

    const after = (await api2(`/api/accounts/${alice}/files`)).body as FileInfo[];
    assert.deepEqual(after.map((f) => f.id).sort(), [...sums.keys()].sort());
    for (const file of after) {
      const content = await api2(`/api/files/${file.id}/content`);
      assert.equal(content.status, 200);
      assert.equal(sha256(content.raw), sums.get(file.id), `${file.name} downloads the same`);
    }

    // The backup with the keys restores them, 0600: that stack needs nothing more.
    const keyed = join(work, 'restored-with-keys');
    const restoreKeyed = gleaner(['restore', withKeys, '--data', keyed]);
    assert.equal(await restoreKeyed.exit, 0, restoreKeyed.output());
    assert.doesNotMatch(restoreKeyed.output(), /key was not in the backup/);
    assert.equal(readFileSync(join(keyed, 'keys', 'k1.key'), 'utf8').trim(), key);
    assert.equal(statSync(join(keyed, 'keys', 'k1.key')).mode & 0o777, 0o600);
  } finally {
    stack.child.kill('SIGKILL');
    restored?.child.kill('SIGTERM');
    if (restored) await restored.exit;
  }
});

test('gleaner restore refuses a link, a path with .., an unexpected entry, a damaged database or a truncated archive, and leaves the folder empty', async () => {
  const work = mkdtempSync(join(tmpdir(), 'gleaner-restore-bad-'));
  const manifest = (included: boolean): TarEntry => ({
    name: 'gleaner-backup.json',
    data: Buffer.from(JSON.stringify({
      format: 1,
      createdAt: new Date().toISOString(),
      keys: { included, needed: ['k1'], current: 'k1' },
      counts: { databases: 1, konnectorFiles: 0, accountFiles: 0, keyFiles: 0, bytes: 4 },
    })),
  });
  const db: TarEntry = { name: 'gleaner.db', data: Buffer.from('db!!') };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['symlink', writeTarGz([manifest(false), db, { name: 'files/', type: 'directory' }, { name: 'files/x', type: 'symlink', linkname: '/etc/passwd' }]), /files\/x: only regular files and folders/],
    ['dotdot', writeTarGz([manifest(false), db, { name: 'files/../../evil', data: Buffer.from('x') }]), /files\/\.\.\/\.\.\/evil: a path that leaves the data folder/],
    ['unexpected', writeTarGz([manifest(false), db, { name: 'etc/passwd', data: Buffer.from('x') }]), /etc\/passwd: not an entry a backup holds/],
    ['keys-not-announced', writeTarGz([manifest(false), db, { name: 'keys/k1.key', data: Buffer.from('x') }]), /keys\/k1\.key: a key file in a backup whose manifest says the keys are kept apart/],
    ['not-a-database', writeTarGz([manifest(false), db]), /gleaner\.db: not a usable SQLite database \(file is not a database\)/],
    ['no-manifest', writeTarGz([db]), /gleaner\.db: the first entry must be gleaner-backup\.json/],
    ['truncated', writeTarGz([manifest(false), db]).subarray(0, 40), /not a gzip file, or damaged|truncated/],
  ];
  await Promise.all(
    cases.map(async ([name, tgz, expected]) => {
      const file = join(work, `${name}.tgz`);
      writeFileSync(file, tgz);
      const target = join(work, `into-${name}`);
      mkdirSync(target);
      const restore = gleaner(['restore', file, '--data', target]);
      assert.equal(await restore.exit, 1, `${name}: ${restore.output()}`);
      assert.match(restore.output(), expected, name);
      assert.deepEqual(readdirSync(target), [], `${name}: the folder is left empty`);
    }),
  );
  assert.equal(existsSync(join(work, 'evil')), false, 'nothing written outside the folder');
});
