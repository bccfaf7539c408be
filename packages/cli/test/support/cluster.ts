import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { signIn, until, type AdminApi } from './admin-api.js';
import { repoRoot, session, type Session, type SessionOptions } from './cli.js';
import { inNamespace, type NetworkPool, type NetworkSlot } from './netns.js';

/** The `gleaner` bin as installed (what an operator runs on each machine). */
export const gleanerBin = join(repoRoot, 'packages/cli/bin/gleaner.js');

/** Runs `gleaner <args>` through the bin, as a child process of its own. */
export function gleanerProcess(args: string[], options: SessionOptions = {}): Session {
  return session([process.execPath, gleanerBin, ...args], options);
}

/** `slot`: the network namespace it runs in (null on the root namespace's 127.0.0.1). */
export type ClusterNode = { session: Session; url: string; api: AdminApi; slot: NetworkSlot | null };
export type ClusterWorker = { session: Session; id: string; pid: number; slot: NetworkSlot | null };

/** What every node of one cluster shares: the database, the data folder, the key, the admin password. */
export type ClusterConfig = {
  database: string;
  dataDir: string;
  konnectorDirs: string[];
  adminPassword: string;
  /** GLEANER_SECRET_KEY and GLEANER_SECRET_KEY_ID, the same on every node. */
  keyEnv: Record<string, string>;
  /** Extra arguments for every node and worker (`--no-sandbox`, say). */
  extraArgs?: string[];
  /**
   * Each node and worker in a namespace of its own from this pool, reaching PostgreSQL at its slot's
   * host-side address (the database URL's host is replaced by it).
   */
  network?: NetworkPool;
};

const common = (config: ClusterConfig, slot: NetworkSlot | null) => [
  '--database',
  slot ? databaseVia(config.database, slot.hostAddress) : config.database,
  '--data',
  config.dataDir,
  ...config.konnectorDirs.flatMap((dir) => ['--konnectors', dir]),
  ...(config.extraArgs ?? []),
];

const envOf = (config: ClusterConfig, env: Record<string, string> = {}) => ({
  GLEANER_ADMIN_PASSWORD: config.adminPassword,
  GLEANER_LOG_LEVEL: 'info',
  ...config.keyEnv,
  ...env,
});

/** The database URL with another host (the address a node in a namespace reaches PostgreSQL at). */
export function databaseVia(database: string, host: string): string {
  const url = new URL(database);
  url.hostname = host;
  return url.toString();
}

/**
 * Runs `gleaner <args>`, in the pool's next namespace when the config has one: `ip netns exec` execs
 * node in place, so the child's pid is node's and a signal sent to it reaches gleaner itself.
 */
function launch(config: ClusterConfig, args: (slot: NetworkSlot | null) => string[], env?: Record<string, string>) {
  const slot = config.network?.take() ?? null;
  const command = [process.execPath, gleanerBin, ...args(slot)];
  const started = session(slot ? [config.network!.ip, 'netns', 'exec', slot.name, ...command] : command, {
    env: envOf(config, env),
  });
  return { session: started, slot };
}

/** Once it printed it is up: the pid is node's own (not `ip`'s), in the slot's namespace. */
function assertInSlot(started: Session, slot: NetworkSlot | null): void {
  if (!slot) return;
  const pid = started.child.pid!;
  assert.equal(realpathSync(`/proc/${pid}/exe`), realpathSync(process.execPath), `pid ${pid} is node itself`);
  assert.ok(inNamespace(pid, slot.name), `pid ${pid} runs in network namespace ${slot.name}`);
}

/**
 * Starts `gleaner serve --no-worker` and signs in to its API: on a free port of 127.0.0.1, or in a
 * namespace on its own address (`port`: a given one; 0 is free there too).
 */
export async function startNode(
  config: ClusterConfig,
  args: string[] = [],
  env?: Record<string, string>,
  port = 0,
): Promise<ClusterNode> {
  const { session: serve, slot } = launch(
    config,
    (slot) => ['serve', '--no-worker', '--port', String(port), ...(slot ? ['--host', slot.address] : []), ...common(config, slot), ...args],
    env,
  );
  const url = /Gleaner is serving on (http:\/\/\S+)/.exec(await serve.waitFor(/Gleaner is serving on http:\/\/\S+\n/, 30_000))![1]!;
  assertInSlot(serve, slot);
  return { session: serve, url, api: await signIn(url, config.adminPassword), slot };
}

/** Starts `gleaner worker`; resolves once it runs, with its worker id and pid. */
export async function startWorker(config: ClusterConfig, args: string[] = [], env?: Record<string, string>): Promise<ClusterWorker> {
  const { session: worker, slot } = launch(config, (slot) => ['worker', ...common(config, slot), ...args], env);
  const line = await worker.waitFor(/Gleaner worker \S+ is running/, 30_000);
  assertInSlot(worker, slot);
  return { session: worker, id: /Gleaner worker (\S+) is running/.exec(line)![1]!, pid: worker.child.pid!, slot };
}

/** SIGTERM, then the exit code (0 for a clean stop). */
export async function stopProcess(process: { session: Session }): Promise<number | null> {
  if (process.session.child.exitCode === null && process.session.child.signalCode === null)
    process.session.child.kill('SIGTERM');
  return process.session.exit;
}

export type JobView = {
  id: string;
  accountId: string;
  status: string;
  error: string | null;
  worker: string | null;
  filesSaved: number;
  mode: string;
  loginStatus: string;
};

/** Creates an account through a node's API; returns its id. */
export async function createAccount(node: ClusterNode, konnector: string, fields: Record<string, unknown>): Promise<string> {
  const created = await node.api('/api/accounts', { method: 'POST', json: { konnector, fields } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return (created.body as { id: string }).id;
}

/** Starts a job of the account through a node's API: a manual one, or a background one (as the scheduler's). */
export async function startJob(node: ClusterNode, accountId: string, mode?: 'manual' | 'background'): Promise<JobView> {
  const started = await node.api(`/api/accounts/${accountId}/jobs`, { method: 'POST', ...(mode ? { json: { mode } } : {}) });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  return started.body as JobView;
}

export async function getJob(node: ClusterNode, jobId: string): Promise<JobView> {
  const job = await node.api(`/api/jobs/${jobId}`);
  assert.equal(job.status, 200, JSON.stringify(job.body));
  return job.body as JobView;
}

/** Waits until the job is ended (done or errored) and returns it. */
export function jobEnded(node: ClusterNode, jobId: string, ms = 60_000): Promise<JobView> {
  return until(
    `the end of job ${jobId}`,
    async () => {
      const job = await getJob(node, jobId);
      return job.status === 'done' || job.status === 'errored' ? job : undefined;
    },
    ms,
  );
}
