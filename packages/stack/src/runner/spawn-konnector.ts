import { fork, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { KONNECTOR_EXEC_ARGV, serveHost, type ChildOutcome, type HostHandlers } from '@gleaner/konnector/host';
import { StackError } from '../errors.js';
import { folderUsage, processTree, residentBytes, signalPid } from './process-probes.js';
import { spawnSandboxed } from './sandboxed-spawn.js';
import type { SandboxLimits } from './sandbox.js';

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
  /**
   * The operator's own code (a development folder): where the sandbox uid cannot read its project
   * folder, bwrap runs as the stack's user rather than refusing the run.
   */
  trusted?: boolean;
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
 * No RLIMIT_AS (`prlimit --as`): V8 reserves gigabytes of address space for WebAssembly (which any
 * library a konnector loads may use), so a useful address-space limit breaks konnectors that use it.
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
  // Never the parent's execArgv (--inspect, --test, loaders): the konnector gets the SDK's flags and its cap.
  const execArgv = [...KONNECTOR_EXEC_ARGV, `--max-old-space-size=${Math.max(16, Math.floor(memoryLimitMb))}`];
  const sandboxed = options.sandbox !== undefined;

  const child: ChildProcess = options.sandbox
    ? spawnSandboxed({
        konnectorDir: realpathSync(konnectorDir),
        mainPath,
        execArgv,
        env,
        sandbox: options.sandbox,
        ...(options.stagingDir ? { stagingDir: options.stagingDir } : {}),
        notice: (message) => options.handlers.onLog({ level: 'warn', message, at: new Date().toISOString() }),
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

async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
