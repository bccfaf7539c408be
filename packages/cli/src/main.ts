#!/usr/bin/env node
import { UsageError } from './usage-error.js';

const usage = `gleaner <command> [options]

Commands:
  run <folder>     run a konnector standalone (fields from a config file or the terminal)
  new <name>       scaffold a konnector with a test against a local 2FA test site
  build [folder]   bundle a konnector, the SDK included, into one ESM file
  pack [folder]    build, then write the konnector package <slug>-<version>.tgz
  serve            start the stack (API, Home, jobs, scheduler) on the embedded SQLite
  demo             the stack with the fake sites and the GitHub and Amazon konnectors
  sites            start the fake websites alone
  migrate          bring the data folder's database to the latest schema
  rotate-key       new secret key; every credential and session re-sealed under it

Run \`gleaner <command> --help\` for a command's options.`;

/** Errors whose message is the whole story (a busy data folder, an unsafe key file, a bad manifest). */
const REFUSALS = new Set(['DataFolderBusyError', 'SecretKeyError', 'ManifestError', 'MissingDataError', 'BundleError', 'PackageError']);

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).runCommand,
  new: async () => (await import('./commands/new.js')).newCommand,
  build: async () => (await import('./commands/build.js')).buildCommand,
  pack: async () => (await import('./commands/pack.js')).packCommand,
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  demo: async () => (await import('./commands/serve.js')).demoCommand,
  sites: async () => (await import('./commands/serve.js')).sitesCommand,
  migrate: async () => (await import('./commands/maintenance.js')).migrateCommand,
  'rotate-key': async () => (await import('./commands/maintenance.js')).rotateKeyCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stderr.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) throw new UsageError(`unknown command "${name}"\n\n${usage}`);
  return (await load())(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`gleaner: ${(error as Error).message}\n`);
      process.exitCode = 2;
    } else if (REFUSALS.has((error as Error).name)) {
      // The stack refused on purpose and says why: no stack trace.
      process.stderr.write(`gleaner: ${(error as Error).message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`gleaner: ${String((error as Error)?.stack ?? error)}\n`);
      process.exitCode = 1;
    }
  },
);
