// gleaner-test: long
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLocalRegistry, type LocalRegistry } from './support/local-registry.js';
import { repoRoot, session, type Session } from './support/cli.js';
import { signIn, until, type AdminApi } from './support/admin-api.js';

// A konnector's whole trip, outside this repository, with real processes only: the six @gleaner
// packages packed and served by a throwaway registry; the CLI installed from it as anyone would;
// `gleaner new` → npm install → npm test → gleaner pack; a stack started from a third folder installs
// the package and runs it through a manual 2FA login; then an upgrade, and a refused uninstall.

const PACKAGES = ['contracts', 'konnector', 'sites', 'stack', 'home', 'cli'];
const ADMIN_PASSWORD = 'travels-admin-Pw-31415';
const SLUG = 'travel-site';
const ALICE = { login: 'alice', password: 'alice-password' };

// npm's own variables (from an `npm test` above us) and the test runner's would leak into the npm
// and node processes started here: they get a clean environment.
const cleanEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !/^npm_/i.test(name) && name !== 'NODE_TEST_CONTEXT' && name !== 'NODE_OPTIONS' && name !== 'INIT_CWD',
  ),
);

type Done = { code: number | null; output: string };

async function run(
  what: string,
  command: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<Done> {
  const child = session(command, { ...options, baseEnv: cleanEnv });
  child.child.stdin.end();
  const code = await child.exit;
  return { code, output: `${what} (${command.join(' ')}, exit ${code}):\n${child.output()}` };
}

/** Runs one step; a failure names the step it broke in. */
async function step<T>(name: string, timings: string[], fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } catch (error) {
    if (error instanceof Error) error.message = `step "${name}" failed: ${error.message}`;
    throw error;
  } finally {
    timings.push(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}


type Job = { id: string; status: string; error: string | null; filesSaved: number; konnectorVersion?: string | null };
type Account = { id: string; state: string | null; prompt: { id: string; type: string | null; status: string } | null };

async function finished(api: AdminApi, jobId: string): Promise<Job> {
  return until(
    `job ${jobId} to end`,
    async () => {
      const job = (await api(`/api/jobs/${jobId}`)).body as Job;
      return job.status === 'done' || job.status === 'errored' ? job : undefined;
    },
    60_000,
  );
}

test(
  'a konnector travels: packed SDK from a registry → gleaner new → npm test → gleaner pack → installed in a stack elsewhere → 2FA run → upgrade → uninstall refused',
  { timeout: 20 * 60_000 },
  async (t) => {
    const timings: string[] = [];
    const root = mkdtempSync(join(tmpdir(), 'gleaner-travels-'));
    const [pkgs, tools, work, third, data] = ['pkgs', 'tools', 'work', 'third', 'data'].map((name) => {
      mkdirSync(join(root, name));
      return join(root, name);
    }) as [string, string, string, string, string];
    const gleanerBin = join(tools, 'bin', 'gleaner');
    const project = join(work, SLUG);
    let registry: LocalRegistry | undefined;
    let serve: Session | undefined;
    let sites: Session | undefined;
    let passed = false;
    try {
      await step('npm pack the six @gleaner packages', timings, async () => {
        for (const name of PACKAGES) {
          const built = name === 'home' ? 'dist/index.html' : 'dist/src/index.js';
          assert.ok(
            existsSync(join(repoRoot, 'packages', name, built)),
            `packages/${name}/${built} is missing: run npm run build first`,
          );
          const packed = await run(`npm pack of @gleaner/${name}`, ['npm', 'pack', '--pack-destination', pkgs], {
            cwd: join(repoRoot, 'packages', name),
          });
          assert.equal(packed.code, 0, packed.output);
        }
      });
      const tarballs = PACKAGES.map((name) => join(pkgs, `gleaner-${name}-0.1.0.tgz`));
      for (const file of tarballs) t.diagnostic(`${file.split('/').pop()}: ${readFileSync(file).byteLength} bytes`);

      registry = await startLocalRegistry(tarballs);
      const scope = `--@gleaner:registry=${registry.url}`;

      await step('npm install -g @gleaner/cli@0.1.0 from the local registry', timings, async () => {
        // npm 11 runs a dependency's install script only when allowed: better-sqlite3 compiles its addon.
        const installed = await run(
          'the CLI install',
          [
            'npm',
            'install',
            '-g',
            '--prefix',
            tools,
            '--allow-scripts=better-sqlite3',
            '--prefer-offline',
            '--no-audit',
            '--no-fund',
            scope,
            '@gleaner/cli@0.1.0',
          ],
          { cwd: tools },
        );
        assert.equal(installed.code, 0, installed.output);
        assert.ok(existsSync(gleanerBin), `no ${gleanerBin} after the install:\n${installed.output}`);
        assert.ok(
          !existsSync(join(tools, 'lib', 'node_modules', '@gleaner', 'cli', 'dist', 'test')),
          'the CLI package ships no tests',
        );
      });

      await step('gleaner new in a folder of its own', timings, async () => {
        const made = await run('gleaner new', [gleanerBin, 'new', 'Travel Site'], { cwd: work });
        assert.equal(made.code, 0, made.output);
        assert.ok(existsSync(join(project, 'manifest.konnector')), made.output);
      });

      await step("the scaffold's npm install and npm test", timings, async () => {
        const installed = await run(
          'npm install in the scaffold',
          ['npm', 'install', '--prefer-offline', '--no-audit', '--no-fund', scope],
          { cwd: project },
        );
        assert.equal(installed.code, 0, installed.output);
        const tested = await run('npm test in the scaffold', ['npm', 'test'], { cwd: project });
        assert.equal(tested.code, 0, tested.output);
        assert.match(tested.output, /# pass 2\b/, tested.output);
        assert.match(tested.output, /# fail 0\b/, tested.output);
      });

      const pack = async (version: string): Promise<string> => {
        const packed = await run('gleaner pack', [gleanerBin, 'pack'], { cwd: project });
        assert.equal(packed.code, 0, packed.output);
        const file = join(project, `${SLUG}-${version}.tgz`);
        assert.ok(existsSync(file), `no ${file}:\n${packed.output}`);
        t.diagnostic(packed.output.trim().split('\n').pop()!);
        return file;
      };
      const firstPackage = await step('gleaner pack', timings, () => pack('0.1.0'));

      const url = await step(
        'gleaner serve from a third folder on a fresh data folder serves Home',
        timings,
        async () => {
          serve = session([gleanerBin, 'serve', '--data', data, '--port', '0'], {
            cwd: third,
            baseEnv: cleanEnv,
            env: { GLEANER_ADMIN_PASSWORD: ADMIN_PASSWORD, GLEANER_LOG_LEVEL: 'warn' },
          });
          const served = /Gleaner is serving on (http:\/\/\S+)/.exec(
            await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/, 30_000),
          )![1]!;
          const home = await fetch(`${served}/`);
          assert.equal(home.status, 200, 'GET / answers');
          assert.match(home.headers.get('content-type') ?? '', /text\/html/);
          assert.match(await home.text(), /<title>Gleaner<\/title>/, "GET / is Home's page");
          return served;
        },
      );
      const api = await signIn(url, ADMIN_PASSWORD);

      await step('gleaner install the package', timings, async () => {
        const installed = await run('gleaner install', [gleanerBin, 'install', firstPackage, '--data', data], {
          cwd: third,
        });
        assert.equal(installed.code, 0, installed.output);
        await until('the stack to list travel-site 0.1.0', async () => {
          const { body } = await api('/api/konnectors');
          const found = (body as Array<{ slug: string; version: string; source?: string }>).find(
            (k) => k.slug === SLUG,
          );
          return found?.version === '0.1.0' ? found : undefined;
        });
      });

      const sitesUrl = await step('gleaner sites on a free port', timings, async () => {
        sites = session([gleanerBin, 'sites', '--port', '0'], { cwd: third, baseEnv: cleanEnv });
        return /test (http:\/\/\S+?)\)/.exec(await sites.waitFor(/test http:\/\/\S+?\)/, 20_000))![1]!;
      });

      const account = await step(
        'a manual run through the API: the SMS code read from the fake site, posted, files saved',
        timings,
        async () => {
          const created = await api('/api/accounts', {
            method: 'POST',
            json: { konnector: SLUG, fields: { ...ALICE, baseUrl: sitesUrl } },
          });
          assert.equal(created.status, 201, JSON.stringify(created.body));
          const id = (created.body as { id: string }).id;
          const started = await api(`/api/accounts/${id}/jobs`, { method: 'POST', json: { mode: 'manual' } });
          assert.equal(started.status, 201, JSON.stringify(started.body));
          const prompt = await until('the run to wait for the SMS code', async () => {
            const body = (await api(`/api/accounts/${id}`)).body as Account;
            return body.prompt?.status === 'waiting' ? body.prompt : undefined;
          });
          assert.equal(prompt.type, 'sms');
          const sent = (await (await fetch(`${sitesUrl}/_control/codes-sent?login=${ALICE.login}`)).json()) as {
            lastCode: string | null;
          };
          assert.ok(sent.lastCode, 'the fake site sent a code');
          const answered = await api(`/api/prompts/${prompt.id}/answer`, {
            method: 'POST',
            json: { code: sent.lastCode },
          });
          assert.deepEqual([answered.status, answered.body], [202, { outcome: 'accepted' }], 'the code is accepted');
          const job = await finished(api, (started.body as Job).id);
          assert.deepEqual([job.status, job.error, job.filesSaved], ['done', null, 5], JSON.stringify(job));
          assert.equal(job.konnectorVersion, '0.1.0', 'the job records the version it ran');
          const files = (await api(`/api/accounts/${id}/files`)).body as unknown[];
          assert.equal(files.length, 5, 'the five bills are saved');
          return id;
        },
      );

      await step('version 0.2.0 packed and installed: the next job runs it', timings, async () => {
        const manifestFile = join(project, 'manifest.konnector');
        const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
        writeFileSync(manifestFile, JSON.stringify({ ...manifest, version: '0.2.0' }, null, 2));
        const secondPackage = await pack('0.2.0');
        const installed = await run(
          'gleaner install of 0.2.0',
          [gleanerBin, 'install', secondPackage, '--data', data],
          { cwd: third },
        );
        assert.equal(installed.code, 0, installed.output);
        const started = await api(`/api/accounts/${account}/jobs`, { method: 'POST', json: { mode: 'manual' } });
        assert.equal(started.status, 201, JSON.stringify(started.body));
        const job = await finished(api, (started.body as Job).id);
        assert.deepEqual([job.status, job.error], ['done', null], JSON.stringify(job));
        assert.equal(job.konnectorVersion, '0.2.0', 'the job after the upgrade records 0.2.0');
        const jobs = (await api(`/api/accounts/${account}/jobs`)).body as Job[];
        assert.deepEqual(
          jobs.map((j) => j.konnectorVersion),
          ['0.2.0', '0.1.0'],
          'each job keeps the version it ran',
        );
      });

      await step('gleaner uninstall while the account exists is refused', timings, async () => {
        const removed = await run('gleaner uninstall', [gleanerBin, 'uninstall', SLUG, '--data', data], { cwd: third });
        assert.notEqual(removed.code, 0, removed.output);
        assert.match(removed.output, /used by 1 account/, removed.output);
        const { body } = await api('/api/konnectors');
        assert.ok(
          (body as Array<{ slug: string }>).some((k) => k.slug === SLUG),
          'the konnector is still installed',
        );
      });
      passed = true;
    } finally {
      for (const line of timings) t.diagnostic(line);
      for (const child of [serve, sites]) if (child && child.child.exitCode === null) child.child.kill('SIGTERM');
      await Promise.all([serve?.exit, sites?.exit]);
      await registry?.close();
      // The tools folder holds a whole installed CLI (~150 MB): kept only to look into a failure.
      if (passed) rmSync(root, { recursive: true, force: true });
      else t.diagnostic(`kept for a look: ${root}`);
    }
  },
);
