import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  MANIFEST_FILE,
  parseManifest,
  type KonnectorInfo,
  type Manifest,
  type ManifestProblem,
} from '@gleaner/contracts';

/** A konnector the registry accepted: its manifest, its folder, and its entry file. */
export type InstalledKonnector = {
  manifest: Manifest;
  dir: string;
  /** `manifest.main`, relative to `dir`. */
  main: string;
  info: KonnectorInfo;
  /** Chosen by the operator (a folder given to the stack): may run outside the sandbox where there is none. */
  trusted: boolean;
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

export type RegistryProblem = { dir: string; problems: ManifestProblem[] };

/** Per konnector slug, per field name: the default this installation uses instead of the manifest's. */
export type FieldDefaults = Record<string, Record<string, string>>;

/** Reads and validates one konnector folder; throws `ManifestError` naming the exact problem. */
export function readKonnector(folder: string): InstalledKonnector {
  const dir = resolve(folder);
  const file = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const message =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? `no ${MANIFEST_FILE} in this folder`
        : `not valid JSON: ${(error as Error).message}`;
    throw new ManifestError(dir, [{ path: '(root)', message }]);
  }
  const parsed = parseManifest(raw);
  if (!parsed.ok) throw new ManifestError(dir, parsed.problems);
  const manifest = parsed.manifest;
  const main = join(dir, manifest.main);
  if (!resolve(main).startsWith(dir + '/'))
    throw new ManifestError(dir, [{ path: 'main', message: 'must stay inside the konnector folder' }]);
  if (!existsSync(main) || !statSync(main).isFile()) {
    throw new ManifestError(dir, [{ path: 'main', message: `${manifest.main} does not exist` }]);
  }
  return {
    manifest,
    dir,
    main: manifest.main,
    trusted: true,
    info: {
      slug: manifest.slug,
      name: manifest.name,
      version: manifest.version,
      description: manifest.description,
      ...(manifest.vendor_link ? { vendor_link: manifest.vendor_link } : {}),
      twofa: manifest.twofa,
      fields: manifest.fields,
    },
  };
}

/**
 * The installed konnectors. Each folder given is either a konnector (it holds a manifest: a bad
 * one throws, since it was named explicitly) or a folder of konnectors (each sub-folder with a
 * manifest is read; a bad one is skipped and reported in `problems`, the good ones load).
 */
export class KonnectorRegistry {
  readonly #bySlug = new Map<string, InstalledKonnector>();
  readonly problems: RegistryProblem[] = [];

  /**
   * `fieldDefaults` replaces manifest defaults for this installation, e.g. the demo's
   * `{ github: { baseUrl: 'http://127.0.0.1:<port>/github' } }`; a slug or field that is not installed
   * is refused, so a typo does not pass silently.
   */
  static load(folders: string[], options: { fieldDefaults?: FieldDefaults } = {}): KonnectorRegistry {
    const registry = new KonnectorRegistry();
    for (const folder of folders) {
      if (existsSync(join(folder, MANIFEST_FILE))) {
        registry.#add(readKonnector(folder), true);
        continue;
      }
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        throw new ManifestError(resolve(folder), [{ path: '(root)', message: 'no such folder' }]);
      }
      for (const name of readdirSync(folder).sort()) {
        const sub = join(folder, name);
        if (!statSync(sub).isDirectory() || !existsSync(join(sub, MANIFEST_FILE))) continue;
        try {
          registry.#add(readKonnector(sub), false);
        } catch (error) {
          if (!(error instanceof ManifestError)) throw error;
          registry.problems.push({ dir: error.dir, problems: error.problems });
        }
      }
    }
    for (const [slug, defaults] of Object.entries(options.fieldDefaults ?? {})) registry.#setDefaults(slug, defaults);
    return registry;
  }

  #setDefaults(slug: string, defaults: Record<string, string>): void {
    const konnector = this.#bySlug.get(slug);
    if (!konnector) throw new Error(`fieldDefaults: no konnector ${JSON.stringify(slug)} is installed`);
    for (const [name, value] of Object.entries(defaults)) {
      const field = konnector.manifest.fields[name];
      if (!field) throw new Error(`fieldDefaults: konnector ${slug} has no field ${JSON.stringify(name)}`);
      const fields = { ...konnector.manifest.fields, [name]: { ...field, default: value } };
      konnector.manifest = { ...konnector.manifest, fields };
      konnector.info = { ...konnector.info, fields };
    }
  }

  #add(konnector: InstalledKonnector, explicit: boolean): void {
    const existing = this.#bySlug.get(konnector.manifest.slug);
    if (existing) {
      const error = new ManifestError(konnector.dir, [
        { path: 'slug', message: `${konnector.manifest.slug} is already installed from ${existing.dir}` },
      ]);
      if (explicit) throw error;
      this.problems.push({ dir: error.dir, problems: error.problems });
      return;
    }
    this.#bySlug.set(konnector.manifest.slug, konnector);
  }

  get(slug: string): InstalledKonnector | undefined {
    return this.#bySlug.get(slug);
  }

  list(): InstalledKonnector[] {
    return [...this.#bySlug.values()].sort((a, b) => a.manifest.slug.localeCompare(b.manifest.slug));
  }
}
