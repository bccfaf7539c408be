import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
