// gleaner-test: long
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  AMAZON_USERS,
  GITHUB_OCTOCAT_TOTP_SECRET,
  GITHUB_USERS,
  startSites,
  totpCode,
  type RunningSites,
} from '@gleaner/sites';
import type * as ImapHelper from '../../stack/test/helpers/imap-server.js';
import { until } from './support/admin-api.js';
import { repoRoot } from './support/cli.js';
import {
  createAccount,
  getJob,
  jobEnded,
  startJob,
  startNode,
  startWorker,
  stopProcess,
  type ClusterConfig,
  type ClusterNode,
  type ClusterWorker,
  type JobView,
} from './support/cluster.js';
import { forwardToLocal, type Forward } from './support/forward.js';
import { CLUSTER_NETWORK, HOST_NAME, networkForFile } from './support/netns.js';
import { postgresForFile } from './support/postgres.js';

// Every node and worker on a network of its own (a namespace, a veth pair, a /30), as on separate
// machines: PostgreSQL and the fake site listen on every pair's host side. 2 nodes, 2 workers, 2
// started after the SIGKILLs, 1 for SIGTERM, 2 after it: 9, and a few to spare.
const network = await networkForFile(12);
const server = await postgresForFile({ listenAddresses: network.hostAddresses, clientNetworks: [CLUSTER_NETWORK] });
const KONNECTOR = join(repoRoot, 'packages/cli/test/fixtures/cluster-konnector');
// The real konnectors, for the code sources' cases against the fake GitHub and Amazon.
const SITE_KONNECTORS = [join(repoRoot, 'konnectors/github'), join(repoRoot, 'konnectors/amazon')];
// The stack's dovecot harness, loaded from its build (as the PostgreSQL one).
const imapHelper = (await import(join(repoRoot, 'packages/stack/dist/test/helpers/imap-server.js'))) as typeof ImapHelper;
const BILL = Buffer.from('%PDF-1.4 cluster bill\n%%EOF\n');

/**
 * The fake site every konnector of this file talks to: it counts each login's runs (started, ended,
 * how many at once at most), notes the address each run started from, and serves bills, each after
 * `billDelayMs`. `listen` puts it on every given address, one port.
 */
function fakeSite(billDelayMs: number) {
  const runs = new Map<string, { started: number; ended: number; active: number; maxActive: number }>();
  const codes = new Map<string, string[]>();
  const from = new Map<string, string[]>();
  const of = (login: string) => {
    let entry = runs.get(login);
    if (!entry) runs.set(login, (entry = { started: 0, ended: 0, active: 0, maxActive: 0 }));
    return entry;
  };
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const [, kind, login, what] = (request.url ?? '').split('/').map(decodeURIComponent);
    if (kind === 'runs' && login && request.method === 'POST') {
      const entry = of(login);
      if (what === 'start') {
        from.set(login, [...(from.get(login) ?? []), request.socket.remoteAddress ?? '?']);
        entry.started++;
        entry.active++;
        entry.maxActive = Math.max(entry.maxActive, entry.active);
      } else {
        entry.ended++;
        entry.active--;
      }
      response.end('ok');
      return;
    }
    if (kind === 'codes' && login && request.method === 'POST') {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        codes.set(login, [...(codes.get(login) ?? []), body]);
        response.end('ok');
      });
      return;
    }
    if (kind === 'bills') {
      setTimeout(() => response.end(BILL), billDelayMs);
      return;
    }
    response.statusCode = 404;
    response.end();
  };
  const servers: Server[] = [];
  return {
    /** Listens on each address, the first's free port for all; resolves with the port. */
    async listen(addresses: string[]): Promise<number> {
      let port = 0;
      for (const address of addresses) {
        const http = createServer(handle);
        servers.push(http);
        await new Promise<void>((resolve, reject) => {
          http.once('error', reject);
          http.listen(port, address, resolve);
        });
        port = (http.address() as { port: number }).port;
      }
      return port;
    },
    close: () => Promise.all(servers.map((http) => new Promise((resolve) => http.close(resolve)))),
    runs: (login: string) => of(login),
    codes: (login: string) => codes.get(login) ?? [],
    /** The client address of each of the login's runs, in order. */
    from: (login: string) => from.get(login) ?? [],
  };
}

