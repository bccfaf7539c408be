import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asDiskFault, createLogger, startServer } from '@gleaner/stack';
import { startMailbox, startSites } from '@gleaner/sites';
import { homeDistDir } from './home-dir.js';
import { UsageError } from './usage-error.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

export type DemoOptions = {
  dataDir?: string;
  /** Home and the API; 0 picks a free port. */
  port?: number;
  /** The fake sites (default 8080; 0 picks a free port): the konnectors' site address follows them. */
  sitesPort?: number;
  /**
   * The demo mailbox's IMAP port (unset or 0 picks a free one; `gleaner demo` asks 1143). The sites
   * mail their codes into it, so that a code source can read them: its address is in the banner.
   */
  mailboxPort?: number;
  /** Default: GLEANER_ADMIN_PASSWORD, else the demo's own, kept in `<data>/demo-admin-password` (0600). */
  adminPassword?: string;
  /** The stack's cap on one 2FA wait. */
  twoFaTimeoutMs?: number;
  print?: (line: string) => void;
  /** The stack's log level (default GLEANER_LOG_LEVEL, else warn: the demo's terminal stays readable). */
  logLevel?: string;
};

/** The stack with Home, the fake sites, their mailbox, and the GitHub and Amazon konnectors installed. */
export async function startDemo(options: DemoOptions = {}) {
  const dataDir = options.dataDir ?? join(repo, 'data', 'demo');
  // An empty GLEANER_ADMIN_PASSWORD counts as none, as in serve.
  const given = options.adminPassword || process.env.GLEANER_ADMIN_PASSWORD || undefined;
  let adminPassword: string;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    adminPassword = given ?? demoAdminPassword(dataDir);
  } catch (error) {
    // A full or read-only data folder: one sentence naming it.
    throw asDiskFault(error, resolve(dataDir));
  }
  // An operator's own password is never echoed; the demo's is, since it exists to be typed in.
  const signIn = given ? 'the admin password you set (GLEANER_ADMIN_PASSWORD)' : `admin password ${adminPassword}`;
  const mailbox = await onPort(options.mailboxPort ?? 0, 'the demo mailbox', '--mailbox-port', (port) =>
    startMailbox({ port }),
  );
  let sites: Awaited<ReturnType<typeof startSites>>;
  try {
    // The sites' e-mails go into the demo mailbox (over SMTP) as well as onto the outbox page.
    sites = await onPort(options.sitesPort ?? 8080, 'the fake sites', '--sites-port', (port) =>
      startSites({ port, smtp: mailbox.smtp }),
    );
  } catch (error) {
    await mailbox.close();
    throw error;
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await onPort(options.port ?? 3000, 'Home and the API', '--port', (port) =>
      startServer({
        dataDir,
        port,
        konnectorDirs: [join(repo, 'konnectors')],
        homeDir: homeDistDir(),
        adminPassword,
        ...(options.print ? { print: options.print } : {}),
        logger: createLogger({ level: options.logLevel ?? process.env.GLEANER_LOG_LEVEL ?? 'warn' }),
        stackOptions: {
          // The konnectors' manifests say :8080; the demo's sites may be elsewhere (--sites-port, tests).
          fieldDefaults: { github: { baseUrl: sites.github }, amazon: { baseUrl: sites.amazon } },
          ...(options.twoFaTimeoutMs ? { twoFaTimeoutCapMs: options.twoFaTimeoutMs } : {}),
        },
      }),
    );
  } catch (error) {
    await sites.close();
    await mailbox.close();
    throw error;
  }
  return {
    url: server.url,
    /** How to sign in, for the banner. */
    signIn,
    sitesUrl: sites.url,
    outbox: sites.outbox,
    /** The demo mailbox (plain IMAP, no TLS) and its users: address → app password (public demo values). */
    mailbox: { host: mailbox.imap.host, port: mailbox.imap.port, users: mailbox.users },
    /** Running jobs get `graceMs` to finish, then end JOB_INTERRUPTED. */
    close: async (graceMs = 5000) => {
      await server.close(graceMs);
      await sites.close();
      await mailbox.close();
    },
  };
}

/**
 * Starts a server of the demo on `port`; a port already taken is told in one sentence that names the
 * option, not as a stack trace (a second demo, or another program on the default port).
 */
export async function onPort<T>(port: number, what: string, option: string, start: (port: number) => Promise<T>) {
  try {
    return await start(port);
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    throw new UsageError(
      `port ${port} for ${what} is in use (another demo running?): choose another with ${option}, or ${option} 0 for a free one`,
    );
  }
}

/**
 * The demo's admin password: made once and kept in the demo's data folder (mode 0600), so that the
 * banner can show it at every start. Only for the demo, whose accounts are on the fake sites; `serve`
 * shows its generated password once and keeps only its hash.
 */
function demoAdminPassword(dataDir: string): string {
  const file = join(dataDir, 'demo-admin-password');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  // An empty one (left by an older start that failed on a full disk) is replaced, never shown.
  if (kept) return kept;
  const password = randomBytes(12).toString('base64url');
  // Temp file + rename: a start that fails half-way never leaves an empty file behind.
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, `${password}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return password;
}
