import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot } from './support/cli.js';

type Packed = { name: string; version: string; files: Array<{ path: string }> };

/** `npm pack --dry-run --json` of one package: what its tarball would hold. */
function dryRun(name: string): Promise<Packed> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['pack', '--dry-run', '--json'], { cwd: join(repoRoot, 'packages', name) });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`npm pack --dry-run in packages/${name} exited ${code}: ${err}`));
      else resolve((JSON.parse(out) as Packed[])[0]!);
    });
  });
}

const LIBRARIES = ['contracts', 'konnector', 'sites', 'stack', 'cli'];
// Besides dist/src: the cli's committed bin and the SDK's manifest JSON Schema, when they exist.
const TOP_LEVEL = new Set(['package.json', 'README.md', 'bin/gleaner.js', 'manifest.schema.json']);

describe('what npm pack puts in each @gleaner package', { concurrency: true }, () => {
  for (const name of LIBRARIES) {
    test(`@gleaner/${name} ships its built dist/src (JavaScript and declarations), no tests, no maps, no sources`, async () => {
      const packed = await dryRun(name);
      const paths = packed.files.map((f) => f.path);
      const built = paths.filter((p) => p.startsWith('dist/'));
      assert.ok(built.length > 0, 'built files ship');
      assert.deepEqual(
        built.filter((p) => !/^dist\/src\/.+\.(js|d\.ts)$/.test(p)),
        [],
        'only dist/src/*.js and *.d.ts',
      );
      const others = paths.filter((p) => !p.startsWith('dist/') && !p.startsWith('templates/'));
      assert.deepEqual(
        others.filter((p) => !TOP_LEVEL.has(p)),
        [],
        'nothing else at the top',
      );
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'packages', name, 'package.json'), 'utf8')) as {
        private?: boolean;
        exports: Record<string, string | { types: string; default: string }>;
        dependencies?: Record<string, string>;
      };
      assert.equal(pkg.private, undefined);
      for (const [path, target] of Object.entries(pkg.exports)) {
        if (typeof target === 'string') {
          assert.ok(paths.includes(target.slice(2)), `export ${path} → ${target} ships`);
          continue;
        }
        assert.ok(paths.includes(target.default.slice(2)), `export ${path} → ${target.default} ships`);
        assert.ok(paths.includes(target.types.slice(2)), `export ${path}'s types ${target.types} ship`);
      }
      for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
        if (dep.startsWith('@gleaner/')) assert.equal(range, packed.version, `${dep} is pinned to ${packed.version}`);
      }
    });
  }

  test('@gleaner/cli ships the konnector template, gitignore and icon included', async () => {
    const paths = (await dryRun('cli')).files.map((f) => f.path);
    for (const file of [
      'manifest.konnector',
      'package.json',
      'README.md',
      'gitignore',
      'icon.svg',
      'tsconfig.json',
      'src/index.ts',
      'src/konnector.ts',
      'test/konnector.test.ts',
    ]) {
      assert.ok(paths.includes(`templates/konnector/${file}`), `templates/konnector/${file} ships`);
    }
    assert.ok(paths.includes('dist/src/main.js'), 'the gleaner bin ships');
  });

  test('@gleaner/home ships only its built page and assets, and no dependencies', async () => {
    const paths = (await dryRun('home')).files.map((f) => f.path).sort();
    assert.ok(paths.includes('dist/index.html'), 'Home is built (npm run build -w packages/home)');
    assert.deepEqual(
      paths.filter(
        (p) => p !== 'package.json' && p !== 'README.md' && !/^dist\/(index\.html|assets\/[\w.-]+\.(js|css))$/.test(p),
      ),
      [],
    );
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'packages', 'home', 'package.json'), 'utf8')) as {
      dependencies?: unknown;
    };
    assert.equal(pkg.dependencies, undefined, 'react and the rest are bundled: devDependencies');
  });
});
