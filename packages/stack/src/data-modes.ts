import { lstat, readdir, chmod } from 'node:fs/promises';
import { join } from 'node:path';

/** What the data folder holds is for the stack's user alone: folders 0700, files 0600. */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Tightens the data folder and everything under it (keys, the databases, files, konnectors, staging)
 * to folders 0700 and files 0600, whatever umask made them; links are left alone (never followed).
 * `except` names folders kept as they are (a staging root the sandbox's uid must traverse).
 * Returns how many modes it changed.
 */
export async function tightenDataFolder(dataDir: string, except: string[] = []): Promise<number> {
  let changed = 0;
  const skip = new Set(except);
  // An install may rename or remove folders meanwhile (it takes no stack lock): what is gone is skipped.
  const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
  const visit = async (path: string): Promise<void> => {
    if (skip.has(path)) return;
    const info = await lstat(path).catch(() => null);
    if (!info || info.isSymbolicLink()) return;
    const wanted = info.isDirectory() ? FOLDER_MODE : info.isFile() ? FILE_MODE : null;
    if (wanted !== null && (info.mode & 0o7777) !== wanted) {
      try {
        await chmod(path, wanted);
        changed++;
      } catch (error) {
        if (!gone(error)) throw error;
      }
    }
    if (!info.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch (error) {
      if (gone(error)) return;
      throw error;
    }
    for (const name of names) await visit(join(path, name));
  };
  await visit(dataDir);
  return changed;
}
