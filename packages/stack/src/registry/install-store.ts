import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Manifest } from '@gleaner/contracts';
import { dataFolderHolder, tryLockFile, type DataFolderLock } from '../data-lock.js';
import { StackError } from '../errors.js';
import { PackageError, readKonnectorPackage, PACKAGE_INFO_FILE } from './konnector-package.js';
import { ManifestError, readKonnector, type InstalledKonnector } from './registry.js';

/**
 * Installed konnector packages in a data folder:
 *
 *     <data>/konnectors/<slug>/<version>/   the checked package files, never changed once in place
 *     <data>/konnectors/<slug>/current      the version new jobs run (replaced atomically)
 *     <data>/konnectors/.incoming/<random>/ an install being unpacked (renamed into place whole)
 *     <data>/konnectors/.lock               held by whoever changes any of it (an installer, a prune)
 *
 * Installing takes no stack lock: a running stack reads `current` at each job start, and a job that
 * started on an older version finishes on it (its folder stays until a prune finds it unused).
 */

export const INSTALLED_FOLDER = 'konnectors';
const INCOMING = '.incoming';
const LOCK = '.lock';
const CURRENT = 'current';
const LOCK_WAIT_MS = 10_000;

/** `<data>/konnectors`. */
export const installedRoot = (dataDir: string): string => join(dataDir, INSTALLED_FOLDER);

export type InstallResult = {
  konnector: InstalledKonnector;
  /** The version that was current before, if any. */
  previousVersion: string | null;
};

/** One installed slug as the data folder holds it. */
export type InstalledEntry = { slug: string; version: string; dir: string };

/** A slug folder that does not hold a usable current version, and why. */
export type InstalledProblem = { slug: string; dir: string; message: string };

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Orders two semantic versions (a pre-release sorts before its release); -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const ra = pa[4];
  const rb = pb[4];
  if (ra === undefined || rb === undefined) return ra === rb ? 0 : ra === undefined ? 1 : -1;
  const xa = ra.split('.');
  const xb = rb.split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const ia = xa[i];
    const ib = xb[i];
    if (ia === undefined || ib === undefined) return ia === undefined ? -1 : 1;
    if (ia === ib) continue;
    const na = /^\d+$/.test(ia);
    const nb = /^\d+$/.test(ib);
    if (na && nb) return Math.sign(Number(ia) - Number(ib));
    if (na !== nb) return na ? -1 : 1;
    return ia < ib ? -1 : 1;
  }
  return 0;
}

