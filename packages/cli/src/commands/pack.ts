import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { writeKonnectorPackage } from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { UsageError } from '../usage-error.js';
import { buildKonnector, formatSize, shownPath } from './build.js';

/** The manifest's icon, as the package names it (`icon.svg` or `icon.png`). */
function readIcon(dir: string, icon: string | undefined): { name: 'icon.svg' | 'icon.png'; data: Buffer } | undefined {
  if (icon === undefined) return undefined;
  const path = resolve(dir, icon);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new UsageError(`${dir}: the manifest's icon ${icon} does not exist`);
  return { name: extname(icon) === '.png' ? 'icon.png' : 'icon.svg', data: readFileSync(path) };
}

/** Builds a konnector folder and makes its package in memory (what `pack` writes and `install <folder>` installs). */
export async function packKonnector(folder: string) {
  const built = await buildKonnector(folder);
  const icon = readIcon(built.dir, built.manifest.icon);
  const readme = join(built.dir, 'README.md');
  const tgz = writeKonnectorPackage({
    manifest: built.raw,
    bundle: Buffer.from(built.bundle.code),
    ...(icon ? { icon } : {}),
    ...(existsSync(readme) ? { readme: readFileSync(readme) } : {}),
  });
  return { built, tgz };
}

export const packCommand = defineCommand({
  name: 'pack',
  summary: 'build, then write the konnector package <slug>-<version>.tgz',
  usage: 'gleaner pack [folder] [--out DIR]',
  description: [
    'Builds a konnector (see gleaner build), then writes its package <slug>-<version>.tgz: the manifest,',
    'the bundle, the icon the manifest names and README.md if there is one, with the sha256 of each',
    "file. `gleaner install` installs it into a stack. Prints its path, its size and the bundle's sha256.",
  ].join('\n'),
  args: [
    { name: 'folder', description: 'the konnector folder (default: the current folder)', type: 'dir', optional: true },
  ],
  options: {
    out: { type: 'path', value: 'DIR', default: '.', description: 'where to write the package' },
  },
  async run({ options, args }) {
    const { built, tgz } = await packKonnector(args[0] ?? '.');
    mkdirSync(options.out, { recursive: true });
    const file = join(options.out, `${built.manifest.slug}-${built.manifest.version}.tgz`);
    writeFileSync(file, tgz);
    process.stdout.write(
      `packed ${shownPath(file)}: ${formatSize(tgz.byteLength)}; bundle ${formatSize(built.bundle.bytes)}, sha256 ${built.bundle.sha256}\n`,
    );
    return 0;
  },
});
