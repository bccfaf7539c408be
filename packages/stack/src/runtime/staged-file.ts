import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readlink, realpath, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A staged file the stack will not take, with the reason (said in the job's log). */
export class StagedFileRefused extends Error {
  override name = 'StagedFileRefused';
}

export type StagedFile = {
  handle: FileHandle;
  /** Its path relative to the staging folder. */
  inside: string;
  /** The real staging folder it was found in. */
  stagingReal: string;
};

const COPY_CHUNK = 256 * 1024;

/**
 * Opens a file the konnector left in its staging folder, trusting nothing of it: the path must stay
 * inside staging, no component below staging may be a link (each is lstat'ed, the file opened with
 * O_NOFOLLOW), the file must be a regular file with one link, and the real path of the descriptor
 * must still be inside staging (a folder swapped for a link meanwhile shows there).
 */
export async function openStagedFile(staging: string, stagedPath: string): Promise<StagedFile> {
  const stagingReal = await realpath(staging);
  const wanted = resolve(staging, stagedPath);
  let inside = relative(staging, wanted);
  if (escapes(inside)) inside = relative(stagingReal, wanted);
  if (escapes(inside) || inside === '') throw new StagedFileRefused('it is outside the staging folder');
  const parts = inside.split(sep);
  let current = stagingReal;
  for (const part of parts.slice(0, -1)) {
    current = join(current, part);
    const info = await lstat(current).catch(() => null);
    if (!info) throw new StagedFileRefused('it does not exist');
    if (info.isSymbolicLink()) throw new StagedFileRefused(`${relative(stagingReal, current)} is a symbolic link`);
    if (!info.isDirectory()) throw new StagedFileRefused(`${relative(stagingReal, current)} is not a folder`);
  }
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO left there must not hang the stack.
    handle = await open(
      join(stagingReal, inside),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new StagedFileRefused(
      code === 'ELOOP'
        ? 'it is a symbolic link'
        : code === 'ENOENT'
          ? 'it does not exist'
          : `it cannot be opened (${code})`,
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new StagedFileRefused('it is not a regular file');
    if (info.nlink !== 1) throw new StagedFileRefused('it has other hard links');
    const real = await readlink(`/proc/self/fd/${handle.fd}`);
    if (escapes(relative(stagingReal, real)))
      throw new StagedFileRefused('its real path is outside the staging folder');
    return { handle, inside, stagingReal };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Copies an opened staged file into `target` by descriptor (a temp file beside it, then a rename),
 * hashing it on the way (the caller closes the handle); then removes the staged file when it sits right in staging (a nested one
 * goes with the staging folder: unlinking through folders the konnector controls could follow a link).
 */
export async function takeStagedFile(staged: StagedFile, target: string): Promise<{ size: number; sha256: string }> {
  const temp = join(dirname(target), `.incoming-${randomUUID()}`);
  const out = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    const buffer = Buffer.alloc(COPY_CHUNK);
    for (;;) {
      const { bytesRead } = await staged.handle.read(buffer, 0, COPY_CHUNK, size);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      await out.write(chunk);
      size += bytesRead;
    }
    await out.close();
    await rename(temp, target);
  } catch (error) {
    await out.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  if (!staged.inside.includes(sep)) await unlink(join(staged.stagingReal, staged.inside)).catch(() => undefined);
  return { size, sha256: hash.digest('hex') };
}

/** Makes `dir` (below `root`, which is made too) with every folder created 0700, whatever the umask. */
export async function mkdirPrivate(root: string, dir: string): Promise<void> {
  const rel = relative(root, dir);
  if (escapes(rel)) throw new Error(`${dir} is outside ${root}`);
  let current = root;
  for (const part of ['', ...(rel === '' ? [] : rel.split(sep))]) {
    current = part === '' ? current : join(current, part);
    try {
      await mkdir(current, { mode: 0o700 });
      await chmod(current, 0o700);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await lstat(current);
      if (!info.isDirectory()) throw new Error(`${current} is not a folder`);
    }
  }
}

function escapes(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}
