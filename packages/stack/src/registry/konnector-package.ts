import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import {
  ICON_MAX_BYTES,
  MANIFEST_FILE,
  MANIFEST_MAX_BYTES,
  parseManifest,
  type Manifest,
} from '@gleaner/contracts';

/**
 * The konnector package file `<slug>-<version>.tgz`: a gzip'd ustar archive whose entries all sit
 * under `package/` (the manifest, the one-file bundle `index.mjs`, an optional icon and README, and
 * `gleaner-package.json` with the sha256 of every other file). The reader trusts nothing in it.
 */

/** The .tgz itself. */
export const PACKAGE_MAX_BYTES = 50 * 1024 * 1024;
/** The sum of the files' sizes once unpacked. */
export const PACKAGE_MAX_UNPACKED_BYTES = 200 * 1024 * 1024;
/** Files and directories together. */
export const PACKAGE_MAX_ENTRIES = 1000;
export const PACKAGE_ROOT = 'package/';
export const PACKAGE_INFO_FILE = 'gleaner-package.json';
export const PACKAGE_MAIN = 'index.mjs';
export const PACKAGE_ICONS = ['icon.svg', 'icon.png'] as const;
export type PackageIconName = (typeof PACKAGE_ICONS)[number];

const BLOCK = 512;

/** `gleaner-package.json`: what the package says of itself, checked against what it holds. */
export const PackageInfo = z.strictObject({
  format: z.literal(1),
  slug: z.string(),
  version: z.string(),
  main: z.literal(PACKAGE_MAIN),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex')),
});
export type PackageInfo = z.infer<typeof PackageInfo>;

export type PackageProblem = { path: string; message: string };

