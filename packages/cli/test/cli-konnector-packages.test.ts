import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeTarGz, type TarEntry } from '@gleaner/stack';
import { gleaner } from './support/cli.js';
import { cliTestPackage } from './support/konnector-package.js';

const ADMIN_PASSWORD = 'packages-admin-Pw-2718';

async function finish(args: string[]): Promise<{ code: number | null; output: string }> {
  const session = gleaner(args);
  const code = await session.exit;
  return { code, output: session.output() };
}

function tree(dir: string, prefix = ''): string[] {
  if (!existsSync(join(dir, prefix))) return [];
  const out: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const path = join(prefix, name);
    out.push(path);
    if (statSync(join(dir, path)).isDirectory()) out.push(...tree(dir, path));
  }
  return out;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A hand-made package (entries as given), to hold what `gleaner pack` would never write. */
function rawPackage(manifest: Record<string, unknown>, options: { bundle?: Buffer; extra?: TarEntry[]; wrongDigest?: boolean } = {}): Buffer {
  const files: Record<string, Buffer> = {
    'manifest.konnector': Buffer.from(
      JSON.stringify({ slug: 'bad', name: 'Bad', version: '0.1.0', main: 'index.mjs', fields: { login: { type: 'text' } }, ...manifest }),
    ),
    'index.mjs': options.bundle ?? Buffer.from('export {};\n'),
  };
  const digests = Object.fromEntries(Object.entries(files).map(([p, d]) => [p, sha256(d)]));
  if (options.wrongDigest) digests['index.mjs'] = sha256('something else');
  return writeTarGz([
    { name: 'package/', type: 'directory' },
    ...Object.entries(files).map(([p, data]) => ({ name: `package/${p}`, data })),
    {
      name: 'package/gleaner-package.json',
      data: Buffer.from(JSON.stringify({ format: 1, slug: 'bad', version: '0.1.0', main: 'index.mjs', files: digests })),
    },
    ...(options.extra ?? []),
  ]);
}

