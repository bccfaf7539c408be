import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeKonnectorPackage } from '@gleaner/stack';
import { UsageError } from '../usage-error.js';
import { buildKonnector, formatSize, shownPath } from './build.js';

export const packUsage = `gleaner pack [folder] [--out DIR]

Builds a konnector (default: the current folder; see gleaner build), then writes its package
<slug>-<version>.tgz: the manifest, the bundle, the icon the manifest names and README.md if there is
one, with the sha256 of each file. \`gleaner install\` installs it into a stack.

  --out DIR   where to write the package (default: the current folder)`;

/** The manifest's icon, as the package names it (`icon.svg` or `icon.png`). */
function readIcon(dir: string, icon: string | undefined): { name: 'icon.svg' | 'icon.png'; data: Buffer } | undefined {
  if (icon === undefined) return undefined;
  const path = resolve(dir, icon);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new UsageError(`${dir}: the manifest's icon ${icon} does not exist`);
  return { name: extname(icon) === '.png' ? 'icon.png' : 'icon.svg', data: readFileSync(path) };
}

export async function packCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stderr.write(`${packUsage}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`expected at most one konnector folder\n\n${packUsage}`);
  const built = await buildKonnector(positionals[0] ?? '.');
  const icon = readIcon(built.dir, built.manifest.icon);
  const readme = join(built.dir, 'README.md');
  const tgz = writeKonnectorPackage({
    manifest: built.raw,
    bundle: Buffer.from(built.bundle.code),
    ...(icon ? { icon } : {}),
    ...(existsSync(readme) ? { readme: readFileSync(readme) } : {}),
  });
  const outDir = resolve(values.out ?? '.');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${built.manifest.slug}-${built.manifest.version}.tgz`);
  writeFileSync(file, tgz);
  process.stdout.write(
    `packed ${shownPath(file)}: ${formatSize(tgz.byteLength)}; bundle ${formatSize(built.bundle.bytes)}, sha256 ${built.bundle.sha256}\n`,
  );
  return 0;
}