/** A package refused; each problem names the entry (`package/index.mjs`), the manifest field (`manifest.fields.login.type`) or `(archive)`. */
export class PackageError extends Error {
  override name = 'PackageError';
  constructor(readonly problems: PackageProblem[]) {
    super(`bad konnector package: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

/** A package that passed every check. `files` is keyed by the path relative to `package/`. */
export type KonnectorPackage = {
  manifest: Manifest;
  info: PackageInfo;
  files: Map<string, Buffer>;
  /** The sha256 of the .tgz itself. */
  sha256: string;
};

/** One raw archive entry, as `writeTarGz` writes it (tests use it to make packages the reader must refuse). */
export type TarEntry = {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'fifo' | 'pax';
  data?: Buffer;
  linkname?: string;
  /** Written in the header instead of `data.length` (a header that lies). */
  size?: number;
};

const TYPEFLAGS: Record<NonNullable<TarEntry['type']>, string> = {
  file: '0',
  directory: '5',
  symlink: '2',
  hardlink: '1',
  'char-device': '3',
  fifo: '6',
  pax: 'x',
};

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function writeString(header: Buffer, value: string, offset: number, length: number, field: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: ${field} ${JSON.stringify(value)} is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  header.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'ascii');
}

/** The 512-byte ustar header of one entry holding `size` bytes (a streaming writer writes the data after it, padded to 512). */
export function tarHeader(entry: TarEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  let name = entry.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  const type = entry.type ?? 'file';
  writeString(header, name, 0, 100, 'name');
  writeOctal(header, type === 'directory' ? 0o755 : 0o644, 100, 8);
  writeOctal(header, 0, 108, 8);
  writeOctal(header, 0, 116, 8);
  writeOctal(header, size, 124, 12);
  writeOctal(header, 0, 136, 12);
  header.write(TYPEFLAGS[type], 156, 1, 'ascii');
  writeString(header, entry.linkname ?? '', 157, 100, 'linkname');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  writeString(header, prefix, 345, 155, 'prefix');
  header.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

/** Writes entries, in the order given, as a gzip'd ustar archive: no dates, owners or names of this machine, so the same input gives the same bytes. */
export function writeTarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    parts.push(tarHeader(entry, entry.size ?? data.length), data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return gzipSync(Buffer.concat(parts), { level: 9 });
}

export type WritePackageInput = {
  /** The author's manifest; `main` is set to `index.mjs` and `icon` to the icon's name (or removed without one). */
  manifest: Record<string, unknown>;
  /** The one-file ESM bundle. */
  bundle: Buffer | string;
  icon?: { name: PackageIconName; data: Buffer };
  readme?: Buffer | string;
};

/** Makes a konnector package (deterministic bytes) and reads it back, so a package written is one the stack accepts; throws `PackageError` otherwise. */
export function writeKonnectorPackage(input: WritePackageInput): Buffer {
  const manifest: Record<string, unknown> = { ...input.manifest, main: PACKAGE_MAIN };
  delete manifest.icon;
  if (input.icon) manifest.icon = input.icon.name;
  const files = new Map<string, Buffer>();
  files.set(MANIFEST_FILE, Buffer.from(JSON.stringify(manifest, null, 2) + '\n'));
  files.set(PACKAGE_MAIN, Buffer.from(input.bundle));
  if (input.icon) files.set(input.icon.name, input.icon.data);
  if (input.readme !== undefined) files.set('README.md', Buffer.from(input.readme));
  const info: PackageInfo = {
    format: 1,
    slug: String(manifest.slug),
    version: String(manifest.version),
    main: PACKAGE_MAIN,
    files: Object.fromEntries([...files.keys()].sort().map((path) => [path, sha256(files.get(path)!)])),
  };
  files.set(PACKAGE_INFO_FILE, Buffer.from(JSON.stringify(info, null, 2) + '\n'));
  const entries: TarEntry[] = [{ name: PACKAGE_ROOT, type: 'directory' }];
  for (const path of [...files.keys()].sort()) entries.push({ name: PACKAGE_ROOT + path, data: files.get(path) });
  const tgz = writeTarGz(entries);
  readKonnectorPackage(tgz);
  return tgz;
}

type RawEntry = { path: string; type: 'file' | 'directory'; data: Buffer };

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal header number, or null when it is not one (base-256 sizes included: they are over every limit anyway). */
function readOctal(block: Buffer, offset: number, length: number): number | null {
  const text = readString(block, offset, length).trim();
  if (!/^[0-7]+$/.test(text)) return null;
  return parseInt(text, 8);
}

/** One ustar header block read without judging it: null for an end-of-archive (all-zero) block. */
export function parseTarHeader(block: Buffer): { path: string; flag: string; size: number | null; valid: boolean } | null {
  if (block.every((byte) => byte === 0)) return null;
  const magic = block.subarray(257, 263).toString('latin1');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  const valid = (magic === 'ustar\0' || magic === 'ustar ') && readOctal(block, 148, 8) === sum;
  const prefix = readString(block, 345, 155);
  const name = readString(block, 0, 100);
  return { path: prefix ? `${prefix}/${name}` : name, flag: String.fromCharCode(block[156]!), size: readOctal(block, 124, 12), valid };
}

/** Checks an entry's name; returns the problem, or null. */
function nameProblem(path: string): string | null {
  if (path.startsWith('/')) return 'an absolute path';
  if (path.includes('\\')) return 'a backslash in the path';
  const parts = path.replace(/\/$/, '').split('/');
  if (parts.includes('..')) return 'a path that leaves the package (..)';
  if (parts.some((part) => part === '' || part === '.')) return 'an empty or "." path component';
  if (!path.startsWith(PACKAGE_ROOT)) return `outside ${PACKAGE_ROOT}`;
  return null;
}

function readTar(tar: Buffer, problems: PackageProblem[]): RawEntry[] {
  const entries: RawEntry[] = [];
  const seen = new Set<string>();
  let unpacked = 0;
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) {
      problems.push({ path: '(archive)', message: 'the tar archive is truncated (no end marker)' });
      return entries;
    }
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return entries;
    const magic = block.subarray(257, 263).toString('latin1');
    if (magic !== 'ustar\0' && magic !== 'ustar ') {
      problems.push({ path: '(archive)', message: `not a ustar archive (entry at byte ${offset})` });
      return entries;
    }
    const stored = readOctal(block, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
    if (stored !== sum) {
      problems.push({ path: '(archive)', message: `bad header checksum (entry at byte ${offset})` });
      return entries;
    }
    const prefix = readString(block, 345, 155);
    const name = readString(block, 0, 100);
    const path = prefix ? `${prefix}/${name}` : name;
    const flag = String.fromCharCode(block[156]!);
    const size = readOctal(block, 124, 12);
    if (size === null) {
      problems.push({ path, message: 'the size in its header is not a number' });
      return entries;
    }
    if (entries.length >= PACKAGE_MAX_ENTRIES) {
      problems.push({ path: '(archive)', message: `more than ${PACKAGE_MAX_ENTRIES} entries` });
      return entries;
    }
    unpacked += size;
    if (unpacked > PACKAGE_MAX_UNPACKED_BYTES) {
      problems.push({ path, message: `the unpacked package is over ${PACKAGE_MAX_UNPACKED_BYTES / 1024 / 1024} MiB` });
      return entries;
    }
    const start = offset + BLOCK;
    if (start + size > tar.length) {
      problems.push({ path, message: `the archive ends inside this entry (its header says ${size} bytes)` });
      return entries;
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    const type = flag === '0' || flag === '\0' ? 'file' : flag === '5' ? 'directory' : null;
    if (!type) {
      const kinds: Record<string, string> = {
        '1': 'a hard link',
        '2': 'a symbolic link',
        '3': 'a character device',
        '4': 'a block device',
        '6': 'a FIFO',
        x: 'a pax extended header',
        g: 'a pax global header',
        L: 'a GNU long name',
        K: 'a GNU long link name',
      };
      problems.push({ path, message: `${kinds[flag] ?? `an entry of type ${JSON.stringify(flag)}`}: only regular files and directories are allowed` });
      continue;
    }
    const problem = nameProblem(path);
    if (problem) {
      problems.push({ path, message: problem });
      continue;
    }
    const key = path.replace(/\/$/, '');
    if (seen.has(key)) {
      problems.push({ path, message: 'a duplicate entry' });
      continue;
    }
    seen.add(key);
    if (type === 'directory' && size !== 0) problems.push({ path, message: 'a directory with contents' });
    const relative = key.slice(PACKAGE_ROOT.length);
    const limit = relative === MANIFEST_FILE ? MANIFEST_MAX_BYTES : (PACKAGE_ICONS as readonly string[]).includes(relative) ? ICON_MAX_BYTES : null;
    if (type === 'file' && limit !== null && size > limit) {
      problems.push({ path, message: `${size} bytes, over the limit of ${limit / 1024} KiB` });
      continue;
    }
    entries.push({ path: key, type, data: tar.subarray(start, start + size) });
  }
}

function parseJson(data: Buffer, path: string, problems: PackageProblem[]): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch (error) {
    problems.push({ path, message: `not valid JSON: ${(error as Error).message}` });
    return undefined;
  }
}

/** Reads and checks a konnector package whole; throws `PackageError` listing every problem found. */
export function readKonnectorPackage(tgz: Buffer): KonnectorPackage {
  const fail = (problems: PackageProblem[]): never => {
    throw new PackageError(problems);
  };
  if (tgz.length > PACKAGE_MAX_BYTES) fail([{ path: '(archive)', message: `${tgz.length} bytes, over the limit of ${PACKAGE_MAX_BYTES / 1024 / 1024} MiB` }]);
  if (tgz.length < 2 || tgz[0] !== 0x1f || tgz[1] !== 0x8b) fail([{ path: '(archive)', message: 'not a gzip file' }]);
  let tar: Buffer;
  try {
    // The tar stream is the files plus at most one header and one padding block per entry.
    tar = gunzipSync(tgz, { maxOutputLength: PACKAGE_MAX_UNPACKED_BYTES + (PACKAGE_MAX_ENTRIES + 2) * 2 * BLOCK });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const tooBig = code === 'ERR_BUFFER_TOO_LARGE' || (error as Error).message.includes('maxOutputLength');
    return fail([{ path: '(archive)', message: tooBig ? `the unpacked package is over ${PACKAGE_MAX_UNPACKED_BYTES / 1024 / 1024} MiB` : `not a valid gzip file: ${(error as Error).message}` }]);
  }
  const problems: PackageProblem[] = [];
  const entries = readTar(tar, problems);
  if (problems.length) fail(problems);

  const files = new Map<string, Buffer>();
  for (const entry of entries) if (entry.type === 'file') files.set(entry.path.slice(PACKAGE_ROOT.length), entry.data);
  for (const entry of entries) {
    // A file must not sit where the package also has a directory of the same name.
    if (entry.type === 'directory' && files.has(entry.path.slice(PACKAGE_ROOT.length))) problems.push({ path: entry.path, message: 'both a file and a directory' });
  }
  for (const path of files.keys()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (files.has(parent)) problems.push({ path: PACKAGE_ROOT + path, message: `its parent ${PACKAGE_ROOT + parent} is a file` });
    }
  }

  const manifestData = files.get(MANIFEST_FILE);
  const infoData = files.get(PACKAGE_INFO_FILE);
  if (!manifestData) problems.push({ path: PACKAGE_ROOT + MANIFEST_FILE, message: 'missing' });
  if (!infoData) problems.push({ path: PACKAGE_ROOT + PACKAGE_INFO_FILE, message: 'missing' });
  if (!files.has(PACKAGE_MAIN)) problems.push({ path: PACKAGE_ROOT + PACKAGE_MAIN, message: 'missing (the bundle)' });
  if (problems.length) fail(problems);

  let manifest: Manifest | undefined;
  const rawManifest = parseJson(manifestData!, PACKAGE_ROOT + MANIFEST_FILE, problems);
  if (rawManifest !== undefined) {
    const parsed = parseManifest(rawManifest);
    if (!parsed.ok) for (const p of parsed.problems) problems.push({ path: p.path === '(root)' ? 'manifest' : `manifest.${p.path}`, message: p.message });
    else manifest = parsed.manifest;
  }
  if (manifest && manifest.main !== PACKAGE_MAIN) problems.push({ path: 'manifest.main', message: `must be ${JSON.stringify(PACKAGE_MAIN)} in a package` });
  if (manifest?.icon !== undefined) {
    if (!(PACKAGE_ICONS as readonly string[]).includes(manifest.icon)) problems.push({ path: 'manifest.icon', message: `must be ${PACKAGE_ICONS.join(' or ')} in a package` });
    else if (!files.has(manifest.icon)) problems.push({ path: 'manifest.icon', message: `${PACKAGE_ROOT}${manifest.icon} is not in the package` });
  }

  let info: PackageInfo | undefined;
  const rawInfo = parseJson(infoData!, PACKAGE_ROOT + PACKAGE_INFO_FILE, problems);
  if (rawInfo !== undefined) {
    const parsed = PackageInfo.safeParse(rawInfo);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push({ path: `${PACKAGE_ROOT}${PACKAGE_INFO_FILE}#${issue.path.map(String).join('.') || '(root)'}`, message: issue.message });
    } else info = parsed.data;
  }
  if (info) {
    for (const [path, data] of files) {
      if (path === PACKAGE_INFO_FILE) continue;
      const listed = info.files[path];
      if (listed === undefined) problems.push({ path: PACKAGE_ROOT + path, message: `not listed in ${PACKAGE_INFO_FILE}` });
      else if (listed !== sha256(data)) problems.push({ path: PACKAGE_ROOT + path, message: `its sha256 is not the one in ${PACKAGE_INFO_FILE}` });
    }
    for (const path of Object.keys(info.files)) {
      if (!files.has(path)) problems.push({ path: PACKAGE_ROOT + path, message: `listed in ${PACKAGE_INFO_FILE} but not in the package` });
    }
    if (manifest && info.slug !== manifest.slug) problems.push({ path: `${PACKAGE_ROOT}${PACKAGE_INFO_FILE}#slug`, message: `${info.slug} is not the manifest's slug ${manifest.slug}` });
    if (manifest && info.version !== manifest.version) problems.push({ path: `${PACKAGE_ROOT}${PACKAGE_INFO_FILE}#version`, message: `${info.version} is not the manifest's version ${manifest.version}` });
  }
  if (problems.length || !manifest || !info) fail(problems);
  return { manifest: manifest!, info: info!, files, sha256: sha256(tgz) };
}
