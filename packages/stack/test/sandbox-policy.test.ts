// Which konnectors run where: without bubblewrap only trusted ones, with the install line said; an
// explicit `sandbox: false` runs everything; an installed package under the 0700 data folder runs
// sandboxed from copies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import {
  EventRecorder,
  FIXTURES,
  TWOFA_KONNECTOR,
  isJobEnded,
  openStack,
  tmpDataDir,
} from './helpers/stack-harness.js';
import { requireBwrap } from './runner-fixtures/handlers.js';
import { writeKonnectorPackage } from '../src/index.js';

requireBwrap();

describe('sandbox policy', { concurrency: true }, () => {
  test('without bubblewrap: an untrusted konnector is refused (SANDBOX_UNAVAILABLE, the install line in its log); a trusted one runs', async () => {
    const stack = await openStack(tmpDataDir(), {
      konnectorDirs: [TWOFA_KONNECTOR, join(FIXTURES, 'attack-read')],
      untrusted: ['attack-read'],
      bwrapPath: '/nonexistent/bwrap',
    });
    const recorder = new EventRecorder(stack);
    try {
      assert.equal(stack.sandbox.state, 'unavailable');
      assert.ok(stack.sandbox.state === 'unavailable' && stack.sandbox.installLine === 'apt-get install bubblewrap');
      const untrusted = await stack.accounts.create({
        konnector: 'attack-read',
        fields: { login: 'm', password: 'p' },
      });
      const refused = await stack.jobs.start(untrusted.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(refused.id), 'the refused job');
      assert.equal(ended.job.error, 'SANDBOX_UNAVAILABLE');
      const logs = (await stack.jobs.logs(refused.id)).map((l) => l.message);
      assert.equal(logs.length, 1, logs.join('\n'));
      assert.match(
        logs[0]!,
        /not trusted and there is no sandbox here .*\/nonexistent\/bwrap.*apt-get install bubblewrap/,
      );

      const trusted = await stack.accounts.create({
        konnector: 'twofa-test',
        fields: { login: 'ada', password: 'pw', scenario: 'fail-login' },
      });
      const ran = await stack.jobs.start(trusted.id, 'manual');
      const done = await recorder.waitFor(isJobEnded(ran.id), 'the trusted job');
      assert.equal(done.job.error, 'LOGIN_FAILED', 'the trusted konnector ran (and failed its login as told)');
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });

  test('sandbox: false (the CLI’s --no-sandbox) runs an untrusted konnector as a plain process', async () => {
    const stack = await openStack(tmpDataDir(), {
      konnectorDirs: [join(FIXTURES, 'attack-read')],
      untrusted: ['attack-read'],
      noSandbox: true,
    });
    const recorder = new EventRecorder(stack);
    try {
      assert.equal(stack.sandbox.state, 'off');
      const account = await stack.accounts.create({ konnector: 'attack-read', fields: { login: 'm', password: 'p' } });
      const job = await stack.jobs.start(account.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the job');
      assert.equal(ended.job.status, 'done');
      // Unsandboxed, it sees the host's processes: the reason the sandbox exists.
      const seen = (await stack.jobs.logs(job.id)).find((l) => l.message.includes('"what":"processes"'));
      const names = (JSON.parse(seen!.message.slice('ATTEMPT '.length)) as { names: string[] }).names;
      assert.ok(names.filter((n) => /^\d+$/.test(n)).length > 3);
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });

  test('an installed package under the 0700 data folder runs sandboxed, from copies, and reads nothing there', async () => {
    const dataDir = tmpDataDir();
    const esbuild = resolve(FIXTURES, '../../../../node_modules/.bin/esbuild');
    const bundle = execFileSync(esbuild, [
      join(FIXTURES, 'attack-read', 'index.mjs'),
      '--bundle',
      '--platform=node',
      '--format=esm',
      '--target=node20',
      '--log-level=warning',
    ], { maxBuffer: 64 * 1024 * 1024 });
    const manifest = JSON.parse(readFileSync(join(FIXTURES, 'attack-read', 'manifest.konnector'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    const stack = await openStack(dataDir, {});
    await stack.konnectors.install(writeKonnectorPackage({ manifest: { ...manifest, main: 'index.mjs' }, bundle }));
    assert.equal(stack.konnectors.get('attack-read')?.source, 'installed');
    const recorder = new EventRecorder(stack);
    try {
      assert.equal(stack.sandbox.state, 'on');
      const account = await stack.accounts.create({
        konnector: 'attack-read',
        fields: { login: 'm', password: 'p', targets: JSON.stringify([join(dataDir, 'gleaner.db')]) },
      });
      const job = await stack.jobs.start(account.id, 'manual');
      const ended = await recorder.waitFor(isJobEnded(job.id), 'the job');
      const logs = (await stack.jobs.logs(job.id)).map((l) => l.message);
      assert.equal(ended.job.status, 'done', logs.join('\n').slice(-1500));
      const guessed = logs.filter((m) => m.includes('"what":"guessed'));
      assert.ok(guessed.length > 3);
      for (const m of guessed) assert.match(m, /"ok":false/);
    } finally {
      recorder.stop();
      await stack.close(300);
    }
  });
});
