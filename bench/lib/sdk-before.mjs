import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './paths.mjs';
import { progress } from './progress.mjs';

/**
 * The SDK as it was before the capacity work (issue 14): the commit the `capacity` branch started
 * from. Figure 4 runs the same konnector script against it and against the SDK built in this
 * checkout, in the same bench run, so that "before" and "after" share one machine and one load.
 */
export const BEFORE_COMMIT = 'b8794a568aeac8fd4a5bf8ea7e8b3d9f373043dc';

/**
 * Extracts `commit`'s contracts and konnector packages and its bench script into a temp folder
 * (git archive: the checkout and its worktrees are left alone), links this checkout's node_modules
 * beside them with `@gleaner/*` pointing at the extracted packages, and builds them with this
 * checkout's TypeScript. Cached per commit. Returns the path of that commit's Gleaner whole-run script.
 */
export function sdkBefore(commit = BEFORE_COMMIT) {
  const dir = join(tmpdir(), `gleaner-bench-sdk-${commit.slice(0, 12)}`);
  const script = join(dir, 'bench', 'gleaner', 'whole-run.mjs');
  const done = join(dir, '.built');
  if (existsSync(done)) {
    // The build is cached; the links are made again, since this checkout's node_modules may have
    // changed its layout since (a package hoisted or moved by an install).
    linkModules(dir);
    return script;
  }
  progress(`[bench] building the SDK of ${commit.slice(0, 12)} into ${dir} (once)…`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync(
    'git',
    ['-C', REPO_DIR, 'archive', '--format=tar', commit, 'tsconfig.base.json', 'packages/contracts', 'packages/konnector', 'bench/gleaner/whole-run.mjs'],
    { maxBuffer: 256 << 20 },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });

  linkModules(dir);

  // The SDK's sources only: its tests import the fake sites, which a run does not need.
  for (const pkg of ['contracts', 'konnector']) {
    writeFileSync(
      join(dir, 'packages', pkg, 'tsconfig.bench.json'),
      JSON.stringify({
        extends: '../../tsconfig.base.json',
        compilerOptions: { rootDir: '.', outDir: 'dist', composite: false, incremental: false, declaration: pkg === 'contracts', declarationMap: false, sourceMap: false },
        include: ['src'],
      }),
    );
  }
  const tsc = join(REPO_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
  for (const pkg of ['contracts', 'konnector']) {
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'packages', pkg, 'tsconfig.bench.json')], { cwd: dir, stdio: 'inherit' });
  }
  writeFileSync(done, `${commit}\n`);
  return script;
}

/** This checkout's node_modules, linked beside the extracted packages, with `@gleaner/*` pointing at them. */
function linkModules(dir) {
  const modules = join(dir, 'node_modules');
  rmSync(modules, { recursive: true, force: true });
  mkdirSync(join(modules, '@gleaner'), { recursive: true });
  for (const name of readdirSync(join(REPO_DIR, 'node_modules'))) {
    if (name === '@gleaner' || name === '.bin' || name.startsWith('.')) continue;
    symlinkSync(join(REPO_DIR, 'node_modules', name), join(modules, name));
  }
  for (const pkg of ['contracts', 'konnector']) symlinkSync(join(dir, 'packages', pkg), join(modules, '@gleaner', pkg));
}
