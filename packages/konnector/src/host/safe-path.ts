import { isAbsolute, join, normalize, relative, sep } from 'node:path';

/** Joins a konnector-chosen folder and name under `root`, refusing anything that would escape it. */
export function safeJoin(root: string, folder: string, name: string): string {
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..' || name.includes('\0')) {
    throw new Error(`invalid file name: ${JSON.stringify(name)}`);
  }
  if (isAbsolute(folder) || folder.includes('\0')) throw new Error(`invalid folder: ${JSON.stringify(folder)}`);
  const full = join(root, normalize(folder), name);
  const rel = relative(root, full);
  if (rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw new Error(`invalid folder: ${JSON.stringify(folder)}`);
  }
  return full;
}
