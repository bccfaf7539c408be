import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileGuide, guideFiles, repoRoot } from './support/guide.js';

// docs/testing.md's fake site, konnector and test, compiled from the page itself and run as written.
const guide = join(repoRoot, 'docs', 'testing.md');

test("docs/testing.md: its fake site, konnector and test compile (strict) and the page's own test passes", () => {
  const files = guideFiles(readFileSync(guide, 'utf8'));
  assert.deepEqual([...files.keys()].sort(), ['tickets-konnector.ts', 'tickets-site.ts', 'tickets.test.ts']);
  const testCount = (files.get('tickets.test.ts')!.match(/^test\(/gm) ?? []).length;
  assert.ok(testCount >= 4);

  const dist = compileGuide(guide);
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=tap', join(dist, 'tickets.test.js')], {
    encoding: 'utf8',
    timeout: 60_000,
    // Without the runner's own variable, so that the child reports as a top-level run.
    env: Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_TEST_CONTEXT')),
  });
  assert.equal(run.status, 0, `the guide's test failed:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, new RegExp(`^# pass ${testCount}$`, 'm'));
  assert.match(run.stdout, /^# fail 0$/m);
});
