import { fork, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { chownSync, closeSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { serveHost, type ChildOutcome, type HostHandlers } from '@gleaner/konnector/host';
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
  type SandboxLimits,
} from './sandbox.js';

export type CancelReason = 'JOB_TIMEOUT' | 'JOB_CANCELLED' | 'JOB_INTERRUPTED';

export type SpawnOptions = {
  konnectorDir: string;
  /** The konnector's entry file, relative to konnectorDir (the manifest's `main`). */
  main: string;
  handlers: HostHandlers;
  timeLimitMs: number;
  /** V8 heap cap; the whole resident memory is capped at `memoryLimitMb + RSS_HEADROOM_MB`. */
  memoryLimitMb: number;
  /** Added to the scrubbed environment; never put secrets here (fields go through IPC `start`). */
  extraEnv?: Record<string, string>;
  /** Between SIGTERM and SIGKILL; default 2 s. */
  killGraceMs?: number;
  /** Runs it under bubblewrap with these limits (see sandbox.ts); absent: a plain fork (trusted code only). */
  sandbox?: SandboxSpawnOptions;
  /** The job's staging folder: bound read-write in the sandbox, its size watched (`stagingLimitMb`). */
  stagingDir?: string;
  /** Above this many MiB in `stagingDir` the run is stopped (`killedForDisk`); default 1024. */
  stagingLimitMb?: number;
};

export type SandboxSpawnOptions = {
  limits: SandboxLimits;
  /** Default /usr/bin/bwrap. */
  bwrapPath?: string;
  /** RLIMIT_NPROC of the sandbox uid (all its sandboxes at once); none when absent. */
  nproc?: number;
  /** Folders to hide where they lie under a bound path (the data folder, the staging root). */
  masks: string[];
};

export type RunOutcome = ChildOutcome & {
  killedForTime: boolean;
  /** The resident-memory watchdog killed it, or V8 died at its heap cap. */
  killedForMemory: boolean;
  /** The staging watchdog killed it: its files outgrew `stagingLimitMb`. */
  killedForDisk: boolean;
  /** It ran out of CPU time (RLIMIT_CPU). */
  killedForCpu: boolean;
};

export type RunningKonnector = {
  pid: number;
  done: Promise<RunOutcome>;
  /** Asks the konnector to stop (it sees `host.cancelled` abort); does not kill it. */
  cancel(reason: CancelReason): void;
  /** Cancels, then SIGTERM to its processes, then SIGKILL after the grace; resolves once it has exited. */
  kill(reason?: CancelReason): Promise<void>;
};

/** Environment variables a konnector inherits from the stack; everything else is dropped. */
const INHERITED_ENV = ['PATH', 'NODE_ENV', 'LANG', 'TZ'] as const;
/** Node's own baseline, young generation and buffers on top of the capped heap. */
export const RSS_HEADROOM_MB = 128;
const MEMORY_CHECK_MS = 1000;
/** A stored log line is cut to this many characters, after scrubbing (see the job host). */
export const MAX_LINE_CHARS = 4000;
/**
 * What is kept of one line of output for the job host to scrub: the rest of a longer line is dropped
 * (memory stays bounded). Far above MAX_LINE_CHARS, so that a secret in any form that starts before
 * the stored cut lies whole inside what the job host sees.
 */
export const RAW_LINE_CHARS = 64 * 1024;
/** Per stream and per run: a konnector printing without end must not fill the job log. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
const STDIO_CLOSE_WAIT_MS = 2000;
const PAGE_SIZE = 4096;
/** A staging folder with more entries than this is over its limit whatever their size. */
const MAX_STAGING_ENTRIES = 10_000;
const SIGXCPU_EXIT = 128 + 24;
const HEAP_EXHAUSTED = /JavaScript heap out of memory|Reached heap limit/;

/**
 * Starts a konnector in its own child process and serves the host protocol to it over IPC.
 *
 * With `sandbox`, the child is bubblewrap (under prlimit) holding the konnector in its own namespaces
 * (see sandbox.ts): the IPC channel is fd 3 through it, the job's staging folder its only writable
 * place; its PID namespace dies with bwrap, so no process it started outlives the run. Without,
 * a plain fork in its own process group. Either way: a scrubbed environment, a heap cap, a watchdog
 * on the resident memory of the whole process tree and on the staging folder's size, a time limit.
 * No RLIMIT_AS (`prlimit --as`): V8 reserves gigabytes of address space for WebAssembly (undici's
 * HTTP parser), so any useful address-space limit breaks every konnector that makes a request.
 *
 * @example
 * const run = spawnKonnector({ konnectorDir, main: 'index.js', handlers, timeLimitMs: 60_000, memoryLimitMb: 256 })
 * const { finish, killedForTime } = await run.done
 */
export function spawnKonnector(options: SpawnOptions): RunningKonnector {
  const { konnectorDir, handlers, timeLimitMs, memoryLimitMb } = options;
  const killGraceMs = options.killGraceMs ?? 2000;
  const mainPath = resolveMain(konnectorDir, options.main);

  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.extraEnv ?? {});
  // Never the parent's execArgv (--inspect, --test, loaders): the konnector gets only its cap.
  const execArgv = [`--max-old-space-size=${Math.max(16, Math.floor(memoryLimitMb))}`];
  const sandboxed = options.sandbox !== undefined;

  const child: ChildProcess = options.sandbox
    ? spawnSandboxed({
        konnectorDir: realpathSync(konnectorDir),
        mainPath,
        execArgv,
        env,
        sandbox: options.sandbox,
        ...(options.stagingDir ? { stagingDir: options.stagingDir } : {}),
      })
    : fork(mainPath, [], {
        cwd: realpathSync(konnectorDir),
        env,
        execPath: process.execPath,
        execArgv,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        detached: true,
        serialization: 'json',
      });

  const host = serveHost(child, handlers);
  let killedForTime = false;
  let killedForMemory = false;
  let killedForDisk = false;
  let exited = false;
  let killing: Promise<void> | null = null;
  const timers: NodeJS.Timeout[] = [];

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    const root = child.pid;
    if (sandboxed && signal === 'SIGTERM') {
      // bwrap dies at once on SIGTERM (and takes the sandbox with it): the grace goes to the
      // konnector and its children, below bwrap and its PID-namespace init.
      for (const { pid, depth } of processTree(root)) if (depth >= 2) signalPid(pid, signal);
      return;
    }
    const tree = processTree(root);
    try {
      process.kill(-root, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
    // A child that left the group (setsid) is still in the tree; in the sandbox its namespace dies anyway.
    if (signal === 'SIGKILL') for (const { pid } of tree) signalPid(pid, signal);
  };

  const stdoutClosed = forwardLines(child.stdout, 'info', handlers);
  // V8 dying at its heap cap says so on stderr: that run ended on its memory limit too.
  const stderrClosed = forwardLines(child.stderr, 'warn', {
    ...handlers,
    onLog: (entry) => {
      if (HEAP_EXHAUSTED.test(entry.message)) killedForMemory = true;
      handlers.onLog(entry);
    },
  });

  const spawnFailed = new Promise<ChildOutcome>((resolveFailure) => {
    child.once('error', (error) => {
      handlers.onLog({
        level: 'error',
        message: `could not run the konnector: ${error.message}`,
        at: new Date().toISOString(),
      });
      if (child.pid === undefined) resolveFailure({ finish: null, exitCode: null, signal: null });
    });
  });

  const done: Promise<RunOutcome> = Promise.race([host.done, spawnFailed]).then(async (outcome) => {
    exited = true;
    for (const timer of timers) clearTimeout(timer);
    clearInterval(memoryWatch);
    clearInterval(stagingWatch);
    // Whatever the konnector left behind in its group dies with it (and releases our pipes).
    signalGroup('SIGKILL');
    await waitAtMost(Promise.all([stdoutClosed, stderrClosed]), STDIO_CLOSE_WAIT_MS);
    child.stdout?.destroy();
    child.stderr?.destroy();
    const killedForCpu =
      !killedForTime &&
      (outcome.signal === 'SIGXCPU' || (sandboxed && outcome.exitCode === SIGXCPU_EXIT && outcome.finish === null));
    if (killedForCpu)
      handlers.onLog({
        level: 'error',
        message: `the konnector used up its CPU time (limit ${options.sandbox?.limits.cpuSeconds ?? '?'} s): stopped`,
        at: new Date().toISOString(),
      });
    if (outcome.finish === null && !killing && !killedForMemory && !killedForDisk && !killedForCpu)
      handlers.onLog({
        level: 'error',
        message: `the konnector exited without finishing (${outcome.signal ? `signal ${outcome.signal}` : `exit code ${String(outcome.exitCode)}`})`,
        at: new Date().toISOString(),
      });
    return { ...outcome, killedForTime, killedForMemory, killedForDisk, killedForCpu };
  });

  const kill = (reason: CancelReason): Promise<void> => {
    if (!killing) {
      killing = (async () => {
        if (exited) return;
        host.cancel(reason);
        signalGroup('SIGTERM');
        const escalate = setTimeout(() => signalGroup('SIGKILL'), killGraceMs);
        timers.push(escalate);
        await done;
      })();
    }
    return killing;
  };

  const timeLimit = setTimeout(() => {
    killedForTime = true;
    void kill('JOB_TIMEOUT');
  }, timeLimitMs);
  timers.push(timeLimit);

  const rssLimitBytes = (memoryLimitMb + RSS_HEADROOM_MB) * 1024 * 1024;
  const memoryWatch = setInterval(() => {
    if (child.pid === undefined || exited) return;
    let rss = 0;
    // The child itself (node, or bwrap) and all below it.
    const tree = [child.pid, ...processTree(child.pid, MEMORY_CHECK_MS / 2).map((p) => p.pid)];
    for (const pid of tree) rss += residentBytes(pid) ?? 0;
    if (rss === 0) return;
    if (rss > rssLimitBytes) {
      killedForMemory = true;
      handlers.onLog({
        level: 'error',
        message: `the konnector used ${Math.round(rss / 1048576)} MB of memory (limit ${memoryLimitMb + RSS_HEADROOM_MB} MB): stopped`,
        at: new Date().toISOString(),
      });
      signalGroup('SIGKILL');
    }
  }, MEMORY_CHECK_MS);
  memoryWatch.unref();

  const stagingLimitBytes = (options.stagingLimitMb ?? 1024) * 1024 * 1024;
  const stagingWatch = setInterval(() => {
    if (!options.stagingDir || exited || killedForDisk) return;
    const used = folderUsage(options.stagingDir, MAX_STAGING_ENTRIES);
    if (used.bytes <= stagingLimitBytes && used.entries <= MAX_STAGING_ENTRIES) return;
    killedForDisk = true;
    handlers.onLog({
      level: 'error',
      message:
        used.entries > MAX_STAGING_ENTRIES
          ? `the konnector left more than ${MAX_STAGING_ENTRIES} files in its staging folder: stopped (DISK_QUOTA_EXCEEDED)`
          : `the konnector's files in its staging folder reached ${Math.round(used.bytes / 1048576)} MB (limit ${options.stagingLimitMb ?? 1024} MB): stopped (DISK_QUOTA_EXCEEDED)`,
      at: new Date().toISOString(),
    });
    signalGroup('SIGKILL');
  }, MEMORY_CHECK_MS);
  stagingWatch.unref();

  return {
    pid: child.pid ?? -1,
    done,
    cancel: (reason) => host.cancel(reason),
    kill: (reason = 'JOB_CANCELLED') => kill(reason),
  };
}

/** The konnector's entry file, refused if it leaves the konnector's folder (symlinks included). */
function resolveMain(konnectorDir: string, main: string): string {
  let dir: string;
  let file: string;
  try {
    dir = realpathSync(konnectorDir);
    file = realpathSync(resolve(dir, main));
  } catch (error) {
    throw new StackError('invalid', `konnector entry ${JSON.stringify(main)} not found in ${konnectorDir}`, {
      cause: (error as Error).message,
    });
  }
  const inside = relative(dir, file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) {
    throw new StackError('invalid', `konnector entry ${JSON.stringify(main)} is outside its folder ${konnectorDir}`);
  }
  return file;
}

/**
 * Sends each line of a stream to the job log and resolves when the stream closes. Lines go out whole
 * up to RAW_LINE_CHARS (the job host scrubs them, then cuts them to MAX_LINE_CHARS); the rest of a
 * longer line is dropped, never sent as a line of its own that would start inside a secret.
 */
function forwardLines(stream: Readable | null, level: 'info' | 'warn', handlers: HostHandlers): Promise<void> {
  if (!stream) return Promise.resolve();
  let pending = '';
  /** Inside a line longer than RAW_LINE_CHARS whose head went out: dropped until its end. */
  let skipping = false;
  let budget = MAX_OUTPUT_BYTES;
  let truncatedSaid = false;
  const emit = (line: string): void => {
    if (line.length === 0) return;
    if (budget <= 0) {
      if (!truncatedSaid) {
        truncatedSaid = true;
        handlers.onLog({ level: 'warn', message: 'konnector output truncated', at: new Date().toISOString() });
      }
      return;
    }
    // Counted as stored: at most MAX_LINE_CHARS of it is kept.
    budget -= Buffer.byteLength(line.slice(0, MAX_LINE_CHARS));
    handlers.onLog({ level, message: line, at: new Date().toISOString() });
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      if (!skipping) emit(pending.slice(0, newline).replace(/\r$/, ''));
      skipping = false;
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
    if (skipping) pending = '';
    // A line without end must not grow without bound: its head goes out, the rest is dropped.
    if (pending.length > RAW_LINE_CHARS) {
      emit(pending.slice(0, RAW_LINE_CHARS));
      pending = '';
      skipping = true;
    }
  });
  return new Promise((resolveClosed) => {
    const finish = (): void => {
      if (!skipping) emit(pending);
      pending = '';
      resolveClosed();
    };
    stream.once('close', finish);
    stream.once('error', finish);
  });
}

