import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GleanerStack } from '../src/create-stack.js';
import { StackError } from '../src/errors.js';
import { installPackage, readCurrent, uninstallPackage } from '../src/registry/index.js';
import { writeTarGz, type TarEntry } from '../src/registry/konnector-package.js';
import { EventRecorder, isJobEnded, isPrompt, openStack, tmpDataDir } from './helpers/stack-harness.js';
import { testBundle, testManifest, testPackage } from './helpers/test-package.js';
import { createHash } from 'node:crypto';

/** Every path under `dir` (names only: the database's size may change, its name does not). */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const path = join(prefix, name);
    out.push(path);
    if (statSync(join(dir, path)).isDirectory()) out.push(...tree(dir, path));
  }
  return out;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A package whose files are given as they are, with digests of `digests` (default: the right ones). */
function rawPackage(files: Record<string, string | Buffer>, extra: TarEntry[] = [], digests: Record<string, string> = {}): Buffer {
  const info = {
    format: 1,
    slug: 'shop',
    version: '0.1.0',
    main: 'index.mjs',
    files: Object.fromEntries(Object.entries(files).map(([path, data]) => [path, digests[path] ?? sha256(data)])),
  };
  return writeTarGz([
    { name: 'package/', type: 'directory' },
    ...Object.entries(files).map(([path, data]) => ({ name: `package/${path}`, data: Buffer.from(data) })),
    { name: 'package/gleaner-package.json', data: Buffer.from(JSON.stringify(info)) },
    ...extra,
  ]);
}
const goodFiles = (manifest: Record<string, unknown> = {}, bundle: string | Buffer = testBundle('0.1.0')) => ({
  'manifest.konnector': JSON.stringify({ ...testManifest('shop', '0.1.0'), main: 'index.mjs', ...manifest }),
  'index.mjs': bundle,
});

async function runJob(stack: GleanerStack, accountId: string) {
  const job = await stack.jobs.start(accountId, 'manual');
  await stack.jobs.settled(job.id);
  for (let i = 0; i < 200 && (await stack.jobs.get(job.id)).status === 'running'; i++) await new Promise((r) => setTimeout(r, 25));
  return { job: await stack.jobs.get(job.id), logs: (await stack.jobs.logs(job.id)).map((l) => l.message) };
}

