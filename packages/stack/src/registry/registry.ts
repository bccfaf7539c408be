import { closeSync, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import {
  ICON_MAX_BYTES,
  MANIFEST_FILE,
  MANIFEST_MAX_BYTES,
  parseManifest,
  type KonnectorInfo,
  type KonnectorProblem,
  type KonnectorSource,
  type Manifest,
  type ManifestProblem,
} from '@gleaner/contracts';
import { listInstalled } from './install-store.js';

/** A konnector the registry accepted: its manifest, its folder, and its entry file. */
export type InstalledKonnector = {
  manifest: Manifest;
  dir: string;
  /** `manifest.main`, relative to `dir`. */
  main: string;
  /** `installed`: a package in the data folder; `development`: a folder given as `konnectorDirs`. */
  source: KonnectorSource;
  /**
   * Development folders are the operator's own code and may run outside the sandbox where there is
   * none; installed packages are not trusted.
   */
  trusted: boolean;
  /** The icon file, absolute, when the manifest names one. */
  iconPath: string | null;
  info: KonnectorInfo;
};

/** A konnector folder that was refused, with the exact path of each problem in its manifest. */
export class ManifestError extends Error {
  override name = 'ManifestError';
  constructor(
    readonly dir: string,
    readonly problems: ManifestProblem[],
  ) {
    super(`${join(dir, MANIFEST_FILE)}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

/** A konnector found and refused (or hidden by another of the same slug), as the API shows it. */
export type RegistryProblem = KonnectorProblem;

/** Per konnector slug, per field name: the default this installation uses instead of the manifest's. */
export type FieldDefaults = Record<string, Record<string, string>>;

/**
 * Checks that `relative` names a regular file inside `dir` with no symbolic link on the way (each
 * component is lstat'ed); returns its absolute path, or the problem.
 */
function fileInside(dir: string, relative: string, what: string): { path: string } | { problem: string } {
  const path = resolve(dir, relative);
  if (!path.startsWith(dir + sep)) return { problem: `${what} must stay inside the konnector folder` };
  const parts = path.slice(dir.length + 1).split(sep);
  let at = dir;
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    let stat;
    try {
      stat = lstatSync(at);
    } catch {
      return { problem: `${relative} does not exist` };
    }
    if (stat.isSymbolicLink()) {
      const link = at.slice(dir.length + 1);
      return { problem: link === relative ? `${relative} is a symbolic link` : `${relative}: ${link} is a symbolic link` };
    }
    if (i < parts.length - 1 ? !stat.isDirectory() : !stat.isFile())
      return { problem: `${relative} is not a ${i < parts.length - 1 ? 'folder' : 'file'}` };
  }
  return { path };
}

/** The manifest's text, refused before it is read whole when over 64 KiB (or not a plain file). */
function readManifestText(file: string, dir: string): string {
  const refuse = (message: string): never => {
    throw new ManifestError(dir, [{ path: '(root)', message }]);
  };
  let fd: number;
  try {
    const stat = lstatSync(file);
    if (stat.isSymbolicLink()) refuse(`${MANIFEST_FILE} is a symbolic link`);
    fd = openSync(file, 'r');
  } catch (error) {
    if (error instanceof ManifestError) throw error;
    return refuse(
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `no ${MANIFEST_FILE} in this folder`
        : `cannot read ${MANIFEST_FILE}: ${(error as Error).message}`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) refuse(`${MANIFEST_FILE} is not a file`);
    if (stat.size > MANIFEST_MAX_BYTES) refuse(`${MANIFEST_FILE} is ${stat.size} bytes, over the limit of ${MANIFEST_MAX_BYTES / 1024} KiB`);
    // Read at most one byte more than the limit: a file that grew since fstat is still bounded.
    const buffer = Buffer.alloc(MANIFEST_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
      if (length > MANIFEST_MAX_BYTES) refuse(`${MANIFEST_FILE} is over the limit of ${MANIFEST_MAX_BYTES / 1024} KiB`);
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates one konnector folder; throws `ManifestError` naming the exact problem. The
 * manifest is bounded (64 KiB, 64 fields); `main` and `icon` must be plain files inside the folder,
 * reached through no symbolic link.
 */
export function readKonnector(folder: string, options: { source?: KonnectorSource } = {}): InstalledKonnector {
  const source = options.source ?? 'development';
  const dir = resolve(folder);
  const text = readManifestText(join(dir, MANIFEST_FILE), dir);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(dir, [{ path: '(root)', message: `not valid JSON: ${(error as Error).message}` }]);
  }
  const parsed = parseManifest(raw);
  if (!parsed.ok) throw new ManifestError(dir, parsed.problems);
  const manifest = parsed.manifest;
  const main = fileInside(dir, manifest.main, 'main');
  if ('problem' in main) throw new ManifestError(dir, [{ path: 'main', message: main.problem }]);
  let iconPath: string | null = null;
  if (manifest.icon !== undefined) {
    const icon = fileInside(dir, manifest.icon, 'icon');
    if ('problem' in icon) throw new ManifestError(dir, [{ path: 'icon', message: icon.problem }]);
    const size = statSync(icon.path).size;
    if (size > ICON_MAX_BYTES)
      throw new ManifestError(dir, [{ path: 'icon', message: `${size} bytes, over the limit of ${ICON_MAX_BYTES / 1024} KiB` }]);
    iconPath = icon.path;
  }
  return {
    manifest,
    dir,
    main: manifest.main,
    source,
    trusted: source === 'development',
    iconPath,
    info: infoOf(manifest, source, iconPath !== null),
  };
}

function infoOf(manifest: Manifest, source: KonnectorSource, hasIcon: boolean): KonnectorInfo {
  return {
    slug: manifest.slug,
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    ...(manifest.vendor_link ? { vendor_link: manifest.vendor_link } : {}),
    twofa: manifest.twofa,
    fields: manifest.fields,
    source,
    ...(hasIcon ? { icon: `/api/konnectors/${manifest.slug}/icon` } : {}),
    ...(manifest.manualOnly ? { manualOnly: true } : {}),
  };
}

/** The content type of an icon file, by its extension. */
export const iconContentType = (path: string): string =>
  extname(path).toLowerCase() === '.svg' ? 'image/svg+xml' : 'image/png';

export type RegistryOptions = {
  fieldDefaults?: FieldDefaults;
  /** The data folder whose `konnectors/` holds installed packages; none: development folders only. */
  dataDir?: string;
  /** Slugs of development konnectors to treat as untrusted, as installed packages are (tests, the cautious). */
  untrusted?: string[];
};

/**
 * The konnectors a stack runs: development folders (`konnectorDirs`: each a konnector, or a folder
 * of konnectors) and the packages installed in the data folder. `refresh()` reads them all again
 * (at each job start, so an author's edit and a new install show without a restart). A slug found
 * in both: the development folder wins, and the installed one is reported in `problems`.
 */
export class KonnectorRegistry {
  #bySlug = new Map<string, InstalledKonnector>();
  #problems: RegistryProblem[] = [];
  readonly #folders: string[];
  readonly #options: RegistryOptions;
  /** Folders of installed versions that running jobs use, counted: a prune keeps them. */
  readonly #inUse = new Map<string, number>();

  private constructor(folders: string[], options: RegistryOptions) {
    this.#folders = folders.map((folder) => resolve(folder));
    this.#options = options;
  }

  /**
   * Loads the konnectors. A development folder named explicitly that is bad throws (at load only:
   * a later `refresh()` reports it in `problems` instead). `fieldDefaults` replaces manifest defaults
   * for this installation, e.g. the demo's `{ github: { baseUrl: 'http://127.0.0.1:<port>/github' } }`;
   * a slug or field that is not installed is refused, so a typo does not pass silently.
   */
  static load(folders: string[], options: RegistryOptions = {}): KonnectorRegistry {
    const registry = new KonnectorRegistry(folders, options);
    registry.#scan(true);
    for (const slug of Object.keys(options.fieldDefaults ?? {})) {
      if (!registry.#bySlug.has(slug)) throw new Error(`fieldDefaults: no konnector ${JSON.stringify(slug)} is installed`);
    }
    return registry;
  }

  /** Reads every development folder and the installed packages again. */
  refresh(): void {
    this.#scan(false);
  }

  get problems(): RegistryProblem[] {
    return this.#problems;
  }

  #scan(strict: boolean): void {
    const bySlug = new Map<string, InstalledKonnector>();
    const problems: RegistryProblem[] = [];
    const refuse = (error: ManifestError, source: KonnectorSource, slug: string | null) =>
      problems.push({ source, slug, dir: error.dir, problems: error.problems });
    const add = (konnector: InstalledKonnector, explicit: boolean) => {
      const existing = bySlug.get(konnector.manifest.slug);
      if (!existing) {
        bySlug.set(konnector.manifest.slug, konnector);
        return;
      }
      const error = new ManifestError(konnector.dir, [
        { path: 'slug', message: `${konnector.manifest.slug} is already loaded from ${existing.dir}` },
      ]);
      if (explicit && strict) throw error;
      refuse(error, konnector.source, konnector.manifest.slug);
    };

    for (const folder of this.#folders) {
      if (existsSync(join(folder, MANIFEST_FILE))) {
        try {
          add(readKonnector(folder), true);
        } catch (error) {
          if (strict || !(error instanceof ManifestError)) throw error;
          refuse(error, 'development', null);
        }
        continue;
      }
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        const error = new ManifestError(folder, [{ path: '(root)', message: 'no such folder' }]);
        if (strict) throw error;
        refuse(error, 'development', null);
        continue;
      }
      for (const name of readdirSync(folder).sort()) {
        const sub = join(folder, name);
        if (!statSync(sub).isDirectory() || !existsSync(join(sub, MANIFEST_FILE))) continue;
        try {
          add(readKonnector(sub), false);
        } catch (error) {
          if (!(error instanceof ManifestError)) throw error;
          refuse(error, 'development', null);
        }
      }
    }

    if (this.#options.dataDir) {
      const installed = listInstalled(this.#options.dataDir);
      for (const problem of installed.problems)
        problems.push({ source: 'installed', slug: problem.slug, dir: problem.dir, problems: [{ path: 'current', message: problem.message }] });
      for (const entry of installed.entries) {
        let konnector: InstalledKonnector;
        try {
          konnector = readKonnector(entry.dir, { source: 'installed' });
        } catch (error) {
          if (!(error instanceof ManifestError)) throw error;
          refuse(error, 'installed', entry.slug);
          continue;
        }
        if (konnector.manifest.slug !== entry.slug) {
          refuse(new ManifestError(entry.dir, [{ path: 'slug', message: `${konnector.manifest.slug} installed under ${entry.slug}` }]), 'installed', entry.slug);
          continue;
        }
        const development = bySlug.get(entry.slug);
        if (development) {
          problems.push({
            source: 'installed',
            slug: entry.slug,
            dir: entry.dir,
            problems: [
              { path: 'slug', message: `hidden by the development folder ${development.dir}: a development folder wins over an installed package` },
            ],
          });
          continue;
        }
        bySlug.set(entry.slug, konnector);
      }
    }

    for (const slug of this.#options.untrusted ?? []) {
      const konnector = bySlug.get(slug);
      if (konnector) konnector.trusted = false;
    }
    for (const [slug, defaults] of Object.entries(this.#options.fieldDefaults ?? {})) {
      const konnector = bySlug.get(slug);
      if (!konnector) continue;
      try {
        applyDefaults(konnector, defaults);
      } catch (error) {
        // At load a typo stops the start; later, a field an author removed is only reported.
        if (strict) throw error;
        problems.push({ source: konnector.source, slug, dir: konnector.dir, problems: [{ path: 'fields', message: (error as Error).message }] });
      }
    }
    this.#bySlug = bySlug;
    this.#problems = problems;
  }

  get(slug: string): InstalledKonnector | undefined {
    return this.#bySlug.get(slug);
  }

  list(): InstalledKonnector[] {
    return [...this.#bySlug.values()].sort((a, b) => a.manifest.slug.localeCompare(b.manifest.slug));
  }

  /** Reads the konnector again (a job starts) and marks its folder in use until `release()`. */
  acquire(slug: string): { konnector: InstalledKonnector; release(): void } | undefined {
    this.refresh();
    const konnector = this.#bySlug.get(slug);
    if (!konnector) return undefined;
    const dir = konnector.dir;
    this.#inUse.set(dir, (this.#inUse.get(dir) ?? 0) + 1);
    let released = false;
    return {
      konnector,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#inUse.get(dir) ?? 1) - 1;
        if (left > 0) this.#inUse.set(dir, left);
        else this.#inUse.delete(dir);
      },
    };
  }

  /** The folders running jobs use now. */
  inUse(): ReadonlySet<string> {
    return new Set(this.#inUse.keys());
  }
}

function applyDefaults(konnector: InstalledKonnector, defaults: Record<string, string>): void {
  for (const [name, value] of Object.entries(defaults)) {
    const field = konnector.manifest.fields[name];
    if (!field) throw new Error(`fieldDefaults: konnector ${konnector.manifest.slug} has no field ${JSON.stringify(name)}`);
    const fields = { ...konnector.manifest.fields, [name]: { ...field, default: value } };
    konnector.manifest = { ...konnector.manifest, fields };
    konnector.info = { ...konnector.info, fields };
  }
}