describe('gleaner install, konnectors, uninstall', () => {
  test('each bad package is refused with its reason, exit 1, and the data folder is left as it was', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gleaner-packages-'));
    const data = join(work, 'data');
    const cases: [string, Buffer, RegExp][] = [
      ['bad-manifest', rawPackage({ fields: { login: { type: 'phone' } } }), /manifest\.fields\.login\.type: /],
      ['symlink', rawPackage({}, { extra: [{ name: 'package/passwd', type: 'symlink', linkname: '/etc/passwd' }] }), /package\/passwd: a symbolic link/],
      ['dotdot', rawPackage({}, { extra: [{ name: 'package/../escape.mjs', data: Buffer.from('x') }] }), /package\/\.\.\/escape\.mjs: a path that leaves the package/],
      ['digest', rawPackage({}, { wrongDigest: true }), /package\/index\.mjs: its sha256 is not the one in gleaner-package\.json/],
      ['big-manifest', rawPackage({ description: 'x'.repeat(66_000) }), /package\/manifest\.konnector: \d+ bytes, over the limit of 64 KiB/],
      ['big-bundle', rawPackage({}, { bundle: Buffer.alloc(201 * 1024 * 1024, 0x20) }), /the unpacked package is over 200 MiB/],
    ];
    await Promise.all(
      cases.map(async ([name, tgz, reason]) => {
        const file = join(work, `${name}.tgz`);
        writeFileSync(file, tgz);
        const result = await finish(['install', file, '--data', data]);
        assert.equal(result.code, 1, `${name}: ${result.output}`);
        assert.match(result.output, /refused: a bad konnector package/, name);
        assert.match(result.output, reason, `${name}: ${result.output}`);
      }),
    );
    assert.deepEqual(tree(data), [], 'nothing of them in the data folder');
    const missing = await finish(['install', join(work, 'nope.tgz'), '--data', data]);
    assert.equal(missing.code, 2, missing.output);
  });

  test('with gleaner serve running: install, list, a job runs 0.1.0, upgrade to 0.2.0, downgrade needs --force, uninstall refused with the count', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gleaner-packages-'));
    const data = join(work, 'data');
    for (const version of ['0.1.0', '0.2.0']) writeFileSync(join(work, `shop-${version}.tgz`), cliTestPackage('shop', version));
    const serve = gleaner(['serve', '--port', '0', '--grace', '0', '--data', data], {
      cwd: work,
      env: { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD, GLEANER_LOG_LEVEL: 'warn' },
    });
    try {
      const url = /(http:\/\/\S+)/.exec(await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/))![1]!;
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ password: ADMIN_PASSWORD }),
      });
      const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const api = async (path: string, init: { method?: string; json?: unknown } = {}) => {
        const response = await fetch(`${url}${path}`, {
          method: init.method ?? 'GET',
          headers: { cookie, 'x-csrf-token': csrfToken, ...(init.json ? { 'content-type': 'application/json' } : {}) },
          ...(init.json ? { body: JSON.stringify(init.json) } : {}),
        });
        return { status: response.status, body: (await response.json()) };
      };
      const runJob = async (accountId: string) => {
        const started = (await api(`/api/accounts/${accountId}/jobs`, { method: 'POST', json: { mode: 'manual' } })).body as { id: string };
        for (let i = 0; i < 400; i++) {
          const job = (await api(`/api/jobs/${started.id}`)).body as { status: string; konnectorVersion: string | null };
          if (job.status === 'done' || job.status === 'errored') return { ...job, id: started.id };
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error('the job did not end');
      };

      const installed = await finish(['install', join(work, 'shop-0.1.0.tgz'), '--data', data]);
      assert.equal(installed.code, 0, installed.output);
      assert.equal(installed.output, 'installed shop 0.1.0\n');
      const listed = (await api('/api/konnectors')).body as { slug: string; version: string; source: string }[];
      assert.deepEqual(listed.map((k) => [k.slug, k.version, k.source]), [['shop', '0.1.0', 'installed']], 'serve sees it without a restart');

      const account = (await api('/api/accounts', { method: 'POST', json: { konnector: 'shop', fields: { login: 'ada', password: 'pw' } } })).body as { id: string };
      const first = await runJob(account.id);
      assert.deepEqual([first.status, first.konnectorVersion], ['done', '0.1.0']);
      const logs = (await api(`/api/jobs/${first.id}/logs`)).body as { message: string }[];
      assert.ok(logs.some((l) => l.message === 'running version 0.1.0'), JSON.stringify(logs));

      const upgraded = await finish(['install', join(work, 'shop-0.2.0.tgz'), '--data', data]);
      assert.equal(upgraded.output, 'installed shop 0.2.0 (was 0.1.0); the next job runs 0.2.0\n');
      const second = await runJob(account.id);
      assert.deepEqual([second.status, second.konnectorVersion], ['done', '0.2.0']);

      const down = await finish(['install', join(work, 'shop-0.1.0.tgz'), '--data', data]);
      assert.equal(down.code, 1);
      assert.match(down.output, /refused: shop 0\.2\.0 is installed, newer than 0\.1\.0: force to downgrade/);
      const list = await finish(['konnectors', '--data', data]);
      assert.equal(list.code, 0, list.output);
      assert.match(list.output, /^SLUG +VERSION +SOURCE +2FA\nshop +0\.2\.0 +installed +app_code,sms\n$/);

      const forced = await finish(['install', join(work, 'shop-0.1.0.tgz'), '--data', data, '--force']);
      assert.equal(forced.code, 0, forced.output);
      assert.equal((await runJob(account.id)).konnectorVersion, '0.1.0');

      const refused = await finish(['uninstall', 'shop', '--data', data]);
      assert.equal(refused.code, 1, refused.output);
      assert.match(refused.output, /refused: konnector shop is used by 1 account\(s\)/);
      assert.equal(((await api('/api/konnectors')).body as unknown[]).length, 1, 'still there');
      const removed = await finish(['uninstall', 'shop', '--data', data, '--force']);
      assert.equal(removed.code, 0, removed.output);
      assert.match(removed.output, /uninstalled shop 0\.1\.0 \(1 account\(s\) still name it\)/);
      assert.deepEqual((await api('/api/konnectors')).body, []);
    } finally {
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exit, 0, serve.output());
    }
    // After serve stopped, a stack started again sees the same folder: nothing installed.
    assert.match((await finish(['konnectors', '--data', data])).output, /no konnector installed/);
  });

  test('installers in separate processes at once take turns: every package lands whole', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gleaner-packages-'));
    const data = join(work, 'data');
    const slugs = ['one', 'two', 'three', 'four'];
    for (const slug of slugs) writeFileSync(join(work, `${slug}.tgz`), cliTestPackage(slug, '1.0.0'));
    const results = await Promise.all(slugs.map((slug) => finish(['install', join(work, `${slug}.tgz`), '--data', data])));
    for (const result of results) assert.equal(result.code, 0, result.output);
    const list = await finish(['konnectors', '--data', data]);
    for (const slug of slugs) assert.match(list.output, new RegExp(`^${slug} +1\\.0\\.0 +installed`, 'm'));
    assert.deepEqual(readdirSync(join(data, 'konnectors')).sort(), ['four', 'one', 'three', 'two'], 'no lock or unpacking left');
  });

  test('gleaner konnectors shows what a restarted stack keeps, and a refused konnector with its reason', async () => {
    const work = mkdtempSync(join(tmpdir(), 'gleaner-packages-'));
    const data = join(work, 'data');
    writeFileSync(join(work, 'a.tgz'), cliTestPackage('alpha', '1.0.0'));
    writeFileSync(join(work, 'b.tgz'), cliTestPackage('beta', '2.0.0'));
    assert.equal((await finish(['install', join(work, 'a.tgz'), '--data', data])).code, 0);
    assert.equal((await finish(['install', join(work, 'b.tgz'), '--data', data])).code, 0);
    // Someone swaps beta's bundle for a link out of its folder: the registry refuses it when it loads.
    const main = join(data, 'konnectors/beta/2.0.0/index.mjs');
    writeFileSync(join(work, 'elsewhere.mjs'), 'export {};\n');
    const { rmSync } = await import('node:fs');
    rmSync(main);
    symlinkSync(join(work, 'elsewhere.mjs'), main);
    const list = await finish(['konnectors', '--data', data]);
    assert.equal(list.code, 0, list.output);
    assert.match(list.output, /^alpha +1\.0\.0 +installed +app_code,sms$/m);
    assert.doesNotMatch(list.output, /^beta /m);
    assert.match(list.output, /refused beta \(installed, .*konnectors\/beta\/2\.0\.0\):\n {2}main: index\.mjs is a symbolic link\n/);
  });
});
