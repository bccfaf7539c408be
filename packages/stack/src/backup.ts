import { createReadStream, createWriteStream, existsSync, type Dirent } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { PassThrough } from 'node:stream';
import BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import { parseTarHeader, tarHeader } from './registry/konnector-package.js';
import { Keyring, keysDir } from './secrets/keyring.js';

/**
 * `gleaner backup` and `gleaner restore`. A backup is one tar.gz (the project's own ustar writer,
 * streamed: one file's data in memory at a time, in 1 MiB chunks), whose entries are:
 *   gleaner-backup.json   the manifest (first entry): format, created at, the key ids needed, counts
 *   gleaner.db            the stack's database, copied with SQLite's online backup API
 *   auth.sqlite           the admin password hash, sessions and API tokens, copied the same way
 *   konnectors/…          the installed packages and their `current` pointers (not `.incoming`, `.lock`)
 *   files/…               the accounts' files
 *   keys/…                only with `withKeys`: the key files and `keys/current`
 * It takes no lock: the databases are copied first, each in one read transaction (a consistent
 * snapshot even while jobs write), then the files; a file row in the snapshot names a file that is
 * already in its place (the stack moves a file in before it records it).
 */

export const BACKUP_FORMAT = 1;
export const BACKUP_MANIFEST = 'gleaner-backup.json';
const DATABASES = ['gleaner.db', 'auth.sqlite'] as const;
const TREES = ['konnectors', 'files', 'keys'] as const;
const BLOCK = 512;
const CHUNK = 1024 * 1024;
const MANIFEST_MAX_BYTES = 64 * 1024;

export const BackupManifest = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.string(),
  keys: z.strictObject({
    /** Inside the backup (`--with-keys`) or kept apart. */
    included: z.boolean(),
    /** The key ids the sealed credentials and sessions need. */
    needed: z.array(z.string()),
    /** The key id `keys/current` named: the one new secrets are sealed with. */
    current: z.string().nullable(),
  }),
  counts: z.strictObject({
    databases: z.number().int(),
    konnectorFiles: z.number().int(),
    accountFiles: z.number().int(),
    keyFiles: z.number().int(),
    /** The files' sizes when listed (a file replaced meanwhile is copied as it is when read). */
    bytes: z.number().int(),
  }),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

/** A backup or restore refused or failed; the message names the file or folder and what to do. */
export class BackupError extends Error {
  override name = 'BackupError';
}

type Entry = { name: string; type: 'file' | 'directory'; source?: string; size?: number };

/** Lists a folder's regular files and folders (links and sockets left out), parents first. */
async function walk(root: string, name: string, skip: (entry: Dirent, depth: number) => boolean, depth = 0): Promise<Entry[]> {
  const out: Entry[] = [];
  let children: Dirent[];
  try {
    children = await readdir(join(root, name), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw error;
  }
  children.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const child of children) {
    if (skip(child, depth)) continue;
    const path = `${name}/${child.name}`;
    if (child.isDirectory()) {
      out.push({ name: `${path}/`, type: 'directory' });
      out.push(...(await walk(root, path, skip, depth + 1)));
    } else if (child.isFile()) {
      out.push({ name: path, type: 'file', source: join(root, path), size: (await stat(join(root, path))).size });
    }
  }
  return out;
}

/** Copies one live SQLite file through the online backup API, all pages in one step: one read transaction, so a consistent copy. */
async function snapshotDatabase(source: string, target: string): Promise<void> {
  const db = new BetterSqlite3(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    await db.backup(target, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  await chmod(target, 0o600);
}

/** The key ids the snapshot's sealed values were sealed with. */
function sealedKeyIds(dbFile: string): string[] {
  const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
  try {
    const ids = new Set<string>();
    const rows = db.prepare('SELECT credentials, session, data FROM accounts').all() as Array<Record<string, string | null>>;
    for (const row of rows)
      for (const value of Object.values(row)) if (value) ids.add(Keyring.keyIdOf(value));
    return [...ids].sort();
  } finally {
    db.close();
  }
}

/**
 * Writes one file entry, header and data, from the file as it is when opened: its size is read from
 * the open descriptor, so a file the stack replaces meanwhile (temp file + rename) is copied whole,
 * old or new, never a mix.
 */
async function writeFileEntry(out: PassThrough, name: string, file: string): Promise<number> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new BackupError(`${file} disappeared during the backup (removed by the stack?): run the backup again`);
    throw error;
  });
  try {
    const { size } = await handle.stat();
    await push(out, tarHeader({ name }, size));
    let done = 0;
    while (done < size) {
      const chunk = Buffer.alloc(Math.min(CHUNK, size - done));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, done);
      if (bytesRead === 0) throw new BackupError(`${file} shrank during the backup: run the backup again`);
      done += bytesRead;
      await push(out, bytesRead === chunk.length ? chunk : chunk.subarray(0, bytesRead));
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) await push(out, Buffer.alloc(pad));
    return size;
  } finally {
    await handle.close();
  }
}

