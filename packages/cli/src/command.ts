/**
 * The one way a `gleaner` command is declared. A command says what it takes; this file parses the
 * arguments, checks them, and writes the help, so that every command answers `--help` the same way
 * and refuses an unknown option by name.
 *
 * Adding a command:
 *
 *     export const fooCommand = defineCommand({
 *       name: 'foo',
 *       summary: 'one line for the main usage',
 *       usage: 'gleaner foo <folder> [options]',
 *       description: 'A paragraph or two for `gleaner foo --help`.',   // optional
 *       args: [{ name: 'folder', description: 'the konnector folder', type: 'dir', optional: true }],
 *       options: {
 *         data: { type: 'path', value: 'DIR', description: 'the data folder', default: 'data' },
 *         force: { type: 'boolean', description: 'allow a downgrade' },
 *         port: { type: 'number', value: 'PORT', description: 'where to listen', integer: true, min: 0, max: 65535 },
 *         field: { type: 'string', value: 'NAME=VALUE', description: 'one field', multiple: true },
 *       },
 *       async run({ options, args }) {   // options.data: string, options.force: boolean, args: string[]
 *         return 0;                      // the exit code
 *       },
 *     });
 *
 * then add it to the table in `commands/index.ts` (the main usage lists that table, in its order).
 *
 * Option types: `boolean` (false unless given); `string`; `number` (checked: finite, and `integer`,
 * `min`, `max` when given); `path` (resolved against the working directory at parse time, need not
 * exist: a data folder made at start); `dir` / `file` (resolved, and must exist as one). `multiple`
 * makes a repeatable option whose value is an array (empty when not given). `default` is parsed
 * like a given value (a `path` default is resolved too). `--help` / `-h` is added to every command.
 *
 * Positional `args` take the same `type`s except `boolean`; `optional` ones come last; `variadic`
 * (the last one only) takes the rest. `run` gets them in order as `args`.
 *
 * Inside `run`, throw `UsageError` for bad input the parser could not see: it is printed as
 * `gleaner <name>: <message>` with a pointer to the help, exit 2.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

type ValueType = 'string' | 'number' | 'path' | 'dir' | 'file';

export type OptionSpec =
  | { type: 'boolean'; description: string; short?: string }
  | {
      type: ValueType;
      description: string;
      /** The value's placeholder in the help: `--data DIR`. */
      value: string;
      short?: string;
      multiple?: boolean;
      default?: string;
      /** For `number`: refuse fractions. */
      integer?: boolean;
      min?: number;
      max?: number;
    };

export type ArgSpec = {
  name: string;
  description: string;
  type?: Exclude<ValueType, 'number'>;
  optional?: boolean;
  variadic?: boolean;
};

type Parsed<S> = S extends { type: 'boolean' }
  ? boolean
  : S extends { multiple: true }
    ? S extends { type: 'number' }
      ? number[]
      : string[]
    : (S extends { type: 'number' } ? number : string) | (S extends { default: string } ? never : undefined);

export type OptionValues<O extends Record<string, OptionSpec>> = { -readonly [K in keyof O]: Parsed<O[K]> };

export type CommandSpec<O extends Record<string, OptionSpec>> = {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  args?: readonly ArgSpec[];
  options: O;
  run(input: { options: OptionValues<O>; args: string[] }): Promise<number>;
};

/** A declared command, ready for the table in `commands/index.ts`. */
export type Command = {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly args: readonly ArgSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** The text `gleaner <name> --help` prints. */
  help(): string;
  /** Parses argv (what follows the command's name) and runs; returns the exit code. */
  main(argv: string[]): Promise<number>;
};

/**
 * The arguments do not fit the declaration (an unknown option, a missing value or argument): printed
 * with the command's whole help, exit 2. A value that is declared but wrong (not a number, no such
 * folder) is a plain UsageError: its message says enough.
 */