const isDirectory = (path: string): boolean => {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** The version `<slug>/current` names, or null when there is none (a regular file only, a version only). */
export function readCurrent(dataDir: string, slug: string): string | null {
  const file = join(installedRoot(dataDir), slug, CURRENT);
  try {
    const stat = lstatSync(file);
    if (!stat.isFile() || stat.size > 128) return null;
    const version = readFileSync(file, 'utf8').trim();
    return SEMVER.test(version) ? version : null;
  } catch {
    return null;
  }
}

/** The installed slugs with their current version; a slug folder without a usable one is a problem. */
export function listInstalled(dataDir: string): { entries: InstalledEntry[]; problems: InstalledProblem[] } {
  const root = installedRoot(dataDir);
  const entries: InstalledEntry[] = [];
  const problems: InstalledProblem[] = [];
  if (!isDirectory(root)) return { entries, problems };
  for (const slug of readdirSync(root).sort()) {
    if (slug.startsWith('.')) continue;
    const slugDir = join(root, slug);
    if (!isDirectory(slugDir) || !SLUG.test(slug)) continue;
    // No current: an uninstalled konnector whose folders wait for a prune.
    if (!existsSync(join(slugDir, CURRENT))) continue;
    const version = readCurrent(dataDir, slug);
    if (!version) {
      problems.push({ slug, dir: slugDir, message: `${CURRENT} does not name a version` });
      continue;
    }
    const dir = join(slugDir, version);
    if (!isDirectory(dir)) {
      problems.push({ slug, dir, message: `the current version ${version} has no folder` });
      continue;
    }
    entries.push({ slug, version, dir });
  }
  return { entries, problems };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes `<data>/konnectors/.lock`, waiting up to 10 s for another installer; creates the folder if needed. */
async function lockInstalls(dataDir: string, waitMs = LOCK_WAIT_MS): Promise<DataFolderLock> {
  const root = installedRoot(dataDir);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  for (;;) {
    const taken = tryLockFile(join(root, LOCK));
    if (!('busy' in taken)) return taken;
    if (Date.now() >= deadline)
      throw new StackError('conflict', `another install is changing ${root} (process ${taken.busy}): try again`);
    await sleep(50);
  }
}

/** Removes `<data>/konnectors` (and `.incoming`) when this call left them empty, so a refusal leaves nothing. */
function removeIfEmpty(dataDir: string, createdRoot: boolean): void {
  const root = installedRoot(dataDir);
  try {
    rmdirSync(join(root, INCOMING));
  } catch {
    // Not empty (an install of another process), or not there.
  }
  if (!createdRoot) return;
  try {
    rmdirSync(root);
  } catch {
    // Not empty.
  }
}

function writeFileDurable(path: string, data: Buffer | string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDir(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const random = () => randomBytes(6).toString('hex');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function checkVersion(manifest: Manifest, current: string | null, force: boolean): void {
  if (current === null || force) return;
  const order = compareVersions(manifest.version, current);
  if (order > 0) return;
  throw new StackError(
    'conflict',
    order === 0
      ? `${manifest.slug} ${current} is already installed: force to reinstall it`
      : `${manifest.slug} ${current} is installed, newer than ${manifest.version}: force to downgrade`,
    { installed: current },
  );
}

export type InstallOptions = {
  /** Allows a downgrade, or a reinstall of the same version. */
  force?: boolean;
  /**
   * The folders of versions running jobs use, asked at the moment of the prune (a job may start
   * while the install waits for the lock): a prune keeps them. Default: prune only when no stack
   * runs on the folder.
   */
  inUse?: () => ReadonlySet<string>;
};

/**
 * Checks a package whole, unpacks it to `.incoming/<random>/`, checks what landed on disk, renames it
 * to `<slug>/<version>/` and points `current` at it. Throws `StackError('invalid')` with the package's
 * problems, or `'conflict'` for a same or older version without `force`; a refusal leaves nothing.
 */
export async function installPackage(dataDir: string, tgz: Buffer, options: InstallOptions = {}): Promise<InstallResult> {
  let pkg;
  try {
    pkg = readKonnectorPackage(tgz);
  } catch (error) {
    if (!(error instanceof PackageError)) throw error;
    throw new StackError('invalid', error.message, { problems: error.problems });
  }
  const { manifest } = pkg;
  // Refused before anything is created: a downgrade without force leaves the folder as it was.
  checkVersion(manifest, readCurrent(dataDir, manifest.slug), options.force ?? false);

  const root = installedRoot(dataDir);
  const createdRoot = !existsSync(root);
  const lock = await lockInstalls(dataDir);
  const incoming = join(root, INCOMING, random());
  try {
    const previousVersion = readCurrent(dataDir, manifest.slug);
    checkVersion(manifest, previousVersion, options.force ?? false);

    mkdirSync(incoming, { recursive: true, mode: 0o700 });
    for (const [path, data] of pkg.files) {
      const target = join(incoming, path);
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      writeFileDurable(target, data);
    }
    // What is on disk is what was checked: every listed file, by its digest, and nothing else.
    for (const [path, digest] of Object.entries(pkg.info.files)) {
      const onDisk = join(incoming, path);
      if (!lstatSync(onDisk).isFile() || sha256(readFileSync(onDisk)) !== digest)
        throw new StackError('invalid', `${path} changed while it was unpacked`, {
          problems: [{ path: `package/${path}`, message: 'changed while unpacked' }],
        });
    }
    if (!existsSync(join(incoming, PACKAGE_INFO_FILE))) throw new Error(`${PACKAGE_INFO_FILE} was not unpacked`);
    try {
      readKonnector(incoming, { source: 'installed' });
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      throw new StackError('invalid', error.message, {
        problems: error.problems.map((p) => ({ path: `manifest.${p.path}`, message: p.message })),
      });
    }

    const slugDir = join(root, manifest.slug);
    mkdirSync(slugDir, { recursive: true, mode: 0o700 });
    const dir = join(slugDir, manifest.version);
    // A forced reinstall of the same version: the old folder steps aside (a running job may still
    // use it) and a prune removes it once no job does.
    if (existsSync(dir)) renameSync(dir, join(slugDir, `.replaced-${manifest.version}-${random()}`));
    renameSync(incoming, dir);
    const temp = join(slugDir, `.current-${random()}`);
    writeFileDurable(temp, `${manifest.version}\n`);
    renameSync(temp, join(slugDir, CURRENT));
    syncDir(slugDir);
    pruneLocked(dataDir, options.inUse);
    return { konnector: readKonnector(dir, { source: 'installed' }), previousVersion };
  } catch (error) {
    rmSync(incoming, { recursive: true, force: true });
    throw error;
  } finally {
    lock.release();
    removeIfEmpty(dataDir, createdRoot);
  }
}

export type UninstallOptions = {
  force?: boolean;
  /** How many accounts use the konnector: more than 0 refuses without `force`. */
  accounts: number;
  inUse?: () => ReadonlySet<string>;
};

/**
 * Removes `<slug>/current` (new jobs no longer see the konnector), then prunes what no running job
 * uses. Throws `StackError('not_found')` for a slug not installed, `'conflict'` (with `accounts`)
 * while accounts use it, unless forced.
 */
export async function uninstallPackage(
  dataDir: string,
  slug: string,
  options: UninstallOptions,
): Promise<{ version: string }> {
  const version = SLUG.test(slug) ? readCurrent(dataDir, slug) : null;
  if (!version) throw new StackError('not_found', `konnector ${slug} is not installed in ${installedRoot(dataDir)}`);
  if (options.accounts > 0 && !options.force)
    throw new StackError(
      'conflict',
      `konnector ${slug} is used by ${options.accounts} account(s): remove them first, or force`,
      { accounts: options.accounts },
    );
  const lock = await lockInstalls(dataDir);
  try {
    rmSync(join(installedRoot(dataDir), slug, CURRENT), { force: true });
    syncDir(join(installedRoot(dataDir), slug));
    pruneLocked(dataDir, options.inUse);
    return { version };
  } finally {
    lock.release();
  }
}

/**
 * Removes version folders that are not current and not in `inUse`, uninstalled slugs, and
 * unpackings a crash left behind. Without `inUse`, prunes only when no stack holds the data folder
 * (a running stack prunes itself, knowing its jobs). Skipped when an installer holds the lock.
 */
export function pruneInstalled(dataDir: string, inUse?: () => ReadonlySet<string>): string[] {
  if (!isDirectory(installedRoot(dataDir))) return [];
  const taken = tryLockFile(join(installedRoot(dataDir), LOCK));
  if ('busy' in taken) return [];
  try {
    return pruneLocked(dataDir, inUse);
  } finally {
    taken.release();
  }
}

function pruneLocked(dataDir: string, inUse: (() => ReadonlySet<string>) | undefined): string[] {
  if (!inUse && dataFolderHolder(dataDir) !== null) return [];
  // Asked now, and nothing below waits: a job of this process cannot start in between.
  const keep = inUse?.() ?? new Set<string>();
  const root = installedRoot(dataDir);
  const removed: string[] = [];
  const remove = (path: string) => {
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  };
  // Under the lock no install is unpacking: whatever sits in .incoming is left from a crash.
  if (isDirectory(join(root, INCOMING))) for (const name of readdirSync(join(root, INCOMING))) remove(join(root, INCOMING, name));
  for (const slug of readdirSync(root)) {
    if (slug.startsWith('.')) continue;
    const slugDir = join(root, slug);
    if (!isDirectory(slugDir)) continue;
    const current = readCurrent(dataDir, slug);
    const slugInUse = [...keep].some((dir) => dir.startsWith(slugDir + '/'));
    for (const name of readdirSync(slugDir)) {
      const path = join(slugDir, name);
      if (name === CURRENT || name === current) continue;
      if (keep.has(path)) continue;
      // A replaced folder was the same version as another: kept while any job of that slug runs.
      if (name.startsWith('.replaced-') && slugInUse) continue;
      if (name.startsWith('.current-') || isDirectory(path)) remove(path);
    }
    if (current === null && readdirSync(slugDir).length === 0) remove(slugDir);
  }
  return removed;
}
