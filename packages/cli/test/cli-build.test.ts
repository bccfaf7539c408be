import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readKonnectorPackage } from '@gleaner/stack';
import { startTestSite, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { gleaner, repoRoot } from './support/cli.js';

// One scaffold, built once; the bundle then runs from a folder with nothing else in it.
describe('gleaner build and gleaner pack', { concurrency: true }, () => {
  let site: RunningSite;
  let konnector: string;
  let built: Promise<string>;

  before(async () => {
    site = await startTestSite();
    konnector = join(mkdtempSync(join(tmpdir(), 'gleaner-build-')), 'bundled-site');
    const made = gleaner(['new', 'Bundled Site', '--dir', konnector]);
    assert.equal(await made.exit, 0, made.output());
    // Outside the repository the SDK comes from npm; here, from the workspace.
    symlinkSync(join(repoRoot, 'node_modules'), join(konnector, 'node_modules'));
    const build = gleaner(['build', konnector]);
    built = build.exit.then((code) => {
      assert.equal(code, 0, build.output());
      return build.output();
    });
  });
  after(() => site.close());

  test('writes one ESM file whose printed size and sha256 are those on disk, importing only node: built-ins', async () => {
    const output = await built;
    const bundle = readFileSync(join(konnector, 'build', 'index.mjs'));
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    assert.match(output, new RegExp(`built .*build/index\\.mjs: .*\\(${bundle.byteLength} bytes\\), sha256 ${sha256}`));
    const source = bundle.toString('utf8');
    const imported = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    assert.ok(imported.length > 0);
    assert.deepEqual(
      imported.filter((spec) => !spec?.startsWith('node:')),
      [],
      'only node: built-ins are imported',
    );
    assert.ok(
      !source.includes('createRequire(import.meta.url)("tough-cookie")'),
      'tough-cookie is bundled, not required at run time',
    );
  });

  test('the bundle runs from a folder with no node_modules: 2FA code typed, every bill saved', async () => {
    await built;
    const alone = mkdtempSync(join(tmpdir(), 'gleaner-bundle-alone-'));
    copyFileSync(join(konnector, 'build', 'index.mjs'), join(alone, 'index.mjs'));
    const manifest = JSON.parse(readFileSync(join(konnector, 'manifest.konnector'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(alone, 'manifest.konnector'), JSON.stringify({ ...manifest, main: 'index.mjs' }));
    const dataDir = join(alone, 'data');
    mkdirSync(dataDir);
    const { login, password } = TEST_SITE_USERS.alice;
    const run = gleaner([
      'run',
      alone,
      '--data',
      dataDir,
      '--field',
      `login=${login}`,
      '--field',
      `password=${password}`,
      '--field',
      `baseUrl=${site.url}`,
    ]);
    await run.waitFor(/Enter the code sent to you by SMS/);
    run.type(`${site.control.lastCode(login)}\n`);
    await run.waitFor(/run succeeded: 5 new file\(s\), 5 in all/);
    assert.equal(await run.exit, 0, run.output());
  });

  test('a konnector importing a package that is not installed is refused, naming the package and the file', async () => {
    const broken = mkdtempSync(join(tmpdir(), 'gleaner-build-broken-'));
    mkdirSync(join(broken, 'src'));
    writeFileSync(join(broken, 'src', 'index.ts'), "import 'no-such-package-anywhere';\n");
    const manifest = JSON.parse(readFileSync(join(konnector, 'manifest.konnector'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(broken, 'manifest.konnector'), JSON.stringify(manifest));
    const build = gleaner(['build', broken]);
    assert.equal(await build.exit, 1);
    assert.match(build.output(), /src\/index\.ts:1:\d+: Could not resolve "no-such-package-anywhere"/);
  });

  test('gleaner pack writes <slug>-<version>.tgz with the manifest, the bundle, the icon and the README, which the stack reads back', async () => {
    await built;
    const out = mkdtempSync(join(tmpdir(), 'gleaner-pack-'));
    const pack = gleaner(['pack', konnector, '--out', out]);
    assert.equal(await pack.exit, 0, pack.output());
    const file = join(out, 'bundled-site-0.1.0.tgz');
    const tgz = readFileSync(file);
    const read = readKonnectorPackage(tgz);
    assert.deepEqual([...read.files.keys()].sort(), [
      'README.md',
      'gleaner-package.json',
      'icon.svg',
      'index.mjs',
      'manifest.konnector',
    ]);
    assert.equal(read.manifest.main, 'index.mjs');
    assert.equal(read.manifest.icon, 'icon.svg');
    assert.deepEqual(read.files.get('icon.svg'), readFileSync(join(konnector, 'icon.svg')));
    const bundleSha = createHash('sha256').update(read.files.get('index.mjs')!).digest('hex');
    assert.equal(read.info.files['index.mjs'], bundleSha);
    assert.match(
      pack.output(),
      new RegExp(
        `packed ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*\\(${tgz.byteLength} bytes\\); bundle .*sha256 ${bundleSha}`,
      ),
    );
  });

  test('gleaner pack refuses a manifest whose icon is missing, naming it', async () => {
    await built;
    const folder = mkdtempSync(join(tmpdir(), 'gleaner-pack-noicon-'));
    copyFileSync(join(konnector, 'build', 'index.mjs'), join(folder, 'index.mjs'));
    const manifest = JSON.parse(readFileSync(join(konnector, 'manifest.konnector'), 'utf8')) as Record<string, unknown>;
    writeFileSync(
      join(folder, 'manifest.konnector'),
      JSON.stringify({ ...manifest, main: 'index.mjs', icon: 'logo.svg' }),
    );
    const pack = gleaner(['pack', folder, '--out', folder]);
    assert.equal(await pack.exit, 2);
    assert.match(pack.output(), /the manifest's icon logo\.svg does not exist/);
  });

  test('gleaner install <folder> builds and packs it, then installs it as gleaner pack would have made it', async () => {
    await built;
    const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-install-folder-'));
    const install = gleaner(['install', konnector, '--data', dataDir]);
    assert.equal(await install.exit, 0, install.output());
    assert.match(install.output(), /installed bundled-site 0\.1\.0/);
    const installed = join(dataDir, 'konnectors', 'bundled-site', '0.1.0');
    assert.equal(readFileSync(join(dataDir, 'konnectors', 'bundled-site', 'current'), 'utf8').trim(), '0.1.0');
    assert.deepEqual(readFileSync(join(installed, 'index.mjs')), readFileSync(join(konnector, 'build', 'index.mjs')));
    const missing = gleaner(['install', join(konnector, 'no-such-thing'), '--data', dataDir]);
    assert.equal(await missing.exit, 2);
    assert.match(missing.output(), /no-such-thing: no such file or folder/);
  });
});
