import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// What the runner's watchdogs read of the system: process trees, resident memory, folder sizes.

const PAGE_SIZE = 4096;

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

export function signalPid(pid: number, signal: NodeJS.Signals): void {
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

/** Resident memory of one process, from /proc/<pid>/statm; null when it is gone. */
export function residentBytes(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    const pages = Number(fields[1]);
    return Number.isFinite(pages) ? pages * PAGE_SIZE : null;
  } catch {
    return null;
  }
}

