import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);

export const rssMethod = hasGnuTime
  ? 'GNU time %M (max RSS of the child)'
  : '/proc/<pid>/status VmHWM polled every 5 ms';

/**
 * Runs a command and measures its wall time (from spawn to exit, in this process's clock) and its
 * peak resident memory. GNU time reports the kernel's own max RSS, exact even for a process that
 * lives 40 ms; polling VmHWM is the fallback and can miss the last few ms of a very short process.
 *
 * onLine(line, stream, child) sees each stdout/stderr line as it arrives: the figures use it to read
 * the marker lines that the measured scripts print (BENCH_*).
 */
export function runMeasured(command, args, { cwd, env, timeoutMs = 120_000, onLine } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const [file, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%e %M', '-o', timeFile, command, ...args]] : [command, args];

  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    // detached: the child leads its own process group, so a timeout can end it and its children.
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let exitedAt;
    let peakKB = 0;
    const out = { stdout: '', stderr: '' };
    const poll = hasGnuTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKB = Math.max(peakKB, Number(m[1]));
          } catch {
            // the process just exited: keep the last value read
          }
        }, 5);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);

    for (const stream of ['stdout', 'stderr']) {
      let pending = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk) => {
        out[stream] += chunk;
        if (!onLine) return;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          onLine(pending.slice(0, nl), stream, child);
          pending = pending.slice(nl + 1);
        }
      });
    }
    child.on('exit', () => {
      exitedAt = performance.now();
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      clearInterval(poll);
      rmSync(scratch, { recursive: true, force: true });
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      let stderr = out.stderr;
      if (hasGnuTime) {
        try {
          // GNU time may write "Command exited with non-zero status N" before the figures line.
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [, maxrss] = lines[lines.length - 1].split(' ');
          peakKB = Number(maxrss);
          if (lines.length > 1) stderr += lines.slice(0, -1).join('\n');
        } catch {
          peakKB = NaN;
        }
      }
      rmSync(scratch, { recursive: true, force: true });
      resolvePromise({
        code,
        signal,
        timedOut: performance.now() - started >= timeoutMs,
        wallMs: (exitedAt ?? performance.now()) - started,
        peakRssMB: peakKB / 1024,
        stdout: out.stdout,
        stderr,
      });
    });
  });
}

/** Child environment: the parent's PATH and HOME only, so that a developer's NODE_ENV or DEBUG never skews a run. */
export function childEnv(extra = {}) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8' };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  return { ...env, ...extra };
}

/** Throws with the child's last output when it did not exit cleanly. */
export function assertOk(run, what) {
  if (run.code === 0 && !run.timedOut) return run;
  const tail = (run.stderr + '\n' + run.stdout).trim().split('\n').slice(-15).join('\n');
  throw new Error(`${what} ${run.timedOut ? 'timed out' : `exited with ${run.code ?? run.signal}`}:\n${tail}`);
}

/** Returns the JSON of the last stdout line starting with `${marker} `. */
export function markerJson(stdout, marker) {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(marker + ' '));
  if (!line) throw new Error(`no ${marker} line in the output`);
  return JSON.parse(line.slice(marker.length + 1));
}
