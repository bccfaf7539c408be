import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
export const cliMain = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export type Session = {
  child: ChildProcessWithoutNullStreams;
  /** Everything the program printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when the output matches, or rejects after `ms` with what was printed. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  type(text: string): void;
  exit: Promise<number | null>;
};

/**
 * Runs `gleaner …`. With `tty`, it runs under `script`, which gives it a pseudo-terminal: the
 * program sees a real terminal (hidden password input, live countdown) and we type into it.
 */
export function gleaner(args: string[], options: SessionOptions = {}): Session {
  return session([process.execPath, cliMain, ...args], options);
}

export type SessionOptions = {
  cwd?: string;
  tty?: boolean;
  env?: Record<string, string>;
  /** The environment `env` is added to (default: this process's). */
  baseEnv?: NodeJS.ProcessEnv;
};

/** Runs any program as `gleaner` does (e.g. an installed `gleaner` or `npm`), its output collected. */
export function session(command: string[], options: SessionOptions = {}): Session {
  const child = options.tty
    ? spawn('script', ['-qfec', command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' '), '/dev/null'], {
        cwd: options.cwd,
        env: { ...(options.baseEnv ?? process.env), ...options.env, TERM: 'dumb' },
      })
    : spawn(command[0]!, command.slice(1), { cwd: options.cwd, env: { ...(options.baseEnv ?? process.env), ...options.env } });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const waiter of waiters) waiter();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    type: (text) => child.stdin.write(text),
    exit,
    waitFor(pattern, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (!match) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match[0]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`));
        }, ms);
        if (!check()) waiters.add(check);
        void exit.then(() => setImmediate(() => {
          if (waiters.has(check) && !check()) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}; output:\n${out}`));
          }
        }));
      });
    },
  };
}