export class CommandLineError extends UsageError {
  constructor(
    readonly command: Command,
    message: string,
  ) {
    super(message);
    this.name = 'CommandLineError';
  }
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

/** Declares a command; see the top of this file. */
export function defineCommand<const O extends Record<string, OptionSpec>>(spec: CommandSpec<O>): Command {
  const args = spec.args ?? [];
  const options: Record<string, OptionSpec> = { ...spec.options, help: HELP };
  const command: Command = {
    name: spec.name,
    summary: spec.summary,
    usage: spec.usage,
    args,
    options,
    help: () => helpText(spec, args, options),
    async main(argv) {
      const parsed = parse(command, args, options, argv);
      if (parsed === 'help') {
        process.stdout.write(command.help());
        return 0;
      }
      return spec.run(parsed as { options: OptionValues<O>; args: string[] });
    },
  };
  return command;
}

function parse(
  command: Command,
  argSpecs: readonly ArgSpec[],
  specs: Record<string, OptionSpec>,
  argv: string[],
): 'help' | { options: Record<string, unknown>; args: string[] } {
  const fail = (message: string) => new CommandLineError(command, message);
  const config = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const),
        ...(spec.short ? { short: spec.short } : {}),
      },
    ]),
  );
  // Not strict: the tokens let us name an unknown option ourselves and check each value.
  const { tokens } = parseArgs({ args: argv, options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return 'help';

  const given: Record<string, string[]> = {};
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = specs[token.name];
    if (!spec) throw fail(`unknown option '${token.rawName}'`);
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw fail(`option '${token.rawName}' takes no value`);
      given[token.name] = ['true'];
      continue;
    }
    // `--data --port 3` would take "--port" as the data folder: a value is never an option.
    if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      throw fail(`option '${token.rawName}' needs a value (${spec.value})`);
    }
    if (!spec.multiple && given[token.name]) throw fail(`option '${token.rawName}' given twice`);
    (given[token.name] ??= []).push(token.value);
  }

  const options: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (name === 'help') continue;
    if (spec.type === 'boolean') {
      options[name] = given[name] !== undefined;
      continue;
    }
    const raw = given[name] ?? (spec.default !== undefined ? [spec.default] : []);
    const values = raw.map((value) => check(`--${name}`, spec, value));
    options[name] = spec.multiple ? values : values[0];
  }

  const required = argSpecs.filter((a) => !a.optional).length;
  const variadic = argSpecs.at(-1)?.variadic === true;
  if (positionals.length < required) {
    throw fail(
      `expected ${argSpecs
        .slice(positionals.length, required)
        .map((a) => `<${a.name}>`)
        .join(' ')}`,
    );
  }
  if (!variadic && positionals.length > argSpecs.length) {
    throw fail(`unexpected argument '${positionals[argSpecs.length]}'`);
  }
  const args = positionals.map((value, i) => {
    const spec = argSpecs[Math.min(i, argSpecs.length - 1)]!;
    return String(check(`<${spec.name}>`, { type: spec.type ?? 'string', value: spec.name, description: '' }, value));
  });
  return { options, args };
}

function check(label: string, spec: Extract<OptionSpec, { value: string }>, value: string): string | number {
  const fail = (message: string) => new UsageError(message);
  switch (spec.type) {
    case 'string':
      return value;
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw fail(`${label} expects a number, got '${value}'`);
      if (spec.integer && !Number.isInteger(n)) throw fail(`${label} expects a whole number, got '${value}'`);
      if (spec.min !== undefined && n < spec.min) throw fail(`${label} must be at least ${spec.min}, got ${value}`);
      if (spec.max !== undefined && n > spec.max) throw fail(`${label} must be at most ${spec.max}, got ${value}`);
      return n;
    }
    case 'path':
      return resolve(value);
    case 'dir': {
      const path = resolve(value);
      if (!existsSync(path)) throw fail(`${label}: no such folder: ${path}`);
      if (!statSync(path).isDirectory()) throw fail(`${label}: not a folder: ${path}`);
      return path;
    }
    case 'file': {
      const path = resolve(value);
      if (!existsSync(path)) throw fail(`${label}: no such file: ${path}`);
      if (!statSync(path).isFile()) throw fail(`${label}: not a file: ${path}`);
      return path;
    }
  }
}

function helpText(
  spec: { usage: string; summary: string; description?: string },
  args: readonly ArgSpec[],
  options: Record<string, OptionSpec>,
): string {
  const rows = (list: Array<[string, string]>) => {
    const width = Math.max(...list.map(([left]) => left.length)) + 3;
    return list.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n');
  };
  const parts = [spec.usage, '', spec.description ?? `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`];
  if (args.length) {
    parts.push('', 'Arguments:', rows(args.map((a) => [`<${a.name}>${a.variadic ? '…' : ''}`, a.description])));
  }
  parts.push(
    '',
    'Options:',
    rows(
      Object.entries(options).map(([name, o]) => {
        const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'boolean' ? '' : ` ${o.value}`}`;
        const notes = [
          o.type !== 'boolean' && o.default !== undefined ? `default: ${o.default}` : '',
          o.type !== 'boolean' && o.multiple ? 'repeatable' : '',
        ].filter(Boolean);
        return [flag, `${o.description}${notes.length ? ` (${notes.join('; ')})` : ''}`];
      }),
    ),
  );
  return `${parts.join('\n')}\n`;
}
