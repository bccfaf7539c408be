import {
  Migrator,
  sql,
  type ColumnDataType,
  type Expression,
  type Kysely,
  type Migration,
  type MigrationProvider,
} from 'kysely';

/** A column type as Kysely's schema builder takes it. */
type DataTypeExpression = ColumnDataType | Expression<unknown>;

export type DialectName = 'sqlite' | 'postgres';

/**
 * The schema's history, in code so that it ships with the build: the same versions and names on both
 * dialects, each written with Kysely's schema builder. The dialect differences are the column types
 * below (`columnTypes`): SQLite's stay exactly what its existing databases were made with.
 */
export function migrations(dialect: DialectName): Record<string, Migration> {
  const { text, bigInteger } = columnTypes(dialect);
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('accounts')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('konnector', text, (c) => c.notNull())
          .addColumn('label', text, (c) => c.notNull())
          .addColumn('state', text)
          .addColumn('fields_clear', text, (c) => c.notNull())
          .addColumn('secret_fields_set', text, (c) => c.notNull())
          .addColumn('credentials', text, (c) => c.notNull())
          .addColumn('session', text)
          .addColumn('data', text)
          .addColumn('paused_by', text)
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('jobs')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('account_id', text, (c) => c.notNull())
          .addColumn('konnector', text, (c) => c.notNull())
          .addColumn('mode', text, (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('login_status', text, (c) => c.notNull())
          .addColumn('error', text)
          .addColumn('files_saved', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('started_at', text)
          .addColumn('ended_at', text)
          .execute();
        await db.schema.createIndex('jobs_account').on('jobs').columns(['account_id', 'created_at']).execute();
        await db.schema.createIndex('jobs_status').on('jobs').column('status').execute();
        // The storage itself guarantees one active job per account, whichever node inserts it.
        await db.schema
          .createIndex('jobs_one_active_per_account')
          .on('jobs')
          .column('account_id')
          .unique()
          .where(sql.ref('status'), 'in', ['queued', 'running'])
          .execute();

        await db.schema
          .createTable('job_logs')
          .addColumn('job_id', text, (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('level', text, (c) => c.notNull())
          .addColumn('message', text, (c) => c.notNull())
          .addColumn('at', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('job_logs_pk', ['job_id', 'seq'])
          .execute();

        await db.schema
          .createTable('prompts')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('job_id', text, (c) => c.notNull())
          .addColumn('account_id', text, (c) => c.notNull())
          .addColumn('type', text)
          .addColumn('retry', 'integer', (c) => c.notNull())
          .addColumn('status', text, (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('expires_at', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('prompts_job').on('prompts').column('job_id').execute();
        await db.schema.createIndex('prompts_status').on('prompts').column('status').execute();

        await db.schema
          .createTable('files')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('account_id', text, (c) => c.notNull())
          .addColumn('job_id', text)
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('folder', text, (c) => c.notNull())
          .addColumn('size', bigInteger, (c) => c.notNull())
          .addColumn('sha256', text, (c) => c.notNull())
          .addColumn('attributes', text, (c) => c.notNull())
          .addColumn('bill', text)
          .addColumn('saved_at', text, (c) => c.notNull())
          .addUniqueConstraint('files_account_path', ['account_id', 'folder', 'name'])
          .execute();

        await db.schema
          .createTable('events')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('type', text, (c) => c.notNull())
          .addColumn('at', text, (c) => c.notNull())
          .addColumn('payload', text, (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('triggers')
          .addColumn('account_id', text, (c) => c.primaryKey())
          .addColumn('frequency', text, (c) => c.notNull())
          .addColumn('time', text, (c) => c.notNull())
          .addColumn('weekday', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_run_at', text)
          .addColumn('last_skipped_at', text)
          .addColumn('skip_reason', text)
          .execute();
        await db.schema.createIndex('triggers_due').on('triggers').column('next_run_at').execute();

        await db.schema
          .createTable('settings')
          .addColumn('key', text, (c) => c.primaryKey())
          .addColumn('value', text, (c) => c.notNull())
          .execute();
      },
    },
    '0002_job_konnector_version': {
      // The konnector version each job ran: installs change it between jobs.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('jobs').addColumn('konnector_version', text).execute();
      },
    },
    '0003_cluster': {
      // Several worker processes on one PostgreSQL: which one runs each job, and who is alive (its
      // heartbeat), so that a dead worker's jobs are ended by whichever node sees it first.
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('jobs').addColumn('worker_id', text).execute();
        await db.schema
          .createTable('workers')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('host', text, (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('started_at', text, (c) => c.notNull())
          .addColumn('heartbeat_at', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('jobs_worker').on('jobs').column('worker_id').execute();
      },
    },
    '0004_crossnode': {
      // What an API node keeps must be shared once several nodes serve one database: the messages to
      // waiting jobs (a code, sealed, until its job takes it), and on PostgreSQL the admin sign-in and
      // the login rate limit. SQLite is one process: its sign-in stays in auth.sqlite, its limit in memory.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('prompt_messages')
          .addColumn('prompt_id', text, (c) => c.primaryKey())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('sealed', text)
          .addColumn('at', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('prompt_messages_at').on('prompt_messages').column('at').execute();
        if (dialect !== 'postgres') return;
        await db.schema
          .createTable('auth_settings')
          .addColumn('key', text, (c) => c.primaryKey())
          .addColumn('value', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('auth_sessions')
          .addColumn('id_hash', text, (c) => c.primaryKey())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('expires_at', text, (c) => c.notNull())
          .execute();
        await db.schema.createIndex('auth_sessions_expires').on('auth_sessions').column('expires_at').execute();
        await db.schema
          .createTable('auth_tokens')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('hash', text, (c) => c.notNull().unique())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('last_used_at', text)
          .execute();
        await db.schema
          .createTable('login_failures')
          .addColumn('client', text, (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('login_failures_client').on('login_failures').columns(['client', 'at']).execute();
        await db.schema.createIndex('login_failures_at').on('login_failures').column('at').execute();
      },
    },
    '0005_prompt_details': {
      // What the site says about a code: where it went (masked), attempts left before its lockout,
      // where else it could go, a "trust this device" box, and when a new one may be asked. None secret.
      async up(db: Kysely<unknown>) {
        for (const [name, type] of [
          ['destination', text],
          ['attempts_left', 'integer'],
          ['methods', text],
          ['method', text],
          ['trust_label', text],
          ['trust_checked', 'integer'],
          ['resend_at', text],
        ] as const) {
          await db.schema.alterTable('prompts').addColumn(name, type).execute();
        }
      },
    },
    '0006_home': {
      // An account deleted with its documents kept: what it was, so that Home can list them under its name.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('kept_accounts')
          .addColumn('account_id', text, (c) => c.primaryKey())
          .addColumn('konnector', text, (c) => c.notNull())
          .addColumn('label', text, (c) => c.notNull())
          .addColumn('deleted_at', text, (c) => c.notNull())
          .execute();
      },
    },
    '0007_notifications': {
      // Where the admin wants to be told (SMTP, webhook, ntfy; the secret of each sealed), the causes
      // already told (one row per account and cause until it is resolved: the row's insert is the claim
      // that makes one node, once, send), and when each account's session and remembered device lapse.
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('notification_channels')
          .addColumn('id', text, (c) => c.primaryKey())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('name', text, (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('settings', text, (c) => c.notNull())
          .addColumn('secret', text)
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('updated_at', text, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('notified_causes')
          .addColumn('account_id', text, (c) => c.notNull())
          .addColumn('cause', text, (c) => c.notNull())
          .addColumn('raised_at', text, (c) => c.notNull())
          .addPrimaryKeyConstraint('notified_causes_pk', ['account_id', 'cause'])
          .execute();
        await db.schema
          .createTable('session_health')
          .addColumn('account_id', text, (c) => c.primaryKey())
          .addColumn('session_expires_at', text)
          .addColumn('device_expires_at', text)
          // A manual run the person planned before the session lapses ("renew before it lapses").
          .addColumn('renew_at', text)
          .addColumn('updated_at', text, (c) => c.notNull())
          .execute();
      },
    },
    '0008_code_sources': {
      // Where codes come from without a person: per account and kind (app_code, email, sms), what
      // may be shown (a mailbox's host and user, a webhook's id) in clear and its secrets sealed;
      // and which source answered each prompt (shown in the job's history).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('code_sources')
          .addColumn('account_id', text, (c) => c.notNull())
          .addColumn('kind', text, (c) => c.notNull())
          .addColumn('settings', text, (c) => c.notNull())
          .addColumn('sealed', text, (c) => c.notNull())
          .addColumn('hook_id', text, (c) => c.unique())
          .addColumn('created_at', text, (c) => c.notNull())
          .addColumn('last_code_at', text)
          .addColumn('last_message_at', text)
          .addColumn('last_error', text)
          .addPrimaryKeyConstraint('code_sources_pk', ['account_id', 'kind'])
          .execute();
        await db.schema.alterTable('prompts').addColumn('answered_by', text).execute();
      },
    },
  };
}

/**
 * PostgreSQL compares and sorts text by the database's locale, SQLite byte by byte: the "C"
 * collation gives PostgreSQL SQLite's order (ids, names, ISO 8601 times), whatever locale the
 * operator's database was made with. SQLite's integer is 64-bit, PostgreSQL's is not: file sizes
 * are bigint there (read back as strings, hence the `Number()` in the stores). JSON stays text and
 * flags stay 0/1 integers on both: the stores parse them, and no query looks inside them.
 */
function columnTypes(dialect: DialectName): { text: DataTypeExpression; bigInteger: DataTypeExpression } {
  return dialect === 'postgres'
    ? { text: sql`text collate "C"`, bigInteger: 'bigint' }
    : { text: 'text', bigInteger: 'integer' };
}

/**
 * Brings the schema up to date, each migration in its own transaction; returns the names applied,
 * or throws with the failing migration's name.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>, dialect: DialectName): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
