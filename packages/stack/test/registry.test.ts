import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KonnectorRegistry, ManifestError } from '../src/registry/index.js';

function konnector(root: string, name: string, manifest: unknown, main = 'index.js'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.konnector'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  writeFileSync(join(dir, main), 'export {};\n');
  return dir;
}

const good = (slug: string) => ({
  slug,
  name: slug,
  version: '1.0.0',
  main: 'index.js',
  fields: { login: { type: 'text' }, password: { type: 'password' } },
});

describe('konnector registry', () => {
  it('loads a konnector folder and exposes its info', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const dir = konnector(root, 'shop', { ...good('shop'), twofa: ['sms'] });
    const registry = KonnectorRegistry.load([dir]);
    const shop = registry.get('shop');
    assert.equal(shop?.dir, dir);
    assert.deepEqual(shop?.info.twofa, ['sms']);
    assert.equal(shop?.info.fields.password?.type, 'password');
  });

  it('refuses a bad konnector named explicitly, with the exact path of the problem', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const dir = konnector(root, 'bad', { ...good('bad'), fields: { login: { type: 'phone' } } });
    assert.throws(
      () => KonnectorRegistry.load([dir]),
      (error: unknown) => error instanceof ManifestError && error.problems.some((p) => p.path === 'fields.login.type'),
    );
  });

  it('refuses a manifest whose main file does not exist, and one that is not JSON', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const missing = konnector(root, 'missing', { ...good('missing'), main: 'nope.js' });
    assert.throws(
      () => KonnectorRegistry.load([missing]),
      (e: unknown) => e instanceof ManifestError && e.problems[0]?.path === 'main',
    );
    const broken = konnector(root, 'broken', '{ not json');
    assert.throws(
      () => KonnectorRegistry.load([broken]),
      (e: unknown) => e instanceof ManifestError && e.problems[0]?.path === '(root)',
    );
  });

  it('in a folder of konnectors, loads the good ones and reports the bad one (nothing half-loads)', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    konnector(root, 'a-good', good('a-good'));
    konnector(root, 'b-bad', { ...good('b-bad'), version: 'one' });
    konnector(root, 'c-good', good('c-good'));
    const registry = KonnectorRegistry.load([root]);
    assert.deepEqual(
      registry.list().map((k) => k.manifest.slug),
      ['a-good', 'c-good'],
    );
    assert.equal(registry.get('b-bad'), undefined);
    assert.equal(registry.problems.length, 1);
    assert.equal(registry.problems[0]?.dir, join(root, 'b-bad'));
    assert.equal(registry.problems[0]?.problems[0]?.path, 'version');
  });

  it('refuses a slug installed twice', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const one = konnector(root, 'one', good('same'));
    const two = konnector(root, 'two', good('same'));
    assert.throws(
      () => KonnectorRegistry.load([one, two]),
      (e: unknown) => e instanceof ManifestError && e.problems[0]?.path === 'slug',
    );
  });

  it("field defaults of this installation replace the manifest's; an unknown konnector or field is refused", () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const manifest = good('site');
    const dir = konnector(root, 'site', {
      ...manifest,
      fields: { ...manifest.fields, baseUrl: { type: 'url', required: false, default: 'http://127.0.0.1:8080/site' } },
    });
    const registry = KonnectorRegistry.load([dir], {
      fieldDefaults: { site: { baseUrl: 'http://127.0.0.1:9999/site' } },
    });
    assert.equal(registry.get('site')?.manifest.fields.baseUrl?.default, 'http://127.0.0.1:9999/site');
    assert.equal(registry.get('site')?.info.fields.baseUrl?.default, 'http://127.0.0.1:9999/site', 'Home sees it too');
    assert.throws(
      () => KonnectorRegistry.load([dir], { fieldDefaults: { nope: { baseUrl: 'x' } } }),
      /no konnector "nope"/,
    );
    assert.throws(
      () => KonnectorRegistry.load([dir], { fieldDefaults: { site: { other: 'x' } } }),
      /has no field "other"/,
    );
  });
});

