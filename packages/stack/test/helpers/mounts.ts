import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (args: string[]): { ok: boolean; stderr: string } => {
  const result = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { ok: result.status === 0, stderr: `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim() };
};

/** A fresh tmpfs of `size` (e.g. "16m"); throws with what is missing (root, mount) when it cannot. */
export function mountTmpfs(size: string): { dir: string; unmount(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gleaner-tmpfs-'));
  const mounted = run(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  if (!mounted.ok)
    throw new Error(
      `the fault suite needs a small tmpfs: run it as root with mount(8) (mount -t tmpfs -o size=${size} tmpfs ${dir}): ${mounted.stderr}`,
    );
  return { dir, unmount: () => void run(['umount', '-l', dir]) };
}

/**
 * Makes `dir` read-only from now on for every new open, under a running process: a read-only bind
 * mount of the folder over itself (files already open for writing, as SQLite's, keep their own
 * mount). chmod would not do: root ignores modes.
 */
export function makeReadOnly(dir: string): { undo(): void } {
  const bound = run(['mount', '--bind', dir, dir]);
  if (!bound.ok)
    throw new Error(
      `the fault suite needs bind mounts: run it as root with mount(8) (mount --bind ${dir} ${dir}): ${bound.stderr}`,
    );
  const ro = run(['mount', '-o', 'remount,ro,bind', dir]);
  if (!ro.ok) {
    run(['umount', dir]);
    throw new Error(`could not remount ${dir} read-only (mount -o remount,ro,bind ${dir}): ${ro.stderr}`);
  }
  return { undo: () => void run(['umount', '-l', dir]) };
}

/** Writes zeros into `file`, `chunkBytes` at a time, until the disk says ENOSPC (and nothing else). */
export function fillDisk(file: string, chunkBytes = 256 * 1024): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(chunkBytes);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}
