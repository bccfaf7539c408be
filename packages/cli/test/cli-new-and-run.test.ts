import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestSite, TEST_SITE_USERS, type RunningSite } from '@gleaner/sites';
import { gleaner, repoRoot } from './support/cli.js';

// One scaffold serves every test here: `gleaner new` makes it, its own test builds and passes it,
// then `gleaner run` drives it against the test site.
describe('gleaner new, then gleaner run on what it made', () => {
  let site: RunningSite;
  let konnector: string;
  const alice = TEST_SITE_USERS.alice;

  before(async () => {
    site = await startTestSite();
    konnector = join(mkdtempSync(join(tmpdir(), 'gleaner-new-')), 'my-test-site');
  });
  after(() => site.close());

  test('gleaner new scaffolds a konnector that passes its own test', async () => {
    const made = gleaner(['new', 'My Test Site', '--dir', konnector]);
    assert.equal(await made.exit, 0, made.output());
    const manifest = JSON.parse(readFileSync(join(konnector, 'manifest.konnector'), 'utf8')) as { slug: string; name: string };
    assert.deepEqual([manifest.slug, manifest.name], ['my-test-site', 'My Test Site']);
    // Outside the repository the SDK comes from npm; here, from the workspace.
    symlinkSync(join(repoRoot, 'node_modules'), join(konnector, 'node_modules'));
    // Without NODE_TEST_CONTEXT, the scaffold's test runner prints its own report instead of
    // reporting to ours.
    const { NODE_TEST_CONTEXT: _ours, ...env } = process.env;
    const npmTest = spawnSync('npm', ['test'], { cwd: konnector, encoding: 'utf8', env: { ...env, NODE_OPTIONS: '' } });
    assert.equal(npmTest.status, 0, npmTest.stdout + npmTest.stderr);
    assert.match(npmTest.stdout, /# pass 2\b/);
    assert.match(npmTest.stdout, /# fail 0\b/);
  });

  test('the scaffold refuses to overwrite a folder that is not empty', async () => {
    const again = gleaner(['new', 'My Test Site', '--dir', konnector]);
    assert.equal(await again.exit, 2);
    assert.match(again.output(), /exists and is not empty/);
  });

  test('gleaner run in a terminal: the password is asked hidden, the code typed, the run succeeds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-run-'));
    const run = gleaner(['run', konnector, '--field', `login=${alice.login}`, '--field', `baseUrl=${site.url}`, '--data', dataDir], {
      tty: true,
    });
    await run.waitFor(/Password: /);
    run.type(`${alice.password}\r`);
    await run.waitFor(/Enter the code sent to you by SMS \(\d:\d\d left\)/);
    const code = site.control.lastCode(alice.login);
    assert.ok(code);
    run.type(`${code}\r`);
    await run.waitFor(/run succeeded: 5 new file\(s\), 5 in all, in \S+\r?\n/);
    assert.ok(run.output().includes(`in ${join(dataDir, 'files')}`), 'it says where the files went');
    assert.match(run.output(), /· waiting for the code sent by SMS, up to 180 s/);
    assert.equal(await run.exit, 0);
    assert.ok(!run.output().includes(alice.password), 'the password is not echoed');

    // The session is kept: a background run right after needs no code and succeeds.
    const codes = site.control.codesSent(alice.login);
    const background = gleaner(['run', konnector, '--background', '--data', dataDir, '--field', `login=${alice.login}`, '--field', `password=${alice.password}`, '--field', `baseUrl=${site.url}`]);
    background.child.stdin.end();
    assert.equal(await background.exit, 0, background.output());
    assert.equal(site.control.codesSent(alice.login), codes);
  });

  test('a background run with an expired session ends USER_ACTION_NEEDED.TWOFA_EXPIRED, exit 1, no code sent', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-run-'));
    const config = join(dataDir, 'config.json');
    writeFileSync(config, JSON.stringify({ fields: { login: alice.login, password: alice.password, baseUrl: site.url } }));
    const manual = gleaner(['run', konnector, '--config', config, '--data', dataDir]);
    await manual.waitFor(/Enter the code sent to you by SMS/);
    manual.type(`${site.control.lastCode(alice.login)}\n`);
    assert.equal(await manual.exit, 0, manual.output());

    site.control.advance(site.control.settings().sessionLifetimeMs + 60_000);
    const codes = site.control.codesSent(alice.login);
    const background = gleaner(['run', konnector, '--config', config, '--data', dataDir, '--background']);
    background.child.stdin.end();
    assert.equal(await background.exit, 1);
    assert.match(background.output(), /run failed: USER_ACTION_NEEDED\.TWOFA_EXPIRED/);
    assert.match(background.output(), /the account needs you: run it again without --background, to type the code/);
    const account = JSON.parse(readFileSync(join(dataDir, 'account.json'), 'utf8')) as {
      needsAction: string | null;
      lastRun: { mode: string; error: string | null };
    };
    assert.equal(account.needsAction, 'USER_ACTION_NEEDED.TWOFA_EXPIRED', 'account.json has the new state');
    assert.deepEqual([account.lastRun.mode, account.lastRun.error], ['background', 'USER_ACTION_NEEDED.TWOFA_EXPIRED']);
    assert.equal(site.control.codesSent(alice.login), codes, 'the site sent no code');
  });

  test('the password and the code appear nowhere in the output, with debug output on', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-run-'));
    const config = join(dataDir, 'config.json');
    writeFileSync(config, JSON.stringify({ fields: { login: alice.login, password: alice.password, baseUrl: site.url } }));
    const run = gleaner(['run', konnector, '--config', config, '--data', dataDir], { env: { DEBUG: 'gleaner' } });
    await run.waitFor(/Enter the code sent to you by SMS/);
    const code = site.control.lastCode(alice.login) ?? '';
    run.type(`${code}\n`);
    assert.equal(await run.exit, 0, run.output());
    assert.match(run.output(), /debug/, 'debug lines were printed');
    assert.ok(!run.output().includes(alice.password), 'no password in the output');
    assert.ok(!run.output().includes(code), 'no code in the output');
    // Nor on disk in clear: the session is sealed.
    assert.ok(!readFileSync(join(dataDir, 'session.sealed'), 'utf8').includes('session='));
  });
});