/** The JSON lines of a process's log (the rest of its output skipped). */
function logLines(output: string): Array<Record<string, unknown>> {
  return output.split('\n').flatMap((line) => {
    try {
      const value = JSON.parse(line) as Record<string, unknown> | null;
      return value && typeof value === 'object' ? [value] : [];
    } catch {
      return [];
    }
  });
}

/** Connects to 127.0.0.1:port of this (the root) namespace: 'refused', or what it says until it ends. */
function connectLocal(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.once('end', () => resolve(answer));
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve('refused') : reject(error)));
  });
}

describe('a cluster: one PostgreSQL, two `serve --no-worker` nodes, two `gleaner worker` processes', () => {
  const site = fakeSite(300);
  let siteUrl = '';
  let config: ClusterConfig;
  let db: pg.Client;
  let nodeA: ClusterNode;
  let nodeB: ClusterNode;
  const workers: ClusterWorker[] = [];
  const stopped: Array<{ what: string; code: Promise<number | null> }> = [];
  const holders: Array<ReturnType<typeof createTcpServer>> = [];
  let nodeAPort = 0;

  const fields = (login: string, extra: Record<string, unknown> = {}) => ({
    login,
    password: `pw-${login}`,
    site: siteUrl,
    ...extra,
  });
  const workerIds = () => new Set(workers.filter((w) => w.session.child.exitCode === null).map((w) => w.id));
  const running = async (jobId: string): Promise<JobView> =>
    until(`job ${jobId} running on a worker`, async () => {
      const job = await getJob(nodeA, jobId);
      return job.status === 'running' && job.worker ? job : undefined;
    });

  before(async () => {
    // One URL for every worker (it is in the account's fields): each namespace's /etc/hosts names its
    // own host side HOST_NAME.
    siteUrl = `http://${HOST_NAME}:${await site.listen(network.hostAddresses)}`;
    // Node A's port is one held by the test on 127.0.0.1 of the root namespace, so that a connection
    // there surely reaches the holder, never node A.
    const holder = createTcpServer((socket) => socket.resume().end('the root namespace\n'));
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    holders.push(holder);
    nodeAPort = (holder.address() as { port: number }).port;
    const database = await (await server()).createDatabase();
    db = new pg.Client({ connectionString: database });
    await db.connect();
    config = {
      database,
      dataDir: mkdtempSync(join(tmpdir(), 'gleaner-cluster-')),
      konnectorDirs: [KONNECTOR, ...SITE_KONNECTORS],
      adminPassword: `cluster-admin-${randomBytes(6).toString('hex')}`,
      keyEnv: { GLEANER_SECRET_KEY: randomBytes(32).toString('base64'), GLEANER_SECRET_KEY_ID: 'k1' },
      network,
    };
    // Every node at once on the fresh database: migrations and pg-boss's schema are made once.
    const nodes = await Promise.all([
      startNode(config, ['--scheduler-interval', '1'], undefined, nodeAPort),
      startNode(config, ['--scheduler-interval', '1']),
      startWorker(config, ['--concurrency', '1']),
      startWorker(config, ['--concurrency', '1']),
    ]);
    nodeA = nodes[0];
    nodeB = nodes[1];
    workers.push(nodes[2], nodes[3]);
  });

  after(async () => {
    const alive = [
      { what: 'node A', p: nodeA },
      { what: 'node B', p: nodeB },
      ...workers.map((w) => ({ what: `worker ${w.id}`, p: w })),
    ].filter(({ p }) => p && p.session.child.exitCode === null && p.session.child.signalCode === null);
    for (const { what, p } of alive) stopped.push({ what, code: stopProcess(p) });
    const codes = await Promise.all(stopped.map(async (s) => [s.what, await s.code] as const));
    await site.close();
    for (const holder of holders) await new Promise((resolve) => holder.close(resolve));
    const left = db
      ? (await db.query<{ n: string }>("select count(*) as n from jobs where status in ('queued', 'running')")).rows[0]!.n
      : '0';
    await db?.end();
    // SIGTERM ends each process cleanly, and nothing is left queued or running.
    for (const [what, code] of codes) assert.equal(code, 0, `${what} did not stop cleanly`);
    assert.equal(left, '0', 'jobs left queued or running after the cluster stopped');
  });

  it('each node and worker on a network of its own: PostgreSQL sees each at its 10.231.X.2, node A answers there and not on 127.0.0.1', async () => {
    const addresses = [nodeA, nodeB, ...workers].map((p) => p.slot!.address).sort();
    assert.equal(new Set(addresses).size, 4, `four namespaces, four addresses: ${addresses.join(', ')}`);
    const clients = async () =>
      (
        await db.query<{ address: string }>(
          'select distinct host(client_addr) as address from pg_stat_activity where datname = current_database() and client_addr is not null',
        )
      ).rows
        .map((row) => row.address)
        .sort();
    // Every process keeps its LISTEN connection open: each one's address is there while it runs.
    const seen = await until('a connection from every process', async () => {
      const now = await clients();
      return addresses.every((address) => now.includes(address)) ? now : undefined;
    });
    assert.deepEqual(seen, [...addresses, '127.0.0.1'].sort(), 'none but the test itself connects over 127.0.0.1');
    assert.equal(nodeA.url, `http://${nodeA.slot!.address}:${nodeAPort}`);
    assert.equal((await nodeA.api('/api/accounts')).status, 200, 'node A answers on its own address');
    assert.equal(await connectLocal(nodeAPort), 'the root namespace\n', "127.0.0.1 of the root namespace is not node A's");
  });

  it('accounts created through node A, jobs started through both nodes: each runs once, on both workers', async () => {
    const logins = ['q1', 'q2', 'q3', 'q4'];
    const accounts = [];
    for (const login of logins) accounts.push(await createAccount(nodeA, 'cluster-test', fields(login, { runMs: '1500' })));
    const jobs = await Promise.all(accounts.map((id, i) => startJob(i % 2 ? nodeB : nodeA, id)));
    const ended = await Promise.all(jobs.map((j) => jobEnded(nodeB, j.id)));
    for (const job of ended)
      assert.equal(job.status, 'done', `job ${job.id} ended ${job.error}: ${JSON.stringify((await nodeA.api(`/api/jobs/${job.id}/logs`)).body)}`);
    assert.deepEqual(
      new Set(ended.map((j) => j.worker)),
      workerIds(),
      'with one job at a time per worker, the four jobs ran on both workers',
    );
    for (const login of logins) assert.deepEqual(site.runs(login), { started: 1, ended: 1, active: 0, maxActive: 1 });
    // Each konnector ran in bwrap's sandbox inside its worker's namespace, and reached the site over
    // that worker's veth.
    for (const [i, job] of ended.entries()) {
      const worker = workers.find((w) => w.id === job.worker)!;
      assert.deepEqual(site.from(logins[i]!), [worker.slot!.address], `${logins[i]} ran from its worker's address`);
      const started = logLines(worker.session.output()).find((line) => line.msg === 'job started' && line.jobId === job.id);
      assert.equal(started?.sandbox, true, `job ${job.id} started in the sandbox: ${JSON.stringify(started)}`);
    }
    const files = await nodeB.api(`/api/accounts/${accounts[0]}/files`);
    assert.deepEqual(
      (files.body as { name: string }[]).map((f) => f.name),
      ['bill-001.pdf'],
    );
  });

  it('a code posted to node B reaches the konnector on a worker, once; node A then refuses it (409)', async () => {
    const account = await createAccount(nodeA, 'cluster-test', fields('xcode', { scenario: 'twofa' }));
    const job = await startJob(nodeA, account);
    const prompt = await until('the prompt', async () => {
      const view = (await nodeA.api(`/api/accounts/${account}`)).body as { prompt: { id: string; status: string } | null };
      return view.prompt?.status === 'waiting' ? view.prompt : undefined;
    });
    const run = await running(job.id);
    assert.ok(workerIds().has(run.worker!), `run by a gleaner worker process (${run.worker}), not by an API node`);
    const answered = await nodeB.api(`/api/prompts/${prompt.id}/answer`, { method: 'POST', json: { code: '480213' } });
    assert.equal(answered.status, 202, JSON.stringify(answered.body));
    const ended = await jobEnded(nodeA, job.id);
    assert.equal(ended.status, 'done', `job ended ${ended.error}`);
    assert.deepEqual(site.codes('xcode'), ['480213'], 'the konnector got the code once');
    const again = await nodeA.api(`/api/prompts/${prompt.id}/answer`, { method: 'POST', json: { code: '480213' } });
    assert.equal(again.status, 409, 'used once, whichever node is asked');
  });

  // Codes without a person (docs/code-sources.md) when the job runs on a worker and the person's
  // side (the API, the webhook) is another node. The fake GitHub and Amazon, dovecot and its SMTP relay
  // listen on 127.0.0.1 of the root namespace; forwarders on every host side carry each namespace
  // there and note who connected. The three cases run at once: the authenticator's waits for its next
  // 30-second step, the others use the other worker meanwhile.
  describe(
    'code sources across nodes: the webhook on an API node, the authenticator and the mailbox on the worker',
    { concurrency: true },
    () => {
      const BOB = AMAZON_USERS.bob;
      const MAILBOX_PASSWORD = `bob-mailbox-App-Pw-${randomBytes(4).toString('hex')}`;
      let sites: RunningSites;
      let imap: ImapHelper.ImapServer;
      let relay: { port: number; close(): Promise<void> };
      let siteForward: Forward;
      let imapForward: Forward;
      /** A site's URL as every namespace reaches it. */
      const siteBase = (site: 'github' | 'amazon') => `http://${HOST_NAME}:${siteForward.port}/${site}`;
      const workerOf = (job: JobView) => {
        const worker = workers.find((w) => w.id === job.worker);
        assert.ok(worker, `job ${job.id} ran on a gleaner worker process (${job.worker}), not on an API node`);
        return worker;
      };
      const promptsOf = async (jobId: string) =>
        (
          await db.query<{ type: string; status: string; attempts: number; answered_by: string | null }>(
            'select type, status, attempts, answered_by from prompts where job_id = $1 order by created_at',
            [jobId],
          )
        ).rows.map((row) => [row.type, row.status, row.attempts, row.answered_by]);
      const logsOf = async (jobId: string) =>
        ((await nodeA.api(`/api/jobs/${jobId}/logs`)).body as { message: string }[])
          .map((line) => line.message)
          .join('\n');
      /** Every node's and worker's output so far: secrets and codes must be nowhere in it. */
      const everyOutput = () => [nodeA, nodeB, ...workers].map((p) => p.session.output()).join('\n');
      const assertDone = async (job: JobView, what: string) =>
        assert.equal(job.status, 'done', `${what} ended ${job.error}:\n${await logsOf(job.id)}`);

      before(async () => {
        imap = await imapHelper.startImapServer({ [BOB.email]: MAILBOX_PASSWORD });
        relay = await imapHelper.startMailRelay(imap);
        sites = await startSites({ smtp: { host: '127.0.0.1', port: relay.port } });
        // A manual then a background sign-in follow at once: no wait before the site's next code here
        // (the budget of codes respects the site's resend wait, 30 s by default).
        for (const control of [sites.controls.amazon, sites.controls.github])
          control.configure({ resendCooldownMs: 0 });
        siteForward = await forwardToLocal(Number(new URL(sites.url).port), network.hostAddresses);
        imapForward = await forwardToLocal(imap.port, network.hostAddresses);
      });
      after(async () => {
        await siteForward?.close();
        await imapForward?.close();
        await sites?.close();
        await relay?.close();
        await imap?.close();
        // The konnectors reached the sites from workers only: an API node never runs a konnector.
        const workerAddresses = new Set(workers.map((w) => w.slot!.address));
        for (const address of siteForward?.from() ?? [])
          assert.ok(workerAddresses.has(address), `${address} reached the sites: not a worker`);
      });

      it('a forwarded SMS posted to node B answers the prompt of a job on a worker; a bad signature is 401 there and the prompt waits on; the rate limit is per node', async () => {
        const alice = AMAZON_USERS.alice;
        const account = await createAccount(nodeA, 'amazon', {
          login: alice.login,
          password: alice.password,
          baseUrl: siteBase('amazon'),
        });
        const made = await nodeA.api(`/api/accounts/${account}/code-sources/sms`, { method: 'PUT' });
        assert.equal(made.status, 200, JSON.stringify(made.body));
        const { secret, source } = made.body as { secret: string; source: { webhookPath: string } };
        const forward = async (node: ClusterNode, text: string, auth: (raw: string) => Record<string, string>) => {
          const raw = JSON.stringify({ from: 'Amazon', text, receivedStamp: Date.now() });
          const response = await fetch(`${node.url}${source.webhookPath}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...auth(raw) },
            body: raw,
          });
          return { status: response.status, body: (await response.json()) as { answered?: string } };
        };
        const hmac = (key: string) => (raw: string) => ({
          'x-gleaner-signature': `sha256=${createHmac('sha256', key).update(raw).digest('hex')}`,
        });

        const job = await startJob(nodeA, account);
        await until('the SMS prompt', async () => {
          const view = (await nodeB.api(`/api/accounts/${account}`)).body as {
            prompt: { type: string; status: string } | null;
          };
          return view.prompt?.status === 'waiting' && view.prompt.type === 'sms' ? true : undefined;
        });
        const worker = workerOf(await running(job.id));
        const sms = sites.controls.amazon.outbox(alice.login)[0];
        assert.ok(sms?.channel === 'sms', 'Amazon sent an SMS');

        // The site's real text, but not signed with the secret: refused on node B, nothing changes.
        assert.equal((await forward(nodeB, sms.text, hmac('not-the-secret'))).status, 401);
        assert.equal((await forward(nodeB, sms.text, () => ({ authorization: 'Bearer not-the-secret' }))).status, 401);
        assert.deepEqual(
          await promptsOf(job.id),
          [['sms', 'waiting', 0, null]],
          'the prompt waits on, no attempt counted',
        );

        const taken = await forward(nodeB, sms.text, hmac(secret));
        assert.deepEqual([taken.status, taken.body], [200, { received: true, answered: 'accepted' }]);
        const ended = await jobEnded(nodeA, job.id);
        await assertDone(ended, 'the SMS job');
        assert.equal(ended.worker, worker.id);
        assert.deepEqual(await promptsOf(job.id), [['sms', 'answered', 1, 'sms']]);
        assert.match(await logsOf(job.id), /code read from a forwarded SMS/, "the worker's job log names the source");

        // 30 messages a minute per webhook, counted by each node in its memory: node B refuses the 31st
        // it is given (the one taken above counts, the refused signatures do not); node A takes it.
        for (let i = 1; i < 30; i++)
          assert.deepEqual(await forward(nodeB, 'hello', hmac(secret)), {
            status: 200,
            body: { received: true, answered: 'no_prompt' },
          });
        assert.equal((await forward(nodeB, 'hello', hmac(secret))).status, 429);
        assert.deepEqual(await forward(nodeA, 'hello', () => ({ authorization: `Bearer ${secret}` })), {
          status: 200,
          body: { received: true, answered: 'no_prompt' },
        });
        // The code alone is six digits that a timestamp may hold by chance: the SMS's text holds it.
        const output = everyOutput();
        for (const needle of [secret, sms.text])
          assert.ok(!output.includes(needle), 'the webhook secret or the SMS is in a process output');
      });

      it('the authenticator secret set through node A: a manual and then a background run on a worker log in with no person', async () => {
        const octocat = GITHUB_USERS.octocat;
        const account = await createAccount(nodeB, 'github', {
          login: octocat.login,
          password: octocat.password,
          baseUrl: siteBase('github'),
        });
        const sentAt = Date.now();
        const set = await nodeA.api(`/api/accounts/${account}/code-sources/app_code`, {
          method: 'PUT',
          json: { secret: `otpauth://totp/GitHub:${octocat.login}?secret=${GITHUB_OCTOCAT_TOTP_SECRET}&issuer=GitHub` },
        });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        // The app's code at some moment of the call (a 30-second step may end while it runs).
        assert.ok(
          [totpCode(GITHUB_OCTOCAT_TOTP_SECRET, sentAt), totpCode(GITHUB_OCTOCAT_TOTP_SECRET, Date.now())].includes(
            (set.body as { code: string }).code,
          ),
          "the code shown is the app's",
        );

        // The first run is a manual one (the site's kinds are not known yet); the secret answers it.
        const manual = await jobEnded(nodeB, (await startJob(nodeB, account)).id);
        await assertDone(manual, 'the manual run');
        workerOf(manual);
        assert.deepEqual(await promptsOf(manual.id), [['app_code', 'answered', 1, 'app_code']]);

        // The session lapses; the scheduler's kind of run signs in again on a worker, nobody there (the
        // secret waits for the next step's code: the site refuses one used twice).
        assert.equal((await nodeA.api(`/api/accounts/${account}/reset-session`, { method: 'POST' })).status, 200);
        const background = await jobEnded(nodeA, (await startJob(nodeA, account, 'background')).id, 90_000);
        await assertDone(background, 'the background run');
        assert.equal(background.mode, 'background');
        assert.equal(background.loginStatus, 'succeeded');
        workerOf(background);
        assert.deepEqual(await promptsOf(background.id), [['app_code', 'answered', 1, 'app_code']]);
        assert.match(await logsOf(background.id), /code computed from the stored authenticator secret/);
        const files = (await nodeB.api(`/api/accounts/${account}/files`)).body as unknown[];
        assert.ok(files.length > 0, 'the receipts were saved');
        assert.ok(
          !everyOutput().includes(GITHUB_OCTOCAT_TOTP_SECRET),
          'the authenticator secret is in a process output',
        );
      });

      it("the mailbox set through node B: the job's worker watches it, and a manual and a background run take their codes from it", async () => {
        const account = await createAccount(nodeA, 'amazon', {
          login: BOB.login,
          password: BOB.password,
          baseUrl: siteBase('amazon'),
        });
        const set = await nodeB.api(`/api/accounts/${account}/code-sources/email`, {
          method: 'PUT',
          json: {
            host: HOST_NAME,
            port: imapForward.port,
            tls: false,
            user: BOB.email,
            password: MAILBOX_PASSWORD,
            folder: 'INBOX',
          },
        });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        assert.ok(
          imapForward.from().includes(nodeB.slot!.address),
          'node B connected to the mailbox before storing it',
        );

        for (const mode of ['manual', 'background'] as const) {
          const before = imapForward.from().length;
          const job = await jobEnded(nodeA, (await startJob(nodeB, account, mode)).id);
          await assertDone(job, `the ${mode} run`);
          const worker = workerOf(job);
          assert.deepEqual(await promptsOf(job.id), [['email', 'answered', 1, 'email']]);
          assert.match(await logsOf(job.id), /code read from your mailbox/);
          // Only the job's node watched the mailbox: one answer, from one place.
          const watchers = new Set(imapForward.from().slice(before));
          assert.deepEqual(
            [...watchers],
            [worker.slot!.address],
            `the ${mode} run's mailbox was read by its worker only`,
          );
          if (mode === 'manual')
            assert.equal((await nodeA.api(`/api/accounts/${account}/reset-session`, { method: 'POST' })).status, 200);
        }
        const output = everyOutput();
        for (const needle of [MAILBOX_PASSWORD, 'verification code is'])
          assert.ok(
            !output.includes(needle),
            `${needle === MAILBOX_PASSWORD ? 'the mailbox password' : 'the e-mail'} is in a process output`,
          );
      });
    },
  );

  it('a worker SIGKILLed while its job downloads, another while its job waits for a code: both jobs end JOB_INTERRUPTED, none stays running or runs again', async () => {
    const download = await createAccount(nodeA, 'cluster-test', fields('dl', { scenario: 'download', bills: '40' }));
    const twofa = await createAccount(nodeA, 'cluster-test', fields('tf', { scenario: 'twofa' }));
    const downloading = await startJob(nodeA, download);
    const waiting = await startJob(nodeB, twofa);
    const downloadRun = await until('two bills saved', async () => {
      const job = await getJob(nodeA, downloading.id);
      return job.status === 'running' && job.filesSaved >= 2 ? job : undefined;
    });
    const prompt = await until('the prompt', async () => {
      const account = (await nodeB.api(`/api/accounts/${twofa}`)).body as { prompt: { id: string; status: string } | null };
      return account.prompt?.status === 'waiting' ? account.prompt : undefined;
    });
    const waitRun = await running(waiting.id);
    assert.notEqual(downloadRun.worker, waitRun.worker, 'one job per worker: they run on different workers');

    for (const run of [downloadRun, waitRun]) {
      const worker = workers.find((w) => w.id === run.worker)!;
      worker.session.child.kill('SIGKILL');
      stopped.push({ what: `killed worker ${worker.id}`, code: worker.session.exit.then(() => 0) });
      await worker.session.exit;
    }
    // A live worker is needed for the rest of the file; started now, it must not take the dead ones' jobs.
    workers.push(await startWorker(config, ['--concurrency', '1']), await startWorker(config, ['--concurrency', '1']));

    const [downloadEnd, waitEnd] = await Promise.all([jobEnded(nodeA, downloading.id, 30_000), jobEnded(nodeB, waiting.id, 30_000)]);
    for (const job of [downloadEnd, waitEnd]) {
      assert.equal(job.status, 'errored');
      assert.equal(job.error, 'JOB_INTERRUPTED');
    }
    assert.ok(downloadEnd.filesSaved >= 2 && downloadEnd.filesSaved < 40, `saved ${downloadEnd.filesSaved} of 40 bills`);
    const log = (await nodeA.api(`/api/jobs/${downloading.id}/logs`)).body as { message: string }[];
    assert.ok(
      log.some((l) => l.message.includes(`the worker running this job (${downloadRun.worker}) stopped`)),
      'the job log says which worker stopped',
    );
    // The prompt was interrupted: the account waits no more, a code is refused.
    const account = (await nodeA.api(`/api/accounts/${twofa}`)).body as { state: string | null; prompt: unknown };
    assert.equal(account.prompt, null);
    assert.equal(account.state, null, 'the transient 2FA state is cleared');
    const answer = await nodeB.api(`/api/prompts/${prompt.id}/answer`, { method: 'POST', json: { code: '123456' } });
    assert.equal(answer.status, 409);
    const rows = await db.query<{ id: string }>(
      "select id from workers where id = any($1::text[])",
      [[downloadRun.worker, waitRun.worker]],
    );
    assert.deepEqual(rows.rows, [], 'the dead workers are reaped');
    // Nothing ran them again, and each account may run again at once.
    await sleep(1500);
    assert.equal(site.runs('dl').started, 1);
    assert.equal(site.runs('tf').started, 1);
    const again = await startJob(nodeB, download);
    await until('the download account running again', async () => ((await getJob(nodeA, again.id)).status === 'running' ? true : undefined));
    const cancelled = await nodeA.api(`/api/jobs/${again.id}/cancel`, { method: 'POST' });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    // Cancelled through node A while it runs on a worker: the row is ended when the call answers.
    assert.equal((cancelled.body as JobView).status, 'errored');
    assert.equal((cancelled.body as JobView).error, 'JOB_CANCELLED');
  });

  it('SIGTERM on a worker while its job waits for a code: after the grace the job ends JOB_INTERRUPTED and the worker exits 0', async () => {
    const graceful = await startWorker(config, ['--concurrency', '1', '--grace', '1']);
    workers.push(graceful);
    // Every other worker busy or gone: only this one may take the job. The others are stopped first.
    for (const other of workers.filter((w) => w !== graceful && w.session.child.exitCode === null && w.session.child.signalCode === null))
      assert.equal(await stopProcess(other), 0, `worker ${other.id} stops cleanly`);
    const account = await createAccount(nodeA, 'cluster-test', fields('term', { scenario: 'twofa' }));
    const job = await startJob(nodeB, account);
    const run = await running(job.id);
    assert.equal(run.worker, graceful.id);
    await until('the prompt', async () =>
      ((await nodeA.api(`/api/accounts/${account}`)).body as { prompt: unknown }).prompt ? true : undefined,
    );
    assert.equal(await stopProcess(graceful), 0, graceful.session.output());
    const ended = await getJob(nodeA, job.id);
    assert.equal(ended.status, 'errored', 'ended by the worker itself before it exited');
    assert.equal(ended.error, 'JOB_INTERRUPTED');
    assert.deepEqual(
      await db.query('select id from workers where id = $1', [graceful.id]).then((r) => r.rows),
      [],
      'a worker that stops removes its row',
    );
    workers.push(await startWorker(config, ['--concurrency', '1']), await startWorker(config, ['--concurrency', '1']));
  });

  it('a scheduled window across two serve nodes (each ticking every second) runs each due account exactly once', async () => {
    const logins = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const accounts: string[] = [];
    for (const login of logins) accounts.push(await createAccount(nodeA, 'cluster-test', fields(login, { runMs: '200' })));
    // Due now: both nodes' schedulers see these triggers at their next tick.
    for (const id of accounts)
      await db.query(
        `insert into triggers (account_id, frequency, time, weekday, next_run_at) values ($1, 'daily', '03:00', 0, $2)
           on conflict (account_id) do update set frequency = 'daily', next_run_at = $2`,
        [id, new Date(Date.now() - 60_000).toISOString()],
      );
    for (const id of accounts)
      await until(`a background job of ${id} done`, async () => {
        const jobs = (await nodeB.api(`/api/accounts/${id}/jobs`)).body as JobView[];
        return jobs.some((j) => j.mode === 'background' && j.status === 'done') ? true : undefined;
      });
    await sleep(3000); // more ticks of both nodes: nothing more may start
    for (const [i, id] of accounts.entries()) {
      const jobs = (await nodeA.api(`/api/accounts/${id}/jobs`)).body as JobView[];
      assert.equal(jobs.filter((j) => j.mode === 'background').length, 1, `account ${logins[i]} ran once`);
      assert.deepEqual(site.runs(logins[i]!), { started: 1, ended: 1, active: 0, maxActive: 1 });
    }
    const next = await db.query<{ next_run_at: string }>('select next_run_at from triggers where account_id = any($1::text[])', [accounts]);
    for (const row of next.rows) assert.ok(row.next_run_at > new Date().toISOString(), 'each trigger moved to its next time');
  });
});