describe('installing konnector packages in a stack', () => {
  let dataDir: string;
  let stack: GleanerStack;
  before(async () => {
    dataDir = tmpDataDir();
    stack = await openStack(dataDir, { konnectorDirs: [] });
  });
  after(async () => stack.close());

  it('refuses each bad package, naming the problem, and leaves the data folder as it was', async () => {
    const before = tree(dataDir);
    const bad: [string, Buffer, string, RegExp][] = [
      ['a bad manifest', rawPackage(goodFiles({ fields: { login: { type: 'phone' } } })), 'manifest.fields.login.type', /./],
      ['a symlink', rawPackage(goodFiles(), [{ name: 'package/link', type: 'symlink', linkname: '/etc/passwd' }]), 'package/link', /symbolic link/],
      ['a ../ path', rawPackage(goodFiles(), [{ name: 'package/../../evil.mjs', data: Buffer.from('x') }]), 'package/../../evil.mjs', /leaves the package/],
      ['a wrong digest', rawPackage(goodFiles(), [], { 'index.mjs': sha256('another bundle') }), 'package/index.mjs', /sha256/],
      ['an oversized manifest', rawPackage(goodFiles({ description: 'x'.repeat(70_000) })), 'package/manifest.konnector', /64 KiB/],
      ['an oversized bundle', rawPackage(goodFiles({}, Buffer.alloc(201 * 1024 * 1024, 0x20))), '(archive)', /200 MiB/],
    ];
    for (const [what, tgz, path, message] of bad) {
      await assert.rejects(
        stack.konnectors.install(tgz),
        (error: unknown) => {
          assert.ok(error instanceof StackError && error.code === 'invalid', `${what}: ${String(error)}`);
          const { problems } = error.details as { problems: { path: string; message: string }[] };
          assert.ok(problems.some((p) => p.path === path && message.test(p.message)), `${what}: ${JSON.stringify(problems)}`);
          return true;
        },
        what,
      );
      assert.deepEqual(tree(dataDir), before, `${what} left nothing in the data folder`);
    }
    assert.equal(existsSync(join(dataDir, 'konnectors')), false);
    assert.deepEqual(stack.konnectors.list(), []);
  });

  it('install → list → a job runs 0.1.0 → install 0.2.0 → the next job runs 0.2.0 while one started on 0.1.0 finishes on it', async () => {
    const events = new EventRecorder(stack);
    const first = await stack.konnectors.install(testPackage('upgrade', '0.1.0'));
    assert.equal(first.previousVersion, null);
    assert.equal(first.konnector.source, 'installed');
    assert.deepEqual(
      stack.konnectors.list().map((k) => [k.slug, k.version, k.source, k.twofa]),
      [['upgrade', '0.1.0', 'installed', ['sms']]],
    );
    assert.equal(readFileSync(join(dataDir, 'konnectors/upgrade/current'), 'utf8'), '0.1.0\n');
    assert.ok(existsSync(join(dataDir, 'konnectors/upgrade/0.1.0/index.mjs')));

    const quick = await stack.accounts.create({ konnector: 'upgrade', fields: { login: 'ada', password: 'pw' } });
    const ran = await runJob(stack, quick.id);
    assert.equal(ran.job.status, 'done', ran.logs.join('\n'));
    assert.equal(ran.job.konnectorVersion, '0.1.0');
    assert.ok(ran.logs.includes('running version 0.1.0'), ran.logs.join('\n'));

    // A job that waits for a code holds version 0.1.0 while 0.2.0 is installed.
    const slow = await stack.accounts.create({ konnector: 'upgrade', fields: { login: 'bob', password: 'pw', wait: 'yes' } });
    const held = await stack.jobs.start(slow.id, 'manual');
    const waiting = await events.waitFor(isPrompt(slow.id, 'waiting'), 'the slow job waits for a code');
    assert.equal((await stack.jobs.get(held.id)).konnectorVersion, '0.1.0');

    const second = await stack.konnectors.install(testPackage('upgrade', '0.2.0'));
    assert.equal(second.previousVersion, '0.1.0');
    assert.equal(stack.konnectors.get('upgrade')?.version, '0.2.0');
    assert.ok(existsSync(join(dataDir, 'konnectors/upgrade/0.1.0/index.mjs')), 'the running job keeps its folder');

    const next = await runJob(stack, quick.id);
    assert.equal(next.job.status, 'done', next.logs.join('\n'));
    assert.equal(next.job.konnectorVersion, '0.2.0');
    assert.ok(next.logs.includes('running version 0.2.0'), next.logs.join('\n'));

    assert.equal(await stack.prompts.answer(waiting.prompt.id, '123456'), 'accepted');
    const ended = await events.waitFor(isJobEnded(held.id), 'the slow job ends');
    assert.equal(ended.job.status, 'done');
    assert.equal(ended.job.konnectorVersion, '0.1.0');
    const heldLogs = (await stack.jobs.logs(held.id)).map((l) => l.message);
    assert.ok(heldLogs.includes('code received by version 0.1.0'), heldLogs.join('\n'));
    await stack.jobs.settled(held.id);
    assert.equal(existsSync(join(dataDir, 'konnectors/upgrade/0.1.0')), false, 'pruned once no job uses it');
    assert.ok(existsSync(join(dataDir, 'konnectors/upgrade/0.2.0/index.mjs')));
    events.stop();
  });

  it('refuses a downgrade or the same version without force, and leaves the folder as it was', async () => {
    await stack.konnectors.install(testPackage('down', '1.2.0'));
    const before = tree(dataDir);
    for (const version of ['1.1.9', '1.2.0', '1.2.0-rc.1']) {
      await assert.rejects(
        stack.konnectors.install(testPackage('down', version)),
        (e: unknown) => e instanceof StackError && e.code === 'conflict' && /1\.2\.0 is (already )?installed/.test(e.message),
        version,
      );
      assert.deepEqual(tree(dataDir), before, `${version} refused leaves nothing`);
    }
    const forced = await stack.konnectors.install(testPackage('down', '1.1.9'), { force: true });
    assert.equal(forced.previousVersion, '1.2.0');
    assert.equal(stack.konnectors.get('down')?.version, '1.1.9');
    assert.equal(readCurrent(dataDir, 'down'), '1.1.9');
    const again = await stack.konnectors.install(testPackage('down', '1.1.9'), { force: true });
    assert.equal(again.previousVersion, '1.1.9', 'a forced reinstall of the same version');
    assert.deepEqual(readdirSync(join(dataDir, 'konnectors/down')).sort(), ['1.1.9', 'current'], 'the replaced folders are pruned');
  });

  it('refuses to uninstall a konnector accounts use, with their count; force removes it; running it then is refused', async () => {
    await stack.konnectors.install(testPackage('used', '0.1.0'));
    const a = await stack.accounts.create({ konnector: 'used', fields: { login: 'a', password: 'pw' } });
    await stack.accounts.create({ konnector: 'used', fields: { login: 'b', password: 'pw' } });
    await assert.rejects(
      stack.konnectors.uninstall('used'),
      (e: unknown) =>
        e instanceof StackError &&
        e.code === 'conflict' &&
        e.message.includes('used by 2 account(s)') &&
        (e.details as { accounts: number }).accounts === 2,
    );
    assert.equal(stack.konnectors.get('used')?.version, '0.1.0', 'still installed');
    await stack.konnectors.uninstall('used', { force: true });
    assert.equal(stack.konnectors.get('used'), undefined);
    assert.equal(existsSync(join(dataDir, 'konnectors/used')), false, 'its folders are gone (no job used them)');
    await assert.rejects(stack.jobs.start(a.id, 'manual'), (e: unknown) => e instanceof StackError && e.code === 'invalid');
    await assert.rejects(stack.konnectors.uninstall('used'), (e: unknown) => e instanceof StackError && e.code === 'not_found');
  });

  it('serves the icon of a package that has one', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>');
    await stack.konnectors.install(testPackage('iconic', '0.1.0', { icon: { name: 'icon.svg', data: svg } }));
    assert.equal(stack.konnectors.get('iconic')?.icon, '/api/konnectors/iconic/icon');
    const icon = await stack.konnectors.icon('iconic');
    assert.equal(icon.contentType, 'image/svg+xml');
    assert.ok(icon.data.equals(svg));
    await assert.rejects(stack.konnectors.icon('upgrade'), (e: unknown) => e instanceof StackError && e.code === 'not_found');
  });
});

