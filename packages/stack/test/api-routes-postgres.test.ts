import { openPostgresAuthStore } from '../src/api/auth-store.js';
import { apiRoutesSuite } from './api-routes-suite.js';
import { postgresForFile } from './helpers/postgres.js';

const server = postgresForFile();
apiRoutesSuite('PostgreSQL', async () => openPostgresAuthStore(await (await server()).createDatabase()));
