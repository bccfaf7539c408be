import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE, parseManifest, type Manifest } from '@gleaner/contracts';
import { UsageError } from './usage-error.js';

/**
 * Reads and checks a konnector folder's manifest (not its entry file, which a build may not have made
 * yet); `raw` is the manifest as the author wrote it, without the defaults the schema fills in.
 */
export function readKonnectorManifest(folder: string): {
  dir: string;
  manifest: Manifest;
  raw: Record<string, unknown>;
} {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`no such konnector folder: ${dir}`);
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) throw new UsageError(`${dir} has no ${MANIFEST_FILE}: is it a konnector folder?`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    throw new UsageError(`${manifestPath} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseManifest(raw);
  if (!parsed.ok) {
    const lines = parsed.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw new UsageError(`${manifestPath} is invalid:\n${lines}`);
  }
  return { dir, manifest: parsed.manifest, raw: raw as Record<string, unknown> };
}

/** Reads and checks a konnector folder: its manifest, and the entry file it names. */
export function loadKonnectorFolder(folder: string): { dir: string; manifest: Manifest; main: string } {
  const { dir, manifest } = readKonnectorManifest(folder);
  const manifestPath = join(dir, MANIFEST_FILE);
  const main = resolve(dir, manifest.main);
  if (!main.startsWith(dir + '/')) throw new UsageError(`${manifestPath}: main must stay inside the konnector folder`);
  if (!existsSync(main)) {
    throw new UsageError(`${manifestPath}: main file ${manifest.main} not found (build the konnector first?)`);
  }
  return { dir, manifest, main };
}
