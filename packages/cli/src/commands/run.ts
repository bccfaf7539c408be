import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { needsPerson, secretFieldNames, type AccountState } from '@gleaner/contracts';
import { handlersFor, KONNECTOR_EXEC_ARGV, serveHost, StandaloneHost, terminalCodeReader } from '@gleaner/konnector/host';
import { ask } from '../ask.js';
import { defineCommand } from '../command.js';
import { loadKonnectorFolder } from '../load-konnector.js';
import { UsageError } from '../usage-error.js';

const say = (line: string) => process.stderr.write(`${line}\n`);

function describeState(state: AccountState): string | null {
  if (state === 'HANDLE_LOGIN_SUCCESS') return 'logging in…';
  if (state === 'LOGIN_SUCCESS') return 'logged in';
  if (state === 'RESET_SESSION') return 'session reset';
  return null;
}

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run a konnector standalone (fields from a config file or the terminal)',
  usage: 'gleaner run <konnector-folder> [options]',
  description: 'Runs a konnector on this machine, with its account kept in a local folder.',
  args: [{ name: 'konnector-folder', type: 'dir', description: "the konnector's folder (its manifest.konnector)" }],
  options: {
    config: {
      type: 'file',
      value: 'FILE',
      description: 'fields from this JSON file ({"fields": {...}}); default <folder>/konnector-dev-config.json',
    },
    field: { type: 'string', value: 'NAME=VALUE', multiple: true, description: 'set one field' },
    data: {
      type: 'path',
      value: 'DIR',
      description: 'where the account, its sealed session and files live; default <folder>/data',
    },
    background: { type: 'boolean', description: 'run as a scheduled run would: nobody is there to type a code' },
    timeout: {
      type: 'number',
      value: 'SECONDS',
      min: 1,
      default: '180',
      description: 'the longest one 2FA code wait may last',
    },
  },
  run: ({ options, args }) => run(args[0]!, options),
});

type RunOptions = {
  config: string | undefined;
  field: string[];
  data: string | undefined;
  background: boolean;
  timeout: number;
};

async function run(folder: string, values: RunOptions): Promise<number> {
  const { dir, manifest, main } = loadKonnectorFolder(folder);

  const fields: Record<string, string> = {};
  const configFile = values.config ?? join(dir, 'konnector-dev-config.json');
  if (existsSync(configFile)) {
    let config: { fields?: Record<string, unknown> };
    try {
      config = JSON.parse(readFileSync(configFile, 'utf8')) as typeof config;
    } catch (error) {
      throw new UsageError(`${configFile} is not valid JSON: ${(error as Error).message}`);
    }
    for (const [name, value] of Object.entries(config.fields ?? {})) fields[name] = String(value);
  }
  for (const pair of values.field) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--field expects NAME=VALUE, got ${JSON.stringify(pair)}`);
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  for (const [name, field] of Object.entries(manifest.fields)) {
    if (fields[name] !== undefined && fields[name] !== '') continue;
    if (field.default !== undefined) {
      fields[name] = field.default;
      continue;
    }
    if (!field.required) continue;
    if (!process.stdin.isTTY) {
      throw new UsageError(`missing required field "${name}": put it in ${configFile} or pass --field ${name}=…`);
    }
    fields[name] = await ask(`${field.label ?? name}: `, { hidden: field.type === 'password' });
    if (!fields[name]) throw new UsageError(`missing required field "${name}"`);
  }

  const timeoutSeconds = values.timeout;
  const mode = values.background ? 'background' : 'manual';
  const dataDir = values.data ?? join(dir, 'data');
  const host = new StandaloneHost({
    dataDir,
    fields,
    mode,
    konnector: manifest.slug,
    twofa: manifest.twofa,
    secretFields: secretFieldNames(manifest.fields),
    twoFaTimeoutCapMs: timeoutSeconds * 1000,
    codeReader: terminalCodeReader(process.stdin, process.stderr),
    onLog: ({ level, message }) => say(`  ${level === 'info' ? '·' : level} ${message}`),
    onStateChange: (state) => {
      const text = describeState(state);
      if (text) say(`→ ${text}`);
    },
  });

  say(`${manifest.name} ${manifest.version}: ${mode} run`);
  const before = (await host.listFiles()).length;
  const child = fork(main, [], {
    cwd: dir,
    // As the stack runs it: the SDK's V8 flags, never this command's own (--inspect, loaders).
    execArgv: [...KONNECTOR_EXEC_ARGV],
    // The konnector gets its fields over IPC, never from the environment.
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: process.env.NODE_ENV ?? 'production',
      ...(process.env.DEBUG ? { DEBUG: process.env.DEBUG } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const served = serveHost(child, handlersFor(host));
  const onInterrupt = () => {
    say('\ninterrupted: stopping the konnector');
    host.cancel();
    served.cancel('JOB_CANCELLED');
    setTimeout(() => child.kill('SIGTERM'), 2000).unref();
  };
  process.once('SIGINT', onInterrupt);
  const outcome = await served.done;
  process.removeListener('SIGINT', onInterrupt);
  const code =
    outcome.finish?.outcome === 'ok'
      ? null
      : (outcome.finish?.error ?? (outcome.signal ? 'JOB_INTERRUPTED' : 'UNKNOWN_ERROR'));
  // account.json records how the run ended, even when the konnector could not say it.
  await host.finish(code === null ? { outcome: 'ok' } : { outcome: 'error', error: code });

  const files = (await host.listFiles()).length;
  const where = `in ${join(dataDir, 'files')}`;
  if (code === null) {
    say(`✔ run succeeded: ${files - before} new file(s), ${files} in all, ${where}`);
    return 0;
  }
  say(`✘ run failed: ${code}`);
  if (files > 0) say(`  the account's ${files} file(s) are ${where}`);
  if (needsPerson(code)) {
    say(
      mode === 'background'
        ? '  the account needs you: run it again without --background, to type the code'
        : '  the account needs you: check the fields, then run it again',
    );
  }
  return 1;
}
