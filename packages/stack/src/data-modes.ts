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
  const visit = async (path: string): Promise<void> => {
    if (skip.has(path)) return;
    const info = await lstat(path).catch(() => null);
    if (!info || info.isSymbolicLink()) return;
    if (info.isDirectory()) {
      if ((info.mode & 0o7777) !== FOLDER_MODE) {
        await chmod(path, FOLDER_MODE);
        changed++;
      }
      for (const name of await readdir(path)) await visit(join(path, name));
    } else if (info.isFile() && (info.mode & 0o7777) !== FILE_MODE) {
      await chmod(path, FILE_MODE);
      changed++;
    }
  };
  await visit(dataDir);
  return changed;
}
