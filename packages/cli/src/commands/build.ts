import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Manifest } from '@gleaner/contracts';
import { bundleKonnector, type KonnectorBundle } from '../bundle-konnector.js';
import { defineCommand } from '../command.js';
import { readKonnectorManifest } from '../load-konnector.js';
import { UsageError } from '../usage-error.js';

/** What a build made: the manifest it read (as written and as checked) and the bundle, written to `out`. */
export type BuiltKonnector = {
  dir: string;
  manifest: Manifest;
  raw: Record<string, unknown>;
  out: string;
  bundle: KonnectorBundle;
};

/** A path as the person would type it: relative to the working folder when under it, else absolute. */
export function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** `1234567` → `1.2 MB (1234567 bytes)`. */
export function formatSize(bytes: number): string {
  const human =
    bytes >= 1024 * 1024
      ? `${(bytes / 1024 / 1024).toFixed(1)} MB`
      : bytes >= 1024
        ? `${(bytes / 1024).toFixed(1)} kB`
        : `${bytes} B`;
  return `${human} (${bytes} bytes)`;
}

/** The entry to bundle: the TypeScript source if there is one, else the manifest's `main`. */
function entryOf(dir: string, manifest: Manifest): string {
  const source = join(dir, 'src', 'index.ts');
  if (existsSync(source)) return source;
  const main = resolve(dir, manifest.main);
  if (!main.startsWith(dir + '/'))
    throw new UsageError(`${dir}: the manifest's main must stay inside the konnector folder`);
  if (!existsSync(main))
    throw new UsageError(`${dir}: no src/index.ts, and the manifest's main ${manifest.main} does not exist`);
  return main;
}

/** Reads the konnector's manifest, bundles its entry and writes the bundle to `out`. */
export async function buildKonnector(folder: string, out?: string): Promise<BuiltKonnector> {
  const { dir, manifest, raw } = readKonnectorManifest(folder);
  const bundle = await bundleKonnector(entryOf(dir, manifest));
  const target = resolve(out ?? join(dir, 'build', 'index.mjs'));
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, bundle.code);
  return { dir, manifest, raw, out: target, bundle };
}

export const buildCommand = defineCommand({
  name: 'build',
  summary: 'bundle a konnector, the SDK included, into one ESM file',
  usage: 'gleaner build [folder] [--out FILE]',
  description: [
    'Bundles a konnector with everything it imports, the SDK included, into one ESM file for Node 20',
    "that needs no node_modules. The entry is src/index.ts if there is one, else the manifest's main.",
    "Prints the bundle's size and sha256.",
  ].join('\n'),
  args: [
    { name: 'folder', description: 'the konnector folder (default: the current folder)', type: 'dir', optional: true },
  ],
  options: {
    out: { type: 'path', value: 'FILE', description: 'where to write the bundle (default <folder>/build/index.mjs)' },
  },
  async run({ options, args }) {
    const built = await buildKonnector(args[0] ?? '.', options.out);
    process.stdout.write(
      `built ${shownPath(built.out)}: ${formatSize(built.bundle.bytes)}, sha256 ${built.bundle.sha256}\n`,
    );
    return 0;
  },
});