type SandboxedSpawn = {
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
function spawnSandboxed(options: SandboxedSpawn): ChildProcess {
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

/** The processes below `root` (not `root` itself), with their depth, from a scan of /proc. */
export function processTree(root: number, maxAgeMs = 0): { pid: number; depth: number }[] {
  const children = childrenByParent(maxAgeMs);
  const out: { pid: number; depth: number }[] = [];
  const queue: { pid: number; depth: number }[] = [{ pid: root, depth: 0 }];
  while (queue.length > 0) {
    const { pid, depth } = queue.shift()!;
    for (const kid of children.get(pid) ?? []) {
      out.push({ pid: kid, depth: depth + 1 });
      queue.push({ pid: kid, depth: depth + 1 });
    }
  }
  return out;
}

let scanned: { at: number; children: Map<number, number[]> } | null = null;

/**
 * Every process's children, by a scan of /proc/<pid>/stat (the kernel may lack the children files);
 * a scan younger than `maxAgeMs` is reused, so that the watchdogs of many runs share one.
 */
function childrenByParent(maxAgeMs: number): Map<number, number[]> {
  const now = Date.now();
  if (scanned && now - scanned.at <= maxAgeMs) return scanned.children;
  const children = new Map<number, number[]>();
  let names: string[] = [];
  try {
    names = readdirSync('/proc');
  } catch {
    // No /proc: no tree.
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) S ppid …": comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // Gone meanwhile.
    }
  }
  scanned = { at: now, children };
  return children;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

/** Bytes of the regular files under `dir` (links not followed), stopping past `maxEntries`. */
export function folderUsage(dir: string, maxEntries: number): { bytes: number; entries: number } {
  let bytes = 0;
  let entries = 0;
  const walk = (path: string): void => {
    let names: string[];
    try {
      names = readdirSync(path);
    } catch {
      return;
    }
    for (const name of names) {
      if (++entries > maxEntries) return;
      try {
        const info = lstatSync(join(path, name));
        if (info.isDirectory()) walk(join(path, name));
        else bytes += info.blocks * 512 > info.size ? info.blocks * 512 : info.size;
      } catch {
        // Removed meanwhile.
      }
    }
  };
  walk(dir);
  return { bytes, entries };
}

function residentBytes(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    const pages = Number(fields[1]);
    return Number.isFinite(pages) ? pages * PAGE_SIZE : null;
  } catch {
    return null;
  }
}

async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
