import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const hasGnuTime = existsSync(GNU_TIME);

export const rssMethod = hasGnuTime
  ? 'GNU time %M (max RSS of the child)'
  : '/proc/<pid>/status VmHWM polled every 5 ms';
export const cpuMethod = hasGnuTime
  ? 'GNU time %U + %S (user + system CPU of the child and its children)'
  : '/proc/<pid>/stat utime + stime polled every 5 ms';

/**
 * Runs a command and measures its wall time (from spawn to exit, in this process's clock), its
 * peak resident memory and the CPU time it used (`cpuMs`: user + system). GNU time reports the kernel's own max RSS, exact even for a process that
 * lives 40 ms; polling VmHWM is the fallback and can miss the last few ms of a very short process.
 *
 * onLine(line, stream, child) sees each stdout/stderr line as it arrives: the figures use it to read
 * the marker lines that the measured scripts print (BENCH_*).
 */
export function runMeasured(command, args, { cwd, env, timeoutMs = 120_000, onLine, onSpawn } = {}) {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-time-'));
  const timeFile = join(scratch, 'time.txt');
  const [file, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, command, ...args]] : [command, args];

  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    // detached: the child leads its own process group, so a timeout can end it and its children.
    const child = spawn(file, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    onSpawn?.(child);
    let exitedAt;
    let peakKB = 0;
    let cpuMs = NaN;
    const ticks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
    const out = { stdout: '', stderr: '' };
    const poll = hasGnuTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKB = Math.max(peakKB, Number(m[1]));
            const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
            const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
            cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticks;
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
          const [, maxrss, user, sys] = lines[lines.length - 1].split(' ');
          peakKB = Number(maxrss);
          cpuMs = (Number(user) + Number(sys)) * 1000;
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
        cpuMs,
        stdout: out.stdout,
        stderr,
      });
    });
  });
}

/**
 * The resident memory (MB) of the measured process right now: the command itself, not GNU time
 * around it (its only child). NaN once it has exited.
 */
export function currentRssMB(child) {
  try {
    let pid = child.pid;
    if (hasGnuTime) pid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
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
