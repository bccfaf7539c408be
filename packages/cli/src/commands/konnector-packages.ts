import { readFileSync, statSync } from 'node:fs';
import { packKonnector } from './pack.js';
import {
  installIntoDataFolder,
  listDataFolderKonnectors,
  PACKAGE_MAX_BYTES,
  StackError,
  uninstallFromDataFolder,
} from '@gleaner/stack';
import { defineCommand } from '../command.js';
import { UsageError } from '../usage-error.js';
import { dataOption, databaseFrom, databaseOption } from './data-option.js';

/** A refusal of the stack (a bad package, a downgrade, accounts still using it): its reasons, no stack trace. */
function refused(error: unknown): number {
  if (!(error instanceof StackError)) throw error;
  const details = (error.details ?? {}) as { problems?: { path: string; message: string }[] };
  const lines = details.problems?.length
    ? ['refused: a bad konnector package', ...details.problems.map((p) => `  ${p.path}: ${p.message}`)]
    : [`refused: ${error.message}`];
  process.stderr.write(`${lines.join('\n')}\n`);
  return 1;
}

export const installCommand = defineCommand({
  name: 'install',
  summary: 'install a konnector package (.tgz) into the data folder',
  usage: 'gleaner install <package.tgz | folder> [--data DIR] [--force]',
  description: [
    'Checks the package whole (manifest, sizes, digests, no link or path leaving it) and installs it as',
    '<data>/konnectors/<slug>/<version>/. A newer version becomes current for the next job; running jobs',
    'finish on theirs. Works while `gleaner serve` runs on the folder. A package is what `gleaner pack`',
    'makes; a konnector folder is built and packed first, as `gleaner pack` would.',
  ].join('\n'),
  args: [{ name: 'package.tgz | folder', description: 'the konnector package, or a konnector folder', type: 'path' }],
  options: {
    data: dataOption,
    force: { type: 'boolean', description: 'allow a downgrade, or reinstalling the same version' },
  },
  async run({ options, args }) {
    const file = args[0]!;
    let info;
    try {
      info = statSync(file);
    } catch {
      throw new UsageError(`${file}: no such file or folder`);
    }
    const tgz = info.isDirectory() ? (await packKonnector(file)).tgz : undefined;
    const size = tgz ? tgz.byteLength : info.size;
    if (size > PACKAGE_MAX_BYTES)
      throw new UsageError(`${file} is ${size} bytes, over the limit of ${PACKAGE_MAX_BYTES / 1024 / 1024} MiB`);
    try {
      const { konnector, previousVersion } = await installIntoDataFolder(options.data, tgz ?? readFileSync(file), {
        force: options.force,
      });
      const { slug, version } = konnector.manifest;
      process.stdout.write(
        previousVersion === null
          ? `installed ${slug} ${version}\n`
          : `installed ${slug} ${version} (was ${previousVersion}); the next job runs ${version}\n`,
      );
      return 0;
    } catch (error) {
      return refused(error);
    }
  },
});

export const konnectorsCommand = defineCommand({
  name: 'konnectors',
  summary: 'list the konnectors installed in the data folder, and the refused ones with their reason',
  usage: 'gleaner konnectors [--data DIR] [--konnectors DIR]',
  description: 'One line a konnector: slug, version, source, the kinds of 2FA it may ask for.',
  options: {
    data: dataOption,
    konnectors: {
      type: 'dir',
      value: 'DIR',
      multiple: true,
      description: 'a development folder, as given to `gleaner serve --konnectors`',
    },
  },
  async run({ options }) {
    const { konnectors, problems } = listDataFolderKonnectors(options.data, options.konnectors);
    const rows = konnectors.map((k) => [k.slug, k.version, k.source, k.twofa.length ? k.twofa.join(',') : '-']);
    if (rows.length === 0) process.stdout.write(`no konnector installed in ${options.data}\n`);
    else {
      const table = [['SLUG', 'VERSION', 'SOURCE', '2FA'], ...rows];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    }
    for (const problem of problems) {
      process.stdout.write(`refused ${problem.slug ?? '?'} (${problem.source}, ${problem.dir}):\n`);
      for (const p of problem.problems) process.stdout.write(`  ${p.path}: ${p.message}\n`);
    }
    return 0;
  },
});

export const uninstallCommand = defineCommand({
  name: 'uninstall',
  summary: 'remove an installed konnector (refused while accounts use it)',
  usage: 'gleaner uninstall <slug> [--data DIR] [--database URL] [--force]',
  description: [
    'New jobs no longer see the konnector; running ones finish. Refused while accounts use it, with',
    'their count, unless --force (their next runs then fail). Works while `gleaner serve` runs. The',
    "accounts are counted in the data folder's SQLite, or in the PostgreSQL database that --database",
    'or GLEANER_DATABASE_URL names.',
  ].join('\n'),
  args: [{ name: 'slug', description: "the konnector's slug, as `gleaner konnectors` lists it" }],
  options: {
    data: dataOption,
    database: databaseOption,
    force: { type: 'boolean', description: 'remove it even while accounts use it' },
  },
  async run({ options, args }) {
    try {
      const slug = args[0]!;
      const database = databaseFrom(options.database);
      const { version, accounts } = await uninstallFromDataFolder(options.data, slug, {
        force: options.force,
        ...(database !== undefined ? { database } : {}),
      });
      process.stdout.write(
        `uninstalled ${slug} ${version}${accounts ? ` (${accounts} account(s) still name it)` : ''}\n`,
      );
      return 0;
    } catch (error) {
      return refused(error);
    }
  },
});
