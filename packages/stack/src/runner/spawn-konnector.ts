import { fork } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { serveHost, type ChildOutcome, type HostHandlers } from '@gleaner/konnector/host';
import { StackError } from '../errors.js';

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
};

export type RunOutcome = ChildOutcome & {
  killedForTime: boolean;
  /** The resident-memory watchdog killed it (a heap overflow shows as a crash instead). */
  killedForMemory: boolean;
};

export type RunningKonnector = {
  pid: number;
  done: Promise<RunOutcome>;
  /** Asks the konnector to stop (it sees `host.cancelled` abort); does not kill it. */
  cancel(reason: CancelReason): void;
  /** Cancels, then SIGTERM to the process group, then SIGKILL after the grace; resolves once it has exited. */
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

/**
 * Starts a konnector in its own child process and serves the host protocol to it over IPC.
 *
 * The child gets its own process group (so that it dies with its children), a scrubbed environment,
 * a heap cap and a resident-memory watchdog, and a time limit. No RLIMIT_AS (`prlimit --as`): V8
 * reserves gigabytes of address space for WebAssembly (undici's HTTP parser), so any useful
 * address-space limit breaks every konnector that makes a request.
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

  const child = fork(mainPath, [], {
    cwd: realpathSync(konnectorDir),
    env,
    execPath: process.execPath,
    // Never the parent's execArgv (--inspect, --test, loaders): the konnector gets only its cap.
    execArgv: [`--max-old-space-size=${Math.max(16, Math.floor(memoryLimitMb))}`],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    serialization: 'json',
  });

  const host = serveHost(child, handlers);
  let killedForTime = false;
  let killedForMemory = false;
  let exited = false;
  let killing: Promise<void> | null = null;
  const timers: NodeJS.Timeout[] = [];

  const signalGroup = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  };

  const stdoutClosed = forwardLines(child.stdout, 'info', handlers);
  const stderrClosed = forwardLines(child.stderr, 'warn', handlers);

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
    // Whatever the konnector left behind in its group dies with it (and releases our pipes).
    signalGroup('SIGKILL');
    await waitAtMost(Promise.all([stdoutClosed, stderrClosed]), STDIO_CLOSE_WAIT_MS);
    child.stdout?.destroy();
    child.stderr?.destroy();
    return { ...outcome, killedForTime, killedForMemory };
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
    const rss = residentBytes(child.pid);
    if (rss === null) return;
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
