import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

/** The unprivileged uid/gid a konnector runs as when the stack runs as root (Debian's nobody/nogroup). */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;
export const BWRAP_PATH = '/usr/bin/bwrap';
export const PRLIMIT_PATH = '/usr/bin/prlimit';
export const BWRAP_INSTALL_LINE = 'apt-get install bubblewrap';
/** The IPC channel's fd in the child (stdio index 3 of spawn). */
const IPC_FD = 3;

/** System folders a node program needs, bound read-only where they exist (a merged-/usr link is kept a link). */
export const SYSTEM_PATHS = ['/usr', '/lib', '/lib64', '/bin', '/usr/local'] as const;
/** The only files of /etc a konnector sees: name resolution, certificates, the time zone. */
export const ETC_PATHS = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/ssl/certs',
  '/etc/localtime',
] as const;

export type SandboxLimits = {
  /** CPU seconds per process (RLIMIT_CPU): SIGXCPU, then SIGKILL. */
  cpuSeconds: number;
  /**
   * Tasks (processes and threads: node alone has a dozen) a run may have. RLIMIT_NPROC counts them
   * per uid, over every sandbox at once: the stack sets it to this × its concurrency, and only when it
   * runs as root (the sandbox uid is then nobody's; otherwise every process of the stack's user counts).
   */
  processes: number;
  /** Largest file the konnector may write (RLIMIT_FSIZE), in MiB. */
  fileSizeMb: number;
  /** Size of its private /tmp (a tmpfs), in MiB. */
  tmpMb: number;
};

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { cpuSeconds: 600, processes: 256, fileSizeMb: 1024, tmpMb: 64 };

/** A host path as the sandbox recreates it: a link stays a link, anything else is bound read-only. */
export type SystemEntry = { path: string; linkTarget?: string };

/** A file copied into the sandbox from a descriptor (a konnector folder the sandbox uid cannot reach). */
export type CopiedFile = { fd: number; dest: string };

/** Everything `bwrapArgs` needs; no I/O happens in building the argument list. */
export type SandboxPlan = {
  /** When the stack runs as root: the uid/gid inside (and, through the spawn options, outside). */
  ids: { uid: number; gid: number } | null;
  system: SystemEntry[];
  /** The folder of the node binary. */
  nodeDir: string;
  konnectorDir: string;
  /** The konnector's files come in as copies (its folder is not reachable by the sandbox uid). */
  copied?: { dirs: string[]; files: CopiedFile[] };
  /** A development konnector's project root (nearest ancestor with node_modules), read-only. */
  projectRoot: string | null;
  /** Folders hidden under an empty tmpfs where they lie under a bound path (the data folder). */
  masks: string[];
  /** The job's staging folder, read-write, at the same path inside (none in the start-up check). */
  stagingDir: string | null;
  tmpMb: number;
  env: Record<string, string>;
  /** The command: node, its flags, the entry file. */
  command: string[];
  /** The IPC channel (fd 3) goes through; default true (false for the start-up check). */
  ipc?: boolean;
};

