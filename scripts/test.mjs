#!/usr/bin/env node
// The whole test suite: provisions what the tests need from the system, builds, checks, runs every
// test file by explicit path (a glob that matches nothing must fail, not pass with zero tests).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const step = (what) => process.stderr.write(`\n== ${what}\n`);
const run = (cmd, args, opts = {}) => {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (result.status !== 0) {
    process.stderr.write(`\nfailed: ${cmd} ${args.join(' ')}\n`);
    process.exit(result.status ?? 1);
  }
};

function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'missing: Debian chromium (/usr/bin/chromium). Install it: sudo apt-get install -y chromium\n',
    );
    process.exit(1);
  }
  step('installing chromium (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-qq', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// Every job runs under bubblewrap: the sandbox and attack tests need the real one (0.8 or later).
function ensureBubblewrap() {
  if (existsSync('/usr/bin/bwrap')) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write('missing: bubblewrap (/usr/bin/bwrap). Install it: sudo apt-get install -y bubblewrap\n');
    process.exit(1);
  }
  step('installing bubblewrap (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-q', 'bubblewrap'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (/\.test\.m?js$/.test(name)) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
if (!process.env.GLEANER_SKIP_PROVISION) {
  ensureChromium();
  ensureBubblewrap();
}
if (!process.env.GLEANER_SKIP_BUILD) {
  step('build');
  run('npm', ['run', 'build']);
  step('lint and dependency direction');
  run('npm', ['run', 'lint']);
}

const testRoots = [];
for (const group of ['packages', 'konnectors']) {
  for (const name of readdirSync(join(root, group))) {
    testRoots.push(join(root, group, name, 'dist', 'test'), join(root, group, name, 'dist-test'));
  }
}
let files = testRoots
  .flatMap((dir) => findTests(dir))
  .map((f) => relative(root, f))
  .sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  process.stderr.write('no test files found: did the build run?\n');
  process.exit(1);
}
step(`running ${files.length} test files`);
// A test that hangs fails after 4 minutes, naming itself, instead of eating CI's time.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=240000', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, NODE_ENV: 'test' },
});
process.exit(result.status ?? 1);
