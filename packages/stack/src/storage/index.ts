export * from './stores.js';
export { openSqliteDatabase, openSqliteStorage } from './sqlite.js';
export {
  countPostgresAccountsUsing,
  DatabaseError,
  isPostgresUrl,
  migratePostgres,
  openPostgresDatabase,
  openPostgresStorage,
  redactDatabaseUrl,
  type PostgresOptions,
} from './postgres.js';
export { kyselyStores, isUniqueViolation } from './kysely-stores.js';
export { migrateToLatest, migrations, type DialectName } from './migrations.js';
export type { Database } from './schema.js';
