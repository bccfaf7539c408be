import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Another live process holds the data folder: two stacks on one SQLite file would corrupt each other's work. */
export class DataFolderBusyError extends Error {
  override name = 'DataFolderBusyError';
  readonly pid: number;
  constructor(dataDir: string, pid: number) {
    super(`the data folder ${dataDir} is in use by process ${pid} (a running stack?): stop it first`);
    this.pid = pid;
  }
}

export type DataFolderLock = { readonly file: string; release(): void };

/**
 * Takes `<dataDir>/gleaner.lock` for this process. A lock left by a process that is gone (a crash)
 * is taken over; one held by a live process is refused with DataFolderBusyError.
 */
export function lockDataFolder(dataDir: string): DataFolderLock {
  const taken = tryLockFile(join(dataDir, 'gleaner.lock'));
  if ('busy' in taken) throw new DataFolderBusyError(dataDir, taken.busy);
  return taken;
}

/**
 * The live process holding `<dataDir>/gleaner.lock` (a running stack), or a node of a PostgreSQL
 * cluster that uses the folder (`<dataDir>/nodes/`: one of this machine whose process lives, or any
 * of another machine, which cannot be checked from here), or null.
 */
export function dataFolderHolder(dataDir: string): number | null {
  const pid = holder(join(dataDir, 'gleaner.lock'));
  if (pid !== null && (pid === process.pid || isAlive(pid))) return pid;
  let nodes: string[];
  try {
    nodes = readdirSync(join(dataDir, NODES));
  } catch {
    return null;
  }
  for (const name of nodes) {
    let fields: string[];
    try {
      fields = readFileSync(join(dataDir, NODES, name), 'utf8').trim().split(' ');
    } catch {
      continue;
    }
    const [host, pidText] = fields;
    const nodePid = Number.parseInt(pidText ?? '', 10);
    if (!Number.isInteger(nodePid) || nodePid <= 0) continue;
    if (host !== hostname() || nodePid === process.pid || isAlive(nodePid)) return nodePid;
  }
  return null;
}

const NODES = 'nodes';

/**
 * A PostgreSQL node's mark in a data folder it shares with others (`<dataDir>/nodes/<id>`: its host
 * and pid), instead of the exclusive lock: it tells `gleaner install` run beside the cluster that
 * stacks use the folder, so that it leaves pruning to them (they know every node's running jobs).
 */
export function markNode(dataDir: string, id: string): { release(): void } {
  const file = join(dataDir, NODES, id);
  mkdirSync(join(dataDir, NODES), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${hostname()} ${process.pid}\n`, { mode: 0o600 });
  return { release: () => rmSync(file, { force: true }) };
}

/** Removes a dead node's mark (the reaper found it dead). */
export function unmarkNode(dataDir: string, id: string): void {
  rmSync(join(dataDir, NODES, id), { force: true });
}

/** Takes a lock file (its content: this pid); one left by a dead process is taken over; a live holder's pid comes back as `busy`. */
export function tryLockFile(file: string): DataFolderLock | { busy: number } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (holder(file) === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const pid = holder(file);
      // This process, or another one still alive: busy. Otherwise the lock is left from a crash.
      if (pid !== null && (pid === process.pid || isAlive(pid))) return { busy: pid };
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take ${file}`);
}

function holder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether a process of this pid runs (in this pid namespace). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