describe('installed konnectors across restarts and beside development folders', () => {
  it('a stack restarted on the folder still lists what was installed, also by another process while it ran', async () => {
    const dataDir = tmpDataDir();
    let stack = await openStack(dataDir, { konnectorDirs: [] });
    await stack.konnectors.install(testPackage('kept', '0.3.0'));
    // An installer of its own (the CLI) while the stack runs: no stack lock needed, seen at once.
    await installPackage(dataDir, testPackage('side', '1.0.0'));
    assert.deepEqual(stack.konnectors.list().map((k) => `${k.slug}@${k.version}`), ['kept@0.3.0', 'side@1.0.0']);
    await stack.close();
    stack = await openStack(dataDir, { konnectorDirs: [] });
    try {
      assert.deepEqual(stack.konnectors.list().map((k) => `${k.slug}@${k.version}`), ['kept@0.3.0', 'side@1.0.0']);
      const account = await stack.accounts.create({ konnector: 'kept', fields: { login: 'a', password: 'pw' } });
      const ran = await runJob(stack, account.id);
      assert.equal(ran.job.konnectorVersion, '0.3.0');
    } finally {
      await stack.close();
    }
  });

  it('a development folder of the same slug wins, and the hidden package is reported', async () => {
    const dataDir = tmpDataDir();
    await installPackage(dataDir, testPackage('twofa-test', '9.0.0'));
    const stack = await openStack(dataDir); // the development twofa-test konnector, 1.0.0
    try {
      const info = stack.konnectors.get('twofa-test');
      assert.equal(info?.source, 'development');
      assert.equal(info?.version, '1.0.0');
      const hidden = stack.konnectors.problems().find((p) => p.slug === 'twofa-test');
      assert.equal(hidden?.source, 'installed');
      assert.match(hidden?.problems[0]?.message ?? '', /hidden by the development folder/);
    } finally {
      await stack.close();
    }
  });

  it('a development folder is read again at each job start: an edit shows without a restart', async () => {
    const dataDir = tmpDataDir();
    const dev = join(dataDir, 'dev-konnector');
    mkdirSync(dev);
    const write = (version: string) => {
      writeFileSync(join(dev, 'manifest.konnector'), JSON.stringify({ ...testManifest('dev', version), main: 'index.mjs' }));
      writeFileSync(join(dev, 'index.mjs'), testBundle(version));
    };
    write('0.1.0');
    const stack = await openStack(dataDir, { konnectorDirs: [dev] });
    try {
      const account = await stack.accounts.create({ konnector: 'dev', fields: { login: 'a', password: 'pw' } });
      assert.equal((await runJob(stack, account.id)).job.konnectorVersion, '0.1.0');
      write('0.1.1');
      const ran = await runJob(stack, account.id);
      assert.equal(ran.job.konnectorVersion, '0.1.1');
      assert.ok(ran.logs.includes('running version 0.1.1'));
      assert.equal(stack.konnectors.get('dev')?.source, 'development');
    } finally {
      await stack.close();
    }
  });

  it('a stack that starts removes what a crash left: a half-unpacked install, an uninstalled konnector, a stray temp file', async () => {
    const dataDir = tmpDataDir();
    await installPackage(dataDir, testPackage('kept', '1.0.0'));
    await installPackage(dataDir, testPackage('gone', '1.0.0'));
    const root = join(dataDir, 'konnectors');
    mkdirSync(join(root, '.incoming/deadbeef/nested'), { recursive: true });
    writeFileSync(join(root, '.incoming/deadbeef/nested/index.mjs'), 'half');
    writeFileSync(join(root, 'kept/.current-0123'), '9.9.9');
    // A crash between removing current and pruning: the version folder is left alone.
    rmSync(join(root, 'gone/current'));
    const stack = await openStack(dataDir, { konnectorDirs: [] });
    try {
      assert.deepEqual(tree(root), ['.incoming', 'kept', 'kept/1.0.0', ...tree(join(root, 'kept/1.0.0')).map((p) => `kept/1.0.0/${p}`), 'kept/current']);
      assert.deepEqual(stack.konnectors.list().map((k) => k.slug), ['kept']);
    } finally {
      await stack.close();
    }
  });

  it('two installers at once both land, one after the other, and leave no unpacking behind', async () => {
    const dataDir = tmpDataDir();
    const results = await Promise.all([
      installPackage(dataDir, testPackage('race', '1.0.0')),
      installPackage(dataDir, testPackage('other', '2.0.0')),
      installPackage(dataDir, testPackage('race', '1.0.1')).catch((e: unknown) => e),
    ]);
    assert.equal((results[0] as { konnector: { manifest: { slug: string } } }).konnector.manifest.slug, 'race');
    assert.deepEqual(readdirSync(join(dataDir, 'konnectors')).sort(), ['other', 'race']);
    assert.equal(readCurrent(dataDir, 'race'), '1.0.1');
    await assert.rejects(uninstallPackage(dataDir, 'race', { accounts: 1 }), /used by 1 account\(s\)/);
    await uninstallPackage(dataDir, 'race', { accounts: 0 });
    assert.deepEqual(readdirSync(join(dataDir, 'konnectors')).sort(), ['other']);
  });
});