/** Writes to the stream, waiting when its buffer is full (so a large backup never sits in memory). */
async function push(out: PassThrough, data: Buffer): Promise<void> {
  if (out.destroyed) throw new Error('the backup stream was closed');
  if (out.write(data)) return;
  await new Promise<void>((resolve, reject) => {
    const drained = () => {
      out.off('close', closed);
      resolve();
    };
    // The pipeline failed (a full disk): its error is the one thrown; this only stops the writer.
    const closed = () => {
      out.off('drain', drained);
      reject(new Error('the backup stream was closed'));
    };
    out.once('drain', drained);
    out.once('close', closed);
  });
}

export type BackupResult = { file: string; manifest: BackupManifest };

/**
 * `gleaner backup`: a consistent snapshot of a data folder, running stack or not (no lock taken), to
 * `file` (written to a temp file beside it, then renamed). The keys only with `withKeys`.
 */
export async function backupDataFolder(dataDir: string, file: string, options: { withKeys?: boolean } = {}): Promise<BackupResult> {
  const dir = resolve(dataDir);
  const target = resolve(file);
  if (!existsSync(join(dir, 'gleaner.db')))
    throw new BackupError(`no Gleaner database in ${dir} (gleaner.db is missing): is the data folder right?`);
  if (!existsSync(dirname(target))) throw new BackupError(`${dirname(target)}: no such folder for the backup file`);
  if (existsSync(target)) throw new BackupError(`${target} already exists: name a new file`);
  const work = await mkdtemp(join(dirname(target), `.${basename(target)}.`));
  const partial = join(work, 'backup.tar.gz');
  try {
    await chmod(work, 0o700);
    const entries: Entry[] = [];
    for (const name of DATABASES) {
      if (!existsSync(join(dir, name))) continue;
      const copy = join(work, name);
      await snapshotDatabase(join(dir, name), copy);
      entries.push({ name, type: 'file', source: copy, size: (await stat(copy)).size });
    }
    const needed = sealedKeyIds(join(work, 'gleaner.db'));
    const pointer = join(keysDir(dir), 'current');
    const current = existsSync(pointer) ? (await readFile(pointer, 'utf8')).trim() : null;

    const konnectors = await walk(dir, 'konnectors', (entry, depth) => entry.name.startsWith('.') && depth === 0);
    // `.incoming-*`: a file the stack is still copying in (it renames it into place when whole).
    const files = await walk(dir, 'files', (entry) => entry.name.startsWith('.incoming-'));
    const keys = options.withKeys
      ? await walk(dir, 'keys', (entry) => !(entry.name === 'current' || entry.name.endsWith('.key')))
      : [];
    if (options.withKeys && !keys.some((k) => k.name.endsWith('.key')))
      throw new BackupError(`--with-keys: there is no key file in ${keysDir(dir)} (is the key given by GLEANER_SECRET_KEY? keep it apart)`);
    for (const [name, tree] of [['konnectors', konnectors], ['files', files], ['keys', keys]] as const)
      if (tree.length) entries.push({ name: `${name}/`, type: 'directory' }, ...tree);

    const count = (tree: Entry[]) => tree.filter((e) => e.type === 'file').length;
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      keys: { included: options.withKeys ?? false, needed: [...new Set([...needed, ...(current ? [current] : [])])].sort(), current },
      counts: {
        databases: entries.filter((e) => (DATABASES as readonly string[]).includes(e.name)).length,
        konnectorFiles: count(konnectors),
        accountFiles: count(files),
        keyFiles: count(keys),
        bytes: entries.reduce((sum, e) => sum + (e.size ?? 0), 0),
      },
    };

    const tar = new PassThrough();
    const written = pipeline(tar, createGzip({ level: 6 }), createWriteStream(partial, { mode: 0o600, flags: 'wx' }));
    const writing = (async () => {
      const data = Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
      await push(tar, tarHeader({ name: BACKUP_MANIFEST }, data.length));
      await push(tar, Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)]));
      for (const entry of entries) {
        if (entry.type === 'file') await writeFileEntry(tar, entry.name, entry.source!);
        else await push(tar, tarHeader({ name: entry.name, type: 'directory' }, 0));
      }
      tar.end(Buffer.alloc(2 * BLOCK));
    })();
    writing.catch((error: unknown) => tar.destroy(error as Error));
    // The pipeline's error first: a full disk shows there, and the writer then only sees its stream closed.
    const [pipe, writer] = await Promise.allSettled([written, writing]);
    if (pipe.status === 'rejected') throw pipe.reason;
    if (writer.status === 'rejected') throw writer.reason;
    const handle = await open(partial, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(partial, target);
    return { file: target, manifest };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && ['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EFBIG', 'SQLITE_FULL', 'SQLITE_READONLY'].includes(code))
      throw new BackupError(`the backup could not be written (${(error as Error).message}); nothing was left in ${dirname(target)}`);
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Reads a gunzip stream: `exactly` for headers, `some` for file data (no copy of a large buffer). */
class StreamReader {
  readonly #chunks: AsyncIterator<Buffer>;
  #buffer: Buffer = Buffer.alloc(0);
  constructor(stream: AsyncIterable<Buffer>) {
    this.#chunks = stream[Symbol.asyncIterator]();
  }
  /** At most `max` bytes, at least one unless the stream has ended. */
  async some(max: number): Promise<Buffer> {
    while (this.#buffer.length === 0) {
      const next = await this.#chunks.next();
      if (next.done) return this.#buffer;
      this.#buffer = next.value;
    }
    const out = this.#buffer.subarray(0, max);
    this.#buffer = this.#buffer.subarray(out.length);
    return out;
  }
  /** `n` bytes, or fewer at the end of the stream. */
  async exactly(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let length = 0;
    while (length < n) {
      const part = await this.some(n - length);
      if (part.length === 0) break;
      parts.push(part);
      length += part.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** SQLite's own check of a restored database (a damaged page, not a database at all). */
function checkDatabase(file: string, name: string, refuse: (path: string, message: string) => never): void {
  let result: string;
  try {
    const db = new BetterSqlite3(file, { fileMustExist: true });
    try {
      result = String(db.pragma('quick_check', { simple: true }));
    } finally {
      db.close();
    }
  } catch (error) {
    refuse(name, `not a usable SQLite database (${(error as Error).message})`);
  }
  if (result! !== 'ok') refuse(name, `SQLite's check failed: ${result!}`);
}

/** Why a backup entry's name is refused, or null. */
function entryProblem(path: string, type: 'file' | 'directory', manifest: BackupManifest | null): string | null {
  if (path.startsWith('/')) return 'an absolute path';
  if (path.includes('\\')) return 'a backslash in the path';
  const parts = path.replace(/\/$/, '').split('/');
  if (parts.includes('..')) return 'a path that leaves the data folder (..)';
  if (parts.some((part) => part === '' || part === '.')) return 'an empty or "." path component';
  if (!manifest) return path === BACKUP_MANIFEST && type === 'file' ? null : `the first entry must be ${BACKUP_MANIFEST}`;
  const top = parts[0]!;
  if (parts.length === 1 && type === 'file') return (DATABASES as readonly string[]).includes(top) ? null : 'not an entry a backup holds';
  if (!(TREES as readonly string[]).includes(top)) return `not an entry a backup holds (only ${[BACKUP_MANIFEST, ...DATABASES, ...TREES].join(', ')})`;
  if (top === 'keys' && !manifest.keys.included) return 'a key file in a backup whose manifest says the keys are kept apart';
  return null;
}

export type RestoreResult = {
  dataDir: string;
  manifest: BackupManifest;
  /** The key ids to hand over before the stack starts (empty when the keys were inside). */
  keysToProvide: string[];
};

/**
 * `gleaner restore`: unpacks a backup into an empty (or new) data folder, folders 0700 and files
 * 0600. Checks every entry (files and folders only, no `..`, only the entries a backup holds); on a
 * refusal it removes what it wrote. Without the keys inside, it writes `keys/current` naming the key
 * the stack will need, so that the stack refuses to start until that key is given.
 */
export async function restoreDataFolder(file: string, dataDir: string): Promise<RestoreResult> {
  const source = resolve(file);
  const dir = resolve(dataDir);
  if (!existsSync(source)) throw new BackupError(`${source}: no such backup file`);
  if (existsSync(dir)) {
    if (!(await lstat(dir)).isDirectory()) throw new BackupError(`${dir} is not a folder`);
    const present = await readdir(dir);
    if (present.length)
      throw new BackupError(`${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): restore into a new or empty folder`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const refuse = (path: string, message: string): never => {
    throw new BackupError(`${source} is not a backup this can restore: ${path}: ${message}`);
  };
  let manifest: BackupManifest | null = null;
  try {
    const gunzip = createGunzip();
    const input = createReadStream(source);
    input.on('error', (error) => gunzip.destroy(error));
    const reader = new StreamReader(input.pipe(gunzip));
    const counts = { databases: 0, konnectorFiles: 0, accountFiles: 0, keyFiles: 0 };
    for (;;) {
      const block = await reader.exactly(BLOCK);
      if (block.length < BLOCK) refuse('(archive)', 'it is truncated (no end marker)');
      const header = parseTarHeader(block);
      if (!header) break;
      const { path, flag, size } = header;
      if (!header.valid) refuse('(archive)', 'not a ustar archive, or a bad header checksum');
      if (size === null) refuse(path, 'the size in its header is not a number');
      const type = flag === '0' || flag === '\0' ? 'file' : flag === '5' ? 'directory' : null;
      if (!type) refuse(path, 'only regular files and folders are allowed (a link, device or other entry)');
      const problem = entryProblem(path, type!, manifest);
      if (problem) refuse(path, problem);
      const target = join(dir, path);
      if (type === 'directory') {
        if (size) refuse(path, 'a folder with contents');
        await mkdir(target, { recursive: true, mode: 0o700 });
        continue;
      }
      if (!manifest) {
        if (size! > MANIFEST_MAX_BYTES) refuse(path, `${size} bytes, over the limit of ${MANIFEST_MAX_BYTES / 1024} KiB`);
        const data = await reader.exactly(size!);
        await reader.exactly((BLOCK - (size! % BLOCK)) % BLOCK);
        let parsed: unknown;
        try {
          parsed = JSON.parse(data.toString('utf8'));
        } catch {
          refuse(path, 'not valid JSON');
        }
        const result = BackupManifest.safeParse(parsed);
        if (!result.success) refuse(path, `not a manifest of backup format ${BACKUP_FORMAT}: ${result.error.issues[0]?.message}`);
        manifest = result.data!;
        continue;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      const handle = await open(target, 'wx', 0o600);
      try {
        let left = size!;
        while (left > 0) {
          const chunk = await reader.some(Math.min(CHUNK, left));
          if (chunk.length === 0) refuse(path, 'the archive ends inside this file');
          await handle.write(chunk);
          left -= chunk.length;
        }
      } finally {
        await handle.close();
      }
      await reader.exactly((BLOCK - (size! % BLOCK)) % BLOCK);
      const top = path.split('/')[0]!;
      if (top === 'konnectors') counts.konnectorFiles++;
      else if (top === 'files') counts.accountFiles++;
      else if (top === 'keys') counts.keyFiles++;
      else counts.databases++;
    }
    if (!manifest) refuse('(archive)', `no ${BACKUP_MANIFEST}`);
    const m = manifest!;
    for (const key of Object.keys(counts) as Array<keyof typeof counts>)
      if (counts[key] !== m.counts[key]) refuse('(archive)', `${counts[key]} ${key} where its manifest says ${m.counts[key]}`);
    if (!existsSync(join(dir, 'gleaner.db'))) refuse('(archive)', 'no gleaner.db');
    for (const name of DATABASES) if (existsSync(join(dir, name))) checkDatabase(join(dir, name), name, refuse);
    // keys/current naming a missing key file: the stack refuses to start (naming it) rather than make a new key.
    const pointerId = m.keys.current ?? m.keys.needed[0];
    if (!m.keys.included && pointerId) {
      await mkdir(keysDir(dir), { recursive: true, mode: 0o700 });
      await writeFile(join(keysDir(dir), 'current'), `${pointerId}\n`, { mode: 0o600 });
    }
    return { dataDir: dir, manifest: m, keysToProvide: m.keys.included ? [] : m.keys.needed };
  } catch (error) {
    for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
    if (error instanceof BackupError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR')
      throw new BackupError(`${source} is not a backup this can restore: ${(error as Error).message} (not a gzip file, or damaged)`);
    throw error;
  }
}
