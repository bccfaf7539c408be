import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gleaner } from './support/cli.js';

function konnectorFolder(manifest: unknown, main = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-bad-'));
  if (manifest !== undefined) {
    writeFileSync(join(dir, 'manifest.konnector'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  }
  if (main) {
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'dist', 'index.js'), '');
  }
  return dir;
}

const good = {
  slug: 'sample',
  name: 'Sample',
  version: '1.0.0',
  main: 'dist/index.js',
  fields: { login: { type: 'text' }, password: { type: 'password' } },
};

describe('gleaner run refuses bad input with a clear message and exit code 2', () => {
  const cases: Array<[string, () => string[], RegExp]> = [
    ['a missing folder', () => ['run', '/nonexistent/konnector'], /^gleaner run: <konnector-folder>: no such folder: \/nonexistent\/konnector\n/],
    ['a folder without manifest', () => ['run', konnectorFolder(undefined)], /has no manifest\.konnector/],
    ['a manifest that is not JSON', () => ['run', konnectorFolder('{ nope')], /manifest\.konnector is not valid JSON/],
    [
      'an invalid manifest, naming the field',
      () => ['run', konnectorFolder({ ...good, fields: { login: { type: 'checkbox' } } })],
      /fields\.login\.type: /,
    ],
    ['a manifest without a slug', () => ['run', konnectorFolder({ ...good, slug: undefined })], /slug: /],
    ['a missing main file', () => ['run', konnectorFolder(good, false)], /main file dist\/index\.js not found/],
    [
      'a required field missing (no terminal to ask)',
      () => ['run', konnectorFolder(good), '--field', 'login=someone'],
      /missing required field "password"/,
    ],
    ['an unknown option', () => ['run', konnectorFolder(good), '--frobnicate'], /^gleaner run: unknown option '--frobnicate'\n\ngleaner run <konnector-folder>/],
    ['an unknown command', () => ['frobnicate'], /^gleaner: unknown command 'frobnicate'\n/],
  ];
  for (const [what, args, message] of cases) {
    test(what, async () => {
      const session = gleaner(args());
      session.child.stdin.end();
      assert.equal(await session.exit, 2);
      assert.match(session.output(), message);
      assert.doesNotMatch(session.output(), /\n\s+at /, 'no stack trace');
    });
  }
});
