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
};

/**
 * `prlimit … bwrap … -- node <execArgv> <main>` with the IPC channel on fd 3. As root, bwrap itself
 * runs as the sandbox uid; a konnector folder that uid cannot reach (an installed package under the
 * 0700 data folder) comes in as copies, one descriptor per file.
 */
export function spawnSandboxed(options: SandboxedSpawn): ChildProcess {
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: SANDBOX_UID, gid: SANDBOX_GID } : null;
  const { konnectorDir } = options;
  const projectRoot = isSelfContained(konnectorDir) ? null : findProjectRoot(konnectorDir);
  if (ids && projectRoot && !reachableBy(projectRoot, ids.uid, ids.gid))
    throw new StackError(
      'invalid',
      `the sandbox (uid ${ids.uid}) cannot read the konnector's project folder ${projectRoot}: make it readable by others, or bundle the konnector`,
    );
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
      ids,
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
        ...prlimitArgs(options.sandbox.limits, options.sandbox.nproc ?? null),
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