describe('konnector registry: bounded manifests and files that stay inside', () => {
  it('refuses a manifest over 64 KiB before reading it, and one with more than 64 fields', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const big = konnector(root, 'big', { ...good('big'), description: 'x'.repeat(65 * 1024) });
    assert.throws(
      () => KonnectorRegistry.load([big]),
      (e: unknown) => e instanceof ManifestError && /over the limit of 64 KiB/.test(e.problems[0]?.message ?? ''),
    );
    const fields = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`f${i}`, { type: 'text' }]));
    const many = konnector(root, 'many', { ...good('many'), fields });
    assert.throws(
      () => KonnectorRegistry.load([many]),
      (e: unknown) => e instanceof ManifestError && e.problems.some((p) => p.path === 'fields' && /at most 64/.test(p.message)),
    );
  });

  it('refuses a main that is a symlink, that sits behind a symlinked folder, or that leaves the folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const outside = join(root, 'outside.js');
    writeFileSync(outside, 'export {};\n');
    const linked = konnector(root, 'linked', { ...good('linked'), main: 'link.js' });
    symlinkSync(outside, join(linked, 'link.js'));
    const parent = konnector(root, 'parent', { ...good('parent'), main: 'lib/index.js' });
    symlinkSync(root, join(parent, 'lib'));
    writeFileSync(join(root, 'index.js'), 'export {};\n');
    const leaves = konnector(root, 'leaves', { ...good('leaves'), main: '../outside.js' });
    for (const [dir, message] of [
      [linked, /link\.js is a symbolic link/],
      [parent, /lib is a symbolic link/],
      [leaves, /must stay inside the konnector folder/],
    ] as const) {
      assert.throws(
        () => KonnectorRegistry.load([dir]),
        (e: unknown) => e instanceof ManifestError && e.problems[0]?.path === 'main' && message.test(e.problems[0].message),
        dir,
      );
    }
    // In a folder of konnectors, the refused ones are reported with their reason, the good ones load.
    konnector(root, 'fine', good('fine'));
    const registry = KonnectorRegistry.load([root]);
    assert.deepEqual(registry.list().map((k) => k.manifest.slug), ['fine']);
    assert.deepEqual(
      registry.problems.map((p) => `${p.dir.slice(root.length + 1)} ${p.problems[0]?.path}`).sort(),
      ['leaves main', 'linked main', 'parent main'],
    );
  });

  it('an icon must be a .svg or .png file inside the folder, at most 256 KiB', () => {
    const root = mkdtempSync(join(tmpdir(), 'gleaner-registry-'));
    const ok = konnector(root, 'ok', { ...good('ok'), icon: 'icon.svg' });
    writeFileSync(join(ok, 'icon.svg'), '<svg/>');
    const shown = KonnectorRegistry.load([ok]).get('ok');
    assert.equal(shown?.info.icon, '/api/konnectors/ok/icon');
    assert.equal(shown?.info.source, 'development');
    assert.equal(shown?.trusted, true);
    const big = konnector(root, 'bigicon', { ...good('bigicon'), icon: 'icon.png' });
    writeFileSync(join(big, 'icon.png'), Buffer.alloc(257 * 1024));
    const missing = konnector(root, 'noicon', { ...good('noicon'), icon: 'icon.png' });
    const gif = konnector(root, 'gif', { ...good('gif'), icon: 'icon.gif' });
    for (const [dir, message] of [
      [big, /over the limit of 256 KiB/],
      [missing, /does not exist/],
      [gif, /\.svg or \.png/],
    ] as const) {
      assert.throws(
        () => KonnectorRegistry.load([dir]),
        (e: unknown) => e instanceof ManifestError && e.problems[0]?.path === 'icon' && message.test(e.problems[0].message),
        dir,
      );
    }
  });
});
