import { MemoryLoginLimiter } from '../src/api/login-limiter.js';
import { sqliteAuth } from './api-fixtures/http.js';
import { apiAuthSuite } from './api-auth-suite.js';

apiAuthSuite('SQLite, limiter in memory', {
  auth: sqliteAuth,
  limiter: async (maxFailures, windowMs) => new MemoryLoginLimiter(maxFailures, windowMs),
});
