// Figures 3 and 5 (Gleaner): the real stack (startServer: SQLite, HTTP API, konnector runner) in a
// process of its own, so that the bench's HTTP and SSE client never shares its event loop and its
// memory can be read from /proc. Prints BENCH_STACK {"url","pid"} once it listens; stops on SIGTERM.
// Env: BENCH_DATA_DIR, BENCH_KONNECTOR_DIR, BENCH_ADMIN_PASSWORD, BENCH_CONCURRENCY, BENCH_SANDBOX (0: --no-sandbox);
// BENCH_DATABASE (a postgres:// URL: one node of a cluster) with GLEANER_SECRET_KEY(_ID), the key every node shares.
import { createLogger, startServer } from '@gleaner/stack';

const server = await startServer({
  dataDir: process.env.BENCH_DATA_DIR,
  port: 0,
  host: '127.0.0.1',
  konnectorDirs: [process.env.BENCH_KONNECTOR_DIR],
  adminPassword: process.env.BENCH_ADMIN_PASSWORD,
  logger: createLogger({ level: 'warn' }),
  print: () => {},
  stackOptions: {
    concurrency: Number(process.env.BENCH_CONCURRENCY),
    schedulerIntervalMs: false,
    noSandbox: process.env.BENCH_SANDBOX === '0',
    ...(process.env.BENCH_DATABASE ? { database: process.env.BENCH_DATABASE } : {}),
    ...(process.env.BENCH_WORKER === '0' ? { worker: false } : {}),
  },
});
console.log('BENCH_STACK ' + JSON.stringify({ url: server.url, pid: process.pid }));

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  server.close(1000).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
