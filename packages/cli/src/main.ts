#!/usr/bin/env node
import { CommandLineError, type Command } from './command.js';
import { commands } from './commands/index.js';
import { UsageError } from './usage-error.js';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 3;
  return [
    'gleaner <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run `gleaner <command> --help` for a command's options.",
    '',
  ].join('\n');
}

/** Errors whose message is the whole story (a busy data folder, an unsafe key file, a bad manifest). */
const REFUSALS = new Set([
  'DataFolderBusyError',
  'SecretKeyError',
  'ManifestError',
  'MissingDataError',
  'BundleError',
  'PackageError',
  'DiskFaultError',
  'BackupError',
  'DatabaseError',
]);

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    process.stderr.write(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(topic ? topic.help() : usage());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gleaner: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.main(rest);
  } catch (error) {
    return report(command, error);
  }
}

function report(command: Command, error: unknown): number {
  const prefix = `gleaner ${command.name}:`;
  if (error instanceof CommandLineError) {
    process.stderr.write(`${prefix} ${error.message}\n\n${command.help()}`);
    return 2;
  }
  if (error instanceof UsageError) {
    process.stderr.write(`${prefix} ${error.message}\n(see \`gleaner ${command.name} --help\`)\n`);
    return 2;
  }
  if (REFUSALS.has((error as Error).name)) {
    // The stack refused on purpose and says why: no stack trace.
    process.stderr.write(`${prefix} ${(error as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`${prefix} ${String((error as Error)?.stack ?? error)}\n`);
  return 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`gleaner: ${String((error as Error)?.stack ?? error)}\n`);
    process.exitCode = 1;
  },
);
