import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { commands } from '../src/commands/index.js';
import { gleaner, repoRoot } from './support/cli.js';

async function finish(args: string[]): Promise<{ code: number | null; output: string }> {
  const session = gleaner(args);
  const code = await session.exit;
  return { code, output: session.output() };
}

test('every command answers --help with each option it declares; an unknown option names itself and shows the help', async () => {
  assert.ok(commands.length >= 8, `${commands.length} commands registered`);
  await Promise.all(
    commands.map(async (command) => {
      const help = await finish([command.name, '--help']);
      assert.equal(help.code, 0, `${command.name} --help: ${help.output}`);
      assert.ok(help.output.startsWith(command.usage), `${command.name} --help starts with its usage:\n${help.output}`);
      for (const [name, option] of Object.entries(command.options)) {
        assert.match(help.output, new RegExp(`--${name}\\b`), `${command.name} --help lists --${name}`);
        assert.ok(help.output.includes(option.description), `${command.name} --help describes --${name}`);
      }
      for (const arg of command.args)
        assert.ok(help.output.includes(`<${arg.name}>`), `${command.name} --help names <${arg.name}>`);
      assert.equal((await finish([command.name, '-h'])).output, help.output, `${command.name} -h is --help`);

      const unknown = await finish([command.name, '--no-such-option']);
      assert.equal(unknown.code, 2, `${command.name} --no-such-option: ${unknown.output}`);
      assert.ok(
        unknown.output.startsWith(`gleaner ${command.name}: unknown option '--no-such-option'\n`),
        `${command.name} names the unknown option:\n${unknown.output}`,
      );
      assert.ok(unknown.output.includes(help.output), `${command.name} shows its help after an unknown option`);
    }),
  );
});

test('the main usage lists every registered command with its summary; an unknown command is refused with it', async () => {
  const usage = await finish(['--help']);
  assert.equal(usage.code, 0);
  for (const command of commands) {
    assert.match(usage.output, new RegExp(`^  ${command.name} +\\S`, 'm'), `the usage lists ${command.name}`);
    assert.ok(usage.output.includes(command.summary), `the usage shows ${command.name}'s summary`);
  }
  const none = await finish([]);
  assert.equal(none.code, 2);
  assert.equal(none.output, usage.output);
  const unknown = await finish(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.ok(unknown.output.startsWith("gleaner: unknown command 'frobnicate'\n"), unknown.output);
});

test('a wrong value names the option and what it expects; a missing argument or value shows the help', async () => {
  const port = await finish(['serve', '--port', 'abc']);
  assert.equal(port.code, 2);
  assert.match(port.output, /^gleaner serve: --port expects a number, got 'abc'\n/);
  const folder = await finish(['serve', '--konnectors', '/no/such/folder']);
  assert.equal(folder.code, 2);
  assert.match(folder.output, /^gleaner serve: --konnectors: no such folder: \/no\/such\/folder\n/);
  const value = await finish(['serve', '--data']);
  assert.equal(value.code, 2);
  assert.match(value.output, /^gleaner serve: option '--data' needs a value \(DIR\)\n\ngleaner serve \[options\]/);
  const arg = await finish(['run']);
  assert.equal(arg.code, 2);
  assert.match(arg.output, /^gleaner run: expected <konnector-folder>\n\ngleaner run <konnector-folder>/);
});

test('the checkout links the gleaner bin: node_modules/.bin/gleaner runs the built CLI', async () => {
  const bin = join(repoRoot, 'node_modules', '.bin', 'gleaner');
  assert.ok(existsSync(bin), `${bin} is missing: npm ci links it from packages/cli/bin/gleaner.js`);
  const { stdout, status } = spawnSync(bin, ['--help'], { cwd: tmpdir(), encoding: 'utf8' });
  assert.equal(status, 0);
  assert.match(stdout, /^gleaner <command> \[options\]\n/);
});
