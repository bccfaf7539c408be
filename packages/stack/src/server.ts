import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { buildApi } from './api/app.js';
import { openPostgresAuthStore, openSqliteAuthStore, type AuthStore } from './api/auth-store.js';
import { PostgresLoginLimiter, type LoginLimiter } from './api/login-limiter.js';
import { generatePassword, hashPassword, verifyPassword } from './api/credentials.js';
import { asDiskFault } from './disk-faults.js';
import { isPostgresUrl } from './storage/postgres.js';
import { createLogger } from './logger.js';
import type { Stack } from './stack.js';

/** What `startServer` needs from the core: a Stack on a data folder and konnector folders. */
export type StackFactory = (
  options: { dataDir: string; konnectorDirs: string[]; logger: Logger } & Record<string, unknown>,
) => Promise<Stack>;

export type ServerOptions = {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  konnectorDirs: string[];
  /** The built Home, served at /. */
  homeDir?: string;
  logger?: Logger;
  /** Else GLEANER_ADMIN_PASSWORD, else generated on first start and printed once. */
  adminPassword?: string;
  /** Where the generated password is printed (never to the log); default stdout. */
  print?: (line: string) => void;
  trustProxy?: boolean;
  /** Passed through to the stack factory (time limits, concurrency, …). */
  stackOptions?: Record<string, unknown>;
  /** Tests pass their own; default: the core's createStack. */
  createStack?: StackFactory;
};

export type RunningServer = {
  url: string;
  stack: Stack;
  auth: AuthStore;
  /** Stops accepting HTTP (and ends event streams), then closes the stack with `graceMs` for running jobs. */
  close(graceMs?: number): Promise<void>;
};

async function defaultCreateStack(): Promise<StackFactory> {
  // Loaded by name so that this file builds before the core's create-stack.ts exists.
  const modulePath = './create-stack.js';
  const module = (await import(modulePath)) as { createStack: StackFactory };
  return module.createStack;
}

/**
 * Sets the admin password hash on first start: from the option or GLEANER_ADMIN_PASSWORD, else a
 * generated one printed once. A password given later replaces the stored one (a way to reset it).
 */
export async function ensureAdminPassword(
  auth: AuthStore,
  options: { password?: string | undefined; print: (line: string) => void; logger: Logger },
): Promise<void> {
  const given = options.password;
  const stored = await auth.passwordHash();
  if (given) {
    if (stored && (await verifyPassword(given, stored))) return;
    await auth.setPasswordHash(await hashPassword(given));
    options.logger.info(
      stored ? 'admin password replaced from the configuration' : 'admin password set from the configuration',
    );
    return;
  }
  if (stored) return;
  const generated = generatePassword();
  // Two nodes of one PostgreSQL database starting at once: the first one's password stands, and
  // only it is printed (the other would print a password that does not work).
  if (await auth.setPasswordHashIfNone(await hashPassword(generated)))
    options.print(`Gleaner admin password (shown once, keep it): ${generated}`);
  else options.logger.info('admin password set meanwhile by another node of this database: see its output');
}

/** Starts the stack and its HTTP API (and Home) on the embedded default. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  try {
    return await serve(options);
  } catch (error) {
    // A full, read-only or forbidden data folder is said in one sentence naming it.
    throw asDiskFault(error, resolve(options.dataDir));
  }
}

async function serve(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger();
  // On PostgreSQL, several API nodes may serve one database: sign-in and its rate limit live there.
  const database = options.stackOptions?.database;
  const shared = typeof database === 'string' && isPostgresUrl(database) ? database : undefined;
  const auth = shared ? await openPostgresAuthStore(shared, { logger }) : openSqliteAuthStore(options.dataDir);
  let limiter: LoginLimiter | undefined;
  try {
    if (shared) limiter = await PostgresLoginLimiter.open(shared, { logger });
    await ensureAdminPassword(auth, {
      password: options.adminPassword ?? process.env.GLEANER_ADMIN_PASSWORD,
      print: options.print ?? ((line) => process.stdout.write(`${line}\n`)),
      logger,
    });
  } catch (error) {
    await limiter?.close();
    await auth.close();
    throw error;
  }
  const createStack = options.createStack ?? (await defaultCreateStack());
  let stack: Stack;
  try {
    stack = await createStack({
      ...options.stackOptions,
      dataDir: options.dataDir,
      konnectorDirs: options.konnectorDirs,
      logger,
    });
  } catch (error) {
    await limiter?.close();
    await auth.close();
    throw error;
  }
  const app = await buildApi(stack, {
    auth,
    logger,
    ...(limiter ? { loginLimiter: limiter } : {}),
    ...(options.homeDir !== undefined ? { homeDir: options.homeDir } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
  });
  let url: string;
  try {
    url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port });
  } catch (error) {
    await stack.close(0);
    await limiter?.close();
    await auth.close();
    throw error;
  }
  stack.notifications?.useListenAddress(url);
  let closing: Promise<void> | null = null;
  return {
    url,
    stack,
    auth,
    close(graceMs) {
      closing ??= (async () => {
        // Each step whatever the one before threw: the stop always ends (the first failure is kept).
        let failure: unknown = null;
        for (const step of [() => app.close(), () => stack.close(graceMs), () => limiter?.close(), () => auth.close()]) {
          try {
            await step();
          } catch (error) {
            logger.error({ err: error }, 'a step of the stop failed');
            failure ??= error;
          }
        }
        if (failure) throw asDiskFault(failure, resolve(options.dataDir));
      })();
      return closing;
    },
  };
}
