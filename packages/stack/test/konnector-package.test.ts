import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  PackageError,
  readKonnectorPackage,
  writeKonnectorPackage,
  writeTarGz,
  type TarEntry,
} from '../src/registry/index.js';

const manifest = {
  slug: 'shop',
  name: 'Shop',
  version: '0.1.0',
  main: 'src/index.ts',
  twofa: ['sms'],
  fields: { login: { type: 'text' }, password: { type: 'password' } },
};
const bundle = 'export {};\n';
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** The entries of a good package, to spoil one at a time. */
function goodEntries(overrides: { manifest?: unknown; files?: Record<string, Buffer | string> } = {}): TarEntry[] {
  const files: Record<string, Buffer | string> = {
    'manifest.konnector':
      typeof overrides.manifest === 'string' ? overrides.manifest : JSON.stringify(overrides.manifest ?? { ...manifest, main: 'index.mjs' }),
    'index.mjs': bundle,
    ...overrides.files,
  };
  const info = {
    format: 1,
    slug: 'shop',
    version: '0.1.0',
    main: 'index.mjs',
    files: Object.fromEntries(Object.entries(files).map(([path, data]) => [path, sha256(data)])),
  };
  return [
    { name: 'package/', type: 'directory' },
    ...Object.entries(files).map(([path, data]) => ({ name: `package/${path}`, data: Buffer.from(data) })),
    { name: 'package/gleaner-package.json', data: Buffer.from(JSON.stringify(info)) },
  ];
}

/** Asserts that the package is refused with a problem at `path` whose message matches. */
function refused(tgz: Buffer, path: string, message: RegExp): void {
  assert.throws(
    () => readKonnectorPackage(tgz),
    (error: unknown) => {
      assert.ok(error instanceof PackageError, String(error));
      assert.ok(
        error.problems.some((p) => p.path === path && message.test(p.message)),
        `expected ${path}: ${message} in ${JSON.stringify(error.problems)}`,
      );
      return true;
    },
  );
}

