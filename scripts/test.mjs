#!/usr/bin/env node
// The whole test suite: provisions what the tests need from the system, builds, checks, runs every
// test file by explicit path (a glob that matches nothing must fail, not pass with zero tests).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

// The mailbox code source's tests start a throwaway Debian dovecot (IMAP) on 127.0.0.1.
function ensureDovecot() {
  if (existsSync('/usr/sbin/dovecot')) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write('missing: dovecot (/usr/sbin/dovecot). Install it: sudo apt-get install -y dovecot-imapd\n');
    process.exit(1);
  }
  step('installing dovecot-imapd (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-q', 'dovecot-imapd'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

// The PostgreSQL adapter's tests start a throwaway Debian PostgreSQL 15 cluster (initdb, pg_ctl).
const POSTGRES_INITDB = '/usr/lib/postgresql/15/bin/initdb';
function ensurePostgres() {
  if (existsSync(POSTGRES_INITDB)) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`missing: PostgreSQL 15 (${POSTGRES_INITDB}). Install it: sudo apt-get install -y postgresql\n`);
    process.exit(1);
  }
  step('installing PostgreSQL (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-q', 'postgresql'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync(POSTGRES_INITDB)) {
    process.stderr.write(
      `apt-get installed postgresql, but not version 15 (${POSTGRES_INITDB} is missing). Install it: apt-get install -y postgresql-15\n`,
    );
    process.exit(1);
  }
}

// The cluster test puts each node in a network namespace of its own: iproute2's `ip`, and root.
const IP_PATHS = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];
function ensureIproute2() {
  if (IP_PATHS.some((path) => existsSync(path))) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write('missing: iproute2 (the ip command, /usr/sbin/ip). Install it: sudo apt-get install -y iproute2\n');
    process.exit(1);
  }
  step('installing iproute2 (apt-get)');
  run('apt-get', ['update', '-qq']);
  run('apt-get', ['install', '-y', '-q', 'iproute2'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
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
  ensurePostgres();
  ensureIproute2();
  ensureDovecot();
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
// A file whose first line is `// gleaner-test: long` (one long end-to-end test) runs in a process of
// its own, beside the others, with a longer limit; its report is printed when it ends.
const LONG_MARK = '// gleaner-test: long';
const isLong = (file) => readFileSync(join(root, file), 'utf8').startsWith(LONG_MARK);
const long = files.filter(isLong);
const rest = files.filter((file) => !isLong(file));
const testEnv = { ...process.env, NODE_ENV: 'test' };
/** Runs node's test runner; `capture`: keep its report for later, else show it as it comes (and keep it too). */
const runTests = (args, capture) =>
  new Promise((done) => {
    const child = spawn(process.execPath, ['--test', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
      env: testEnv,
    });
    let output = '';
    const take = (sink) => (chunk) => {
      output += chunk;
      if (!capture) sink.write(chunk);
    };
    child.stdout.on('data', take(process.stdout));
    child.stderr.on('data', take(process.stderr));
    child.on('close', (code) => done({ code: code ?? 1, output }));
  });
/** The last `# tests/pass/fail N` of a report (0 where there is none). */
const counts = (output) => {
  const last = (name) => Number([...output.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))].at(-1)?.[1] ?? 0);
  return { tests: last('tests'), pass: last('pass'), fail: last('fail') + last('cancelled') };
};
step(
  `running ${files.length} test files${long.length ? ` (${long.length} long, in parallel: ${long.join(', ')})` : ''}`,
);
const longRun = long.length
  ? runTests(['--test-timeout=1200000', ...long], true)
  : Promise.resolve({ code: 0, output: '' });
// A test that hangs fails after 4 minutes, naming itself, instead of eating CI's time.
const restRun = rest.length
  ? runTests(['--test-concurrency=2', '--test-timeout=240000', ...rest], false)
  : Promise.resolve({ code: 0, output: '' });
const [restResult, longResult] = await Promise.all([restRun, longRun]);
if (long.length) {
  step(`long tests: ${long.join(', ')}`);
  process.stdout.write(longResult.output);
}
// One summary for both runs, last, for CI to read.
const total = [restResult, longResult].map((r) => counts(r.output)).reduce((a, b) => ({
  tests: a.tests + b.tests,
  pass: a.pass + b.pass,
  fail: a.fail + b.fail,
}));
step('all test files');
process.stdout.write(`# tests ${total.tests}\n# pass ${total.pass}\n# fail ${total.fail}\n${total.pass} passed, ${total.fail} failed\n`);
process.exit(restResult.code || longResult.code);
