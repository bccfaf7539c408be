import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chownSync, closeSync, openSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { StackError } from '../errors.js';
import {
  BWRAP_PATH,
  PRLIMIT_PATH,
  SANDBOX_GID,
  SANDBOX_UID,
  bwrapArgs,
  findProjectRoot,
  isSelfContained,
  listForCopy,
  prlimitArgs,
  probeSystem,
  reachableBy,
} from './sandbox.js';
import type { SandboxSpawnOptions } from './spawn-konnector.js';

export type SandboxedSpawn = {
  konnectorDir: string;
  mainPath: string;
  execArgv: string[];
  env: Record<string, string>;
  sandbox: SandboxSpawnOptions;
  stagingDir?: string;
  /** Told when the sandbox runs as the stack's user (see `trusted`): the job's log says so. */
  notice?: (message: string) => void;
};

/**
 * `prlimit … bwrap … -- node <execArgv> <main>` with the IPC channel on fd 3. As root, bwrap itself
 * runs as the sandbox uid; a konnector folder that uid cannot reach (an installed package under the
 * 0700 data folder) comes in as copies, one descriptor per file. A trusted development folder that
 * uid cannot read (a checkout under root's 0700 home) is sandboxed as a non-root stack's is: bwrap
 * runs as the stack's user, the konnector is uid 65534 inside, with every namespace and bind the same.
 */
export function spawnSandboxed(options: SandboxedSpawn): ChildProcess {
  const asRoot = process.getuid?.() === 0;
  const nobody = { uid: SANDBOX_UID, gid: SANDBOX_GID };
  const { konnectorDir } = options;
  const projectRoot = isSelfContained(konnectorDir) ? null : findProjectRoot(konnectorDir);
  const unreadable = asRoot && projectRoot !== null && !reachableBy(projectRoot, nobody.uid, nobody.gid);
  if (unreadable && !options.sandbox.trusted)
    throw new StackError(
      'invalid',
      `the sandbox (uid ${nobody.uid}) cannot read the konnector's project folder ${projectRoot}: make it readable by others, or bundle the konnector`,
    );
  if (unreadable)
    options.notice?.(
      `the sandbox runs as the stack's user: uid ${nobody.uid} cannot read ${projectRoot} (make it readable by others to drop to that uid)`,
    );
  // The uid bwrap runs as, outside (as root: nobody, unless the folder forbids it); null: the stack's own.
  const ids = asRoot && !unreadable ? nobody : null;
  const copy = ids !== null && !(projectRoot ?? reachableBy(konnectorDir, ids.uid, ids.gid));
  // The sandbox uid writes there; the stack (root) still reads and removes what it leaves.
  if (ids && options.stagingDir) chownSync(options.stagingDir, ids.uid, ids.gid);
  const fds: number[] = [];
  let copied: { dirs: string[]; files: { fd: number; dest: string }[] } | undefined;
  try {
    if (copy) {
      const listed = listForCopy(konnectorDir);
      copied = { dirs: listed.dirs, files: [] };
      for (const file of listed.files) {
        fds.push(openSync(file, 'r'));
        copied.files.push({ fd: 3 + fds.length, dest: file });
      }
    }
    const args = bwrapArgs({
      // Inside, never root: nobody even when bwrap runs as the stack's (root) user.
      ids: asRoot ? nobody : null,
      system: probeSystem(),
      nodeDir: dirname(realpathSync(process.execPath)),
      konnectorDir,
      ...(copied ? { copied } : {}),
      projectRoot,
      // A folder the sandbox uid cannot even look up (a 0700 parent) is hidden by its permissions
      // already, and bwrap, running as that uid, could not mount over it.
      masks: options.sandbox.masks.filter((mask) => !ids || reachableBy(mask, ids.uid, ids.gid, { read: false })),
      stagingDir: options.stagingDir ?? null,
      tmpMb: options.sandbox.limits.tmpMb,
      env: options.env,
      command: [realpathSync(process.execPath), ...options.execArgv, options.mainPath],
    });
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', 'ipc', ...fds];
    return spawn(
      PRLIMIT_PATH,
      [
        ...prlimitArgs(options.sandbox.limits, ids ? (options.sandbox.nproc ?? null) : null),
        options.sandbox.bwrapPath ?? BWRAP_PATH,
        ...args,
      ],
      {
        cwd: '/',
        // bwrap's own environment shows as /proc/1/environ inside: nothing of the stack's.
        env: {},
        stdio,
        detached: true,
        serialization: 'json',
        ...(ids ?? {}),
      },
    );
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

