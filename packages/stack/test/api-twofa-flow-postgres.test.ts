import { twofaFlowSuite } from './api-twofa-flow-suite.js';
import { postgresForFile } from './helpers/postgres.js';

const server = postgresForFile();
twofaFlowSuite('PostgreSQL', async () => (await server()).createDatabase());