describe('konnector package', () => {
  it('writes a package that reads back whole, with main index.mjs and the digests of every file', () => {
    const icon = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>');
    const tgz = writeKonnectorPackage({ manifest, bundle, icon: { name: 'icon.svg', data: icon }, readme: '# Shop\n' });
    const pkg = readKonnectorPackage(tgz);
    assert.equal(pkg.manifest.slug, 'shop');
    assert.equal(pkg.manifest.main, 'index.mjs');
    assert.equal(pkg.manifest.icon, 'icon.svg');
    assert.deepEqual([...pkg.files.keys()].sort(), ['README.md', 'gleaner-package.json', 'icon.svg', 'index.mjs', 'manifest.konnector']);
    assert.equal(pkg.files.get('index.mjs')?.toString(), bundle);
    assert.equal(pkg.info.files['index.mjs'], sha256(bundle));
    assert.equal(pkg.sha256, sha256(tgz));
  });

  it('writes the same bytes for the same input, and a tar that GNU tar lists as plain files under package/', () => {
    const a = writeKonnectorPackage({ manifest, bundle });
    const b = writeKonnectorPackage({ manifest, bundle });
    assert.ok(a.equals(b));
    const dir = mkdtempSync(join(tmpdir(), 'gleaner-package-'));
    writeFileSync(join(dir, 'shop-0.1.0.tgz'), a);
    const listed = spawnSync('tar', ['tzf', join(dir, 'shop-0.1.0.tgz')], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), [
      'package/',
      'package/gleaner-package.json',
      'package/index.mjs',
      'package/manifest.konnector',
    ]);
  });

  it('reads a package GNU tar made from an unpacked one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gleaner-package-'));
    writeFileSync(join(dir, 'p.tgz'), writeKonnectorPackage({ manifest, bundle }));
    assert.equal(spawnSync('tar', ['xzf', 'p.tgz'], { cwd: dir }).status, 0);
    assert.equal(spawnSync('tar', ['czf', 'q.tgz', 'package'], { cwd: dir }).status, 0);
    assert.equal(readKonnectorPackage(readFileSync(join(dir, 'q.tgz'))).manifest.slug, 'shop');
  });

  it('the writer refuses a bad manifest, naming the field', () => {
    assert.throws(
      () => writeKonnectorPackage({ manifest: { ...manifest, fields: { login: { type: 'phone' } } }, bundle }),
      (e: unknown) => e instanceof PackageError && e.problems.some((p) => p.path === 'manifest.fields.login.type'),
    );
  });

  it('refuses what is not gzip, and gzip that is not tar', () => {
    refused(Buffer.from('hello'), '(archive)', /not a gzip file/);
    refused(gzipSync(Buffer.alloc(2048, 'x')), '(archive)', /not a ustar archive/);
    refused(gzipSync(Buffer.alloc(0)), '(archive)', /truncated/);
  });

  it('refuses a .tgz over 50 MiB before unpacking it', () => {
    const big = Buffer.alloc(50 * 1024 * 1024 + 1);
    big[0] = 0x1f;
    big[1] = 0x8b;
    refused(big, '(archive)', /over the limit of 50 MiB/);
  });

  it('refuses symbolic links, hard links, devices, FIFOs and pax headers', () => {
    for (const [type, message] of [
      ['symlink', /symbolic link/],
      ['hardlink', /hard link/],
      ['char-device', /character device/],
      ['fifo', /FIFO/],
      ['pax', /pax/],
    ] as const) {
      const entries = goodEntries();
      entries.push({ name: 'package/evil', type, linkname: '/etc/passwd' });
      refused(writeTarGz(entries), 'package/evil', message);
    }
  });

  it('refuses an absolute path, a ../ path, a path outside package/ and a duplicate', () => {
    refused(writeTarGz([...goodEntries(), { name: '/etc/cron.d/x', data: Buffer.from('x') }]), '/etc/cron.d/x', /absolute/);
    refused(writeTarGz([...goodEntries(), { name: 'package/../../x', data: Buffer.from('x') }]), 'package/../../x', /leaves the package/);
    refused(writeTarGz([...goodEntries(), { name: 'other/x', data: Buffer.from('x') }]), 'other/x', /outside package\//);
    refused(writeTarGz([...goodEntries(), { name: 'package/./x', data: Buffer.from('x') }]), 'package/./x', /"\."/);
    const entries = goodEntries();
    entries.push({ name: 'package/index.mjs', data: Buffer.from(bundle) });
    refused(writeTarGz(entries), 'package/index.mjs', /duplicate/);
  });

  it('refuses a wrong digest, a file not listed, and a listed file that is missing', () => {
    const wrong = goodEntries();
    wrong[2] = { name: 'package/index.mjs', data: Buffer.from('export const evil = 1;\n') };
    refused(writeTarGz(wrong), 'package/index.mjs', /sha256 is not the one/);
    refused(writeTarGz([...goodEntries(), { name: 'package/extra.js', data: Buffer.from('x') }]), 'package/extra.js', /not listed/);
    const missing = goodEntries().filter((e) => e.name !== 'package/index.mjs');
    refused(writeTarGz(missing), 'package/index.mjs', /missing/);
    const info = goodEntries({ files: { 'README.md': 'x' } }).filter((e) => e.name !== 'package/README.md');
    refused(writeTarGz(info), 'package/README.md', /listed in gleaner-package.json but not in the package/);
    const noInfo = goodEntries().filter((e) => e.name !== 'package/gleaner-package.json');
    refused(writeTarGz(noInfo), 'package/gleaner-package.json', /missing/);
  });

  it('refuses a bad manifest with the field named, and a main other than index.mjs', () => {
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', fields: { login: { type: 'phone' } } } })), 'manifest.fields.login.type', /./);
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', slug: 'Shop!' } })), 'manifest.slug', /lowercase/);
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'src/index.js' } })), 'manifest.main', /index\.mjs/);
    refused(writeTarGz(goodEntries({ manifest: '{ not json' })), 'package/manifest.konnector', /not valid JSON/);
  });

  it('refuses a manifest over 64 KiB from its header, and over 64 fields', () => {
    const padded = { ...manifest, main: 'index.mjs', description: 'x'.repeat(65 * 1024) };
    refused(writeTarGz(goodEntries({ manifest: padded })), 'package/manifest.konnector', /over the limit of 64 KiB/);
    const fields = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, { type: 'text' }]));
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', fields } })), 'manifest.fields', /at most 64 fields/);
  });

  it('refuses an icon over 256 KiB, and an icon the manifest names but the package lacks', () => {
    const icon = Buffer.alloc(257 * 1024, 1);
    refused(
      writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', icon: 'icon.png' }, files: { 'icon.png': icon } })),
      'package/icon.png',
      /over the limit of 256 KiB/,
    );
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', icon: 'icon.png' } })), 'manifest.icon', /not in the package/);
    refused(writeTarGz(goodEntries({ manifest: { ...manifest, main: 'index.mjs', icon: 'logo.gif' } })), 'manifest.icon', /\.svg or \.png/);
  });

  it('refuses a header whose size is beyond the archive, and a bundle that makes it over 200 MiB unpacked', () => {
    const lying = goodEntries();
    lying.push({ name: 'package/huge.bin', data: Buffer.alloc(10), size: 100 * 1024 * 1024 });
    refused(writeTarGz(lying), 'package/huge.bin', /archive ends inside this entry/);
    const claims = goodEntries();
    claims.push({ name: 'package/huge.bin', data: Buffer.alloc(10), size: 201 * 1024 * 1024 });
    refused(writeTarGz(claims), 'package/huge.bin', /over 200 MiB/);
    const real = goodEntries({ files: { 'index.mjs': Buffer.alloc(201 * 1024 * 1024, 0x20) } });
    refused(writeTarGz(real), '(archive)', /over 200 MiB/);
  });

  it('refuses more than 1000 entries', () => {
    const entries = goodEntries();
    for (let i = 0; i < 1000; i++) entries.push({ name: `package/d${i}/`, type: 'directory' });
    refused(writeTarGz(entries), '(archive)', /more than 1000 entries/);
  });
});
