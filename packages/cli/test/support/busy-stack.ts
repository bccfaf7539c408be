// A stack process for the backup test: `gleaner serve` with room for many jobs at once (serve has no
// concurrency option). Args: <dataDir> <konnectorDir> <concurrency>. Prints the URL; SIGTERM stops it.
import { createLogger, startServer } from '@gleaner/stack';

const [dataDir, konnectorDir, concurrency] = process.argv.slice(2);
const server = await startServer({
  dataDir: dataDir!,
  port: 0,
  konnectorDirs: [konnectorDir!],
  logger: createLogger({ level: 'warn' }),
  stackOptions: { concurrency: Number(concurrency) },
});
process.stderr.write(`Gleaner is serving on ${server.url}\n`);
process.once('SIGTERM', () => {
  void server.close(1000).then(() => process.exit(0));
});
