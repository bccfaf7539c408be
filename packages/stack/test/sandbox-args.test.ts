import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bwrapArgs, isUnder, prlimitArgs, type SandboxPlan } from '../src/runner/sandbox.js';

const plan = (over: Partial<SandboxPlan> = {}): SandboxPlan => ({
  ids: { uid: 65534, gid: 65534 },
  system: [{ path: '/usr' }, { path: '/lib', linkTarget: 'usr/lib' }, { path: '/etc/resolv.conf' }],
  nodeDir: '/usr/bin',
  konnectorDir: '/srv/checkout/konnectors/github',
  projectRoot: '/srv/checkout',
  masks: ['/srv/checkout/data', '/var/other'],
  stagingDir: '/srv/checkout/data/staging/job-1',
  tmpMb: 64,
  env: { PATH: '/usr/bin' },
  command: ['/usr/bin/node', '--max-old-space-size=64', '/srv/checkout/konnectors/github/index.js'],
  ...over,
});

/** The arguments following each occurrence of `flag`. */
const after = (args: string[], flag: string, count = 1): string[][] =>
  args.flatMap((arg, i) => (arg === flag ? [args.slice(i + 1, i + 1 + count)] : []));

test('as root: bwrap maps the konnector to 65534 in its own namespaces, dying with its parent', () => {
  const args = bwrapArgs(plan());
  for (const flag of [
    '--unshare-user',
    '--disable-userns',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ])
    assert.ok(args.includes(flag), flag);
  assert.deepEqual(after(args, '--uid'), [['65534']]);
  assert.deepEqual(after(args, '--gid'), [['65534']]);
  assert.ok(!args.includes('--unshare-net') && !args.includes('--share-net'), 'the network is shared');
  assert.ok(!args.includes('--bind') || after(args, '--bind', 2).length === 1, 'one read-write bind');
});

test('not root: the stack’s own uid, no --uid', () => {
  const args = bwrapArgs(plan({ ids: null }));
  assert.ok(args.includes('--unshare-user'));
  assert.ok(!args.includes('--uid') && !args.includes('--gid'));
});

test('only the system, the node folder, the project read-only; staging read-write; the data folder masked', () => {
  const args = bwrapArgs(plan());
  assert.deepEqual(after(args, '--ro-bind', 2), [
    ['/usr', '/usr'],
    ['/etc/resolv.conf', '/etc/resolv.conf'],
    ['/srv/checkout', '/srv/checkout'],
  ]);
  assert.deepEqual(after(args, '--symlink', 2), [['usr/lib', '/lib']]);
  assert.deepEqual(after(args, '--bind', 2), [
    ['/srv/checkout/data/staging/job-1', '/srv/checkout/data/staging/job-1'],
  ]);
  // Masked only where a bound path holds it, and before the staging bind that lies inside it.
  assert.deepEqual(after(args, '--tmpfs'), [['/tmp'], ['/srv/checkout/data']]);
  assert.ok(args.lastIndexOf('--tmpfs') < args.indexOf('--bind'));
  assert.deepEqual(after(args, '--proc'), [['/proc']]);
  assert.deepEqual(after(args, '--dev'), [['/dev']]);
  assert.deepEqual(after(args, '--size'), [[String(64 * 1024 * 1024)]]);
});

test('the environment is only what is given, plus the IPC channel; the command comes last', () => {
  const args = bwrapArgs(plan());
  assert.deepEqual(after(args, '--setenv', 2), [
    ['PATH', '/usr/bin'],
    ['NODE_CHANNEL_FD', '3'],
    ['NODE_CHANNEL_SERIALIZATION_MODE', 'json'],
  ]);
  assert.ok(args.indexOf('--clearenv') < args.indexOf('--setenv'));
  assert.deepEqual(after(args, '--chdir'), [['/srv/checkout/konnectors/github']]);
  assert.deepEqual(args.slice(args.indexOf('--') + 1), plan().command);
  assert.deepEqual(after(bwrapArgs(plan({ ipc: false, env: {} })), '--setenv', 2), []);
});

test('an installed package: its own folder only, or copies by descriptor when the sandbox uid cannot reach it', () => {
  const own = bwrapArgs(
    plan({ projectRoot: null, konnectorDir: '/data/konnectors/x/1.0.0', masks: ['/data'], stagingDir: '/tmp/st/j' }),
  );
  assert.deepEqual(after(own, '--ro-bind', 2).at(-1), ['/data/konnectors/x/1.0.0', '/data/konnectors/x/1.0.0']);
  assert.deepEqual(after(own, '--tmpfs'), [['/tmp']], 'no mask needed: nothing bound holds the data folder');
  const copied = bwrapArgs(
    plan({
      projectRoot: null,
      konnectorDir: '/data/konnectors/x/1.0.0',
      copied: {
        dirs: ['/data/konnectors/x/1.0.0/lib'],
        files: [{ fd: 4, dest: '/data/konnectors/x/1.0.0/index.mjs' }],
      },
      masks: ['/data'],
      stagingDir: '/tmp/st/j',
    }),
  );
  assert.ok(!after(copied, '--ro-bind', 2).some(([src]) => src!.startsWith('/data')), 'nothing of /data is bound');
  assert.deepEqual(after(copied, '--dir'), [['/data/konnectors/x/1.0.0'], ['/data/konnectors/x/1.0.0/lib']]);
  assert.deepEqual(after(copied, '--ro-bind-data', 2), [['4', '/data/konnectors/x/1.0.0/index.mjs']]);
});

test('prlimit sets CPU, processes and file size; isUnder is by path component', () => {
  const limits = { cpuSeconds: 30, processes: 100, fileSizeMb: 2, tmpMb: 1 };
  assert.deepEqual(prlimitArgs(limits), ['--cpu=30:32', `--fsize=${2 * 1024 * 1024}`, '--']);
  assert.deepEqual(prlimitArgs(limits, 400), ['--cpu=30:32', '--nproc=400', `--fsize=${2 * 1024 * 1024}`, '--']);
  assert.ok(isUnder('/a/b', '/a'));
  assert.ok(isUnder('/a', '/a'));
  assert.ok(!isUnder('/ab', '/a'));
});
