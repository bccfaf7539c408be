import { sqliteAuth } from './api-fixtures/http.js';
import { apiRoutesSuite } from './api-routes-suite.js';

apiRoutesSuite('SQLite', sqliteAuth);