/** True when `path` is `root` or lies below it. */
export function isUnder(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The bwrap argument list of one sandboxed run: its own user, PID, IPC, UTS (and cgroup) namespaces,
 * dying with its parent; the system and the konnector read-only, the staging folder read-write, a
 * private /tmp, a fresh /proc and /dev, the network shared, only the given environment.
 */
export function bwrapArgs(plan: SandboxPlan): string[] {
  const args = ['--unshare-user'];
  if (plan.ids) args.push('--uid', String(plan.ids.uid), '--gid', String(plan.ids.gid));
  args.push(
    '--disable-userns',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--hostname',
    'gleaner-sandbox',
    '--unshare-cgroup-try',
    '--die-with-parent',
    '--new-session',
  );
  const bound: string[] = [];
  const roBind = (path: string): void => {
    args.push('--ro-bind', path, path);
    bound.push(path);
  };
  for (const entry of plan.system) {
    if (entry.linkTarget !== undefined) args.push('--symlink', entry.linkTarget, entry.path);
    else roBind(entry.path);
  }
  if (!bound.some((path) => isUnder(plan.nodeDir, path))) roBind(plan.nodeDir);
  args.push('--proc', '/proc', '--dev', '/dev', '--size', String(plan.tmpMb * 1024 * 1024), '--tmpfs', '/tmp');
  if (plan.projectRoot) roBind(plan.projectRoot);
  if (plan.copied) {
    args.push('--dir', plan.konnectorDir);
    for (const dir of plan.copied.dirs) args.push('--dir', dir);
    for (const file of plan.copied.files) args.push('--ro-bind-data', String(file.fd), file.dest);
  } else if (!plan.projectRoot || !isUnder(plan.konnectorDir, plan.projectRoot)) {
    roBind(plan.konnectorDir);
  }
  // After the binds that may contain them, before the staging folder that may lie inside them.
  for (const mask of plan.masks) if (bound.some((path) => isUnder(mask, path))) args.push('--tmpfs', mask);
  if (plan.stagingDir) args.push('--bind', plan.stagingDir, plan.stagingDir);
  args.push('--clearenv');
  const env =
    plan.ipc === false
      ? plan.env
      : { ...plan.env, NODE_CHANNEL_FD: String(IPC_FD), NODE_CHANNEL_SERIALIZATION_MODE: 'json' };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--chdir', plan.konnectorDir, '--', ...plan.command);
  return args;
}

/** prlimit's arguments for the limits (RLIMIT_NPROC only with `nproc`: see `processes`), then `--`. */
export function prlimitArgs(limits: SandboxLimits, nproc: number | null = null): string[] {
  const cpu = Math.max(1, Math.floor(limits.cpuSeconds));
  return [
    // SIGXCPU at the soft limit (the run says why it stopped), SIGKILL two seconds later.
    `--cpu=${cpu}:${cpu + 2}`,
    ...(nproc === null ? [] : [`--nproc=${Math.max(16, Math.floor(nproc))}`]),
    `--fsize=${Math.max(1, Math.floor(limits.fileSizeMb)) * 1024 * 1024}`,
    '--',
  ];
}

/** The system folders and /etc files that exist on this host, links kept as links. */
export function probeSystem(): SystemEntry[] {
  const entries: SystemEntry[] = [];
  for (const path of [...SYSTEM_PATHS, ...ETC_PATHS]) {
    let info;
    try {
      info = lstatSync(path);
    } catch {
      continue;
    }
    // /etc/localtime and /etc/resolv.conf are usually links to elsewhere: bind what they point at.
    if (info.isSymbolicLink() && (SYSTEM_PATHS as readonly string[]).includes(path)) {
      entries.push({ path, linkTarget: readlinkSync(path) });
    } else if (existsSync(path)) {
      entries.push({ path });
    }
  }
  return entries;
}

/** The nearest ancestor of a konnector folder holding node_modules (a development checkout), or null. */
export function findProjectRoot(konnectorDir: string): string | null {
  let dir = dirname(konnectorDir);
  for (;;) {
    if (existsSync(join(dir, 'node_modules'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** A bundled konnector (installed package) needs nothing outside its folder. */
export function isSelfContained(konnectorDir: string): boolean {
  return existsSync(join(konnectorDir, 'gleaner-package.json'));
}

/**
 * Whether uid/gid can reach `path` (search permission on each ancestor, read on the path itself
 * unless `read: false`), by the mode bits; bwrap runs as that uid and must open every bound folder.
 */
export function reachableBy(path: string, uid: number, gid: number, { read = true } = {}): boolean {
  const allowed = (mode: number, owner: number, group: number, bit: number): boolean =>
    owner === uid ? (mode & (bit << 6)) !== 0 : group === gid ? (mode & (bit << 3)) !== 0 : (mode & bit) !== 0;
  let current = resolve(path);
  try {
    const own = statSync(current);
    if (read && !allowed(own.mode, own.uid, own.gid, 4)) return false;
    for (;;) {
      const parent = dirname(current);
      const info = statSync(parent);
      if (!allowed(info.mode, info.uid, info.gid, 1)) return false;
      if (parent === current) return true;
      current = parent;
    }
  } catch {
    return false;
  }
}

/** The regular files and folders of a konnector folder to copy in, bounded; symlinks are refused. */
export function listForCopy(
  konnectorDir: string,
  bounds = { files: 1000, bytes: 200 * 1024 * 1024 },
): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const info = lstatSync(path);
      if (info.isDirectory()) {
        dirs.push(path);
        walk(path);
      } else if (info.isFile()) {
        files.push(path);
        bytes += info.size;
      } else {
        throw new Error(`${path}: only regular files and folders can go into the sandbox`);
      }
      if (files.length > bounds.files || bytes > bounds.bytes)
        throw new Error(`${konnectorDir}: more than ${bounds.files} files or ${bounds.bytes} bytes`);
    }
  };
  walk(konnectorDir);
  return { dirs, files };
}

export type SandboxCheck = { ok: true } | { ok: false; missing: string; installLine: string };

/**
 * Runs bwrap once (node inside, `-e 0`) with the same namespaces and limits a job gets: a missing
 * tool, a kernel without unprivileged user namespaces or a refusing AppArmor shows here, at start.
 */
export function checkSandbox(
  limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
  bwrap = BWRAP_PATH,
  nproc: number | null = null,
): SandboxCheck {
  if (!existsSync(bwrap))
    return { ok: false, missing: `bubblewrap (${bwrap}) is not installed`, installLine: BWRAP_INSTALL_LINE };
  if (!existsSync(PRLIMIT_PATH))
    return {
      ok: false,
      missing: `prlimit (${PRLIMIT_PATH}) is not installed`,
      installLine: 'apt-get install util-linux',
    };
  const asRoot = process.getuid?.() === 0;
  const nodeDir = dirname(realpathSync(process.execPath));
  const args = bwrapArgs({
    ids: asRoot ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : null,
    system: probeSystem(),
    nodeDir,
    konnectorDir: nodeDir,
    projectRoot: null,
    masks: [],
    stagingDir: null,
    tmpMb: limits.tmpMb,
    env: {},
    command: [realpathSync(process.execPath), '-e', '0'],
    ipc: false,
  });
  const result = spawnSync(PRLIMIT_PATH, [...prlimitArgs(limits, nproc), bwrap, ...args], {
    env: {},
    encoding: 'utf8',
    timeout: 15_000,
    ...(asRoot ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : {}),
  });
  if (result.status === 0) return { ok: true };
  const why = (result.stderr || result.error?.message || `exit ${String(result.status)}`).trim();
  return {
    ok: false,
    missing: `bubblewrap cannot start a sandbox here: ${why} (unprivileged user namespaces must be allowed; see docs/sandbox.md)`,
    installLine: BWRAP_INSTALL_LINE,
  };
}
