import { openPostgresAuthStore } from '../src/api/auth-store.js';
import { PostgresLoginLimiter } from '../src/api/login-limiter.js';
import { apiAuthSuite } from './api-auth-suite.js';
import { postgresForFile } from './helpers/postgres.js';

const server = postgresForFile();
// Each API and limiter on a database of its own: the cases run in parallel.
apiAuthSuite('PostgreSQL', {
  auth: async () => openPostgresAuthStore(await (await server()).createDatabase()),
  limiter: async (maxFailures, windowMs) =>
    PostgresLoginLimiter.open(await (await server()).createDatabase(), { maxFailures, windowMs }),
});
