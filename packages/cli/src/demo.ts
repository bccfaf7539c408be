import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, startServer } from '@gleaner/stack';
import { startSites } from '@gleaner/sites';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

export type DemoOptions = {
  dataDir?: string;
  /** Home and the API; 0 picks a free port. */
  port?: number;
  /** The fake sites (default 8080; 0 picks a free port): the konnectors' site address follows them. */
  sitesPort?: number;
  adminPassword?: string;
  /** The stack's cap on one 2FA wait. */
  twoFaTimeoutMs?: number;
  print?: (line: string) => void;
  /** The stack's log level (default GLEANER_LOG_LEVEL, else info). */
  logLevel?: string;
};

/** The stack with Home, the fake sites, and the GitHub and Amazon konnectors installed. */
export async function startDemo(options: DemoOptions = {}) {
  const dataDir = options.dataDir ?? join(repo, 'data', 'demo');
  mkdirSync(dataDir, { recursive: true });
  const sites = await startSites({ port: options.sitesPort ?? 8080 });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      dataDir,
      port: options.port ?? 3000,
      konnectorDirs: [join(repo, 'konnectors')],
      homeDir: join(repo, 'packages', 'home', 'dist'),
      ...(options.adminPassword ? { adminPassword: options.adminPassword } : {}),
      ...(options.print ? { print: options.print } : {}),
      ...(options.logLevel ? { logger: createLogger({ level: options.logLevel }) } : {}),
      stackOptions: {
        // The konnectors' manifests say :8080; the demo's sites may be elsewhere (--sites-port, tests).
        fieldDefaults: { github: { baseUrl: sites.github }, amazon: { baseUrl: sites.amazon } },
        ...(options.twoFaTimeoutMs ? { twoFaTimeoutCapMs: options.twoFaTimeoutMs } : {}),
      },
    });
  } catch (error) {
    await sites.close();
    throw error;
  }
  return {
    url: server.url,
    sitesUrl: sites.url,
    outbox: sites.outbox,
    /** Running jobs get `graceMs` to finish, then end JOB_INTERRUPTED. */
    close: async (graceMs = 5000) => {
      await server.close(graceMs);
      await sites.close();
    },
  };
}
