import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  AccountState,
  BillMetadata,
  ErrorCode,
  JobStatus,
  LoginStatus,
  PromptStatus,
  RunMode,
  TwoFaMethod,
  TwoFaType,
} from '@gleaner/contracts';
import type {
  AccountsTable,
  CodeSourcesTable,
  Database,
  FilesTable,
  JobsTable,
  KeptAccountsTable,
  NotificationChannelsTable,
  PromptsTable,
  TriggersTable,
  WorkersTable,
} from './schema.js';
import type {
  AccountRecord,
  AccountStore,
  CodeAnswerer,
  CodeSourceKind,
  CodeSourceRecord,
  CodeSourceStore,
  EventRecord,
  EventStore,
  FileRecord,
  FileStore,
  JobLogRecord,
  JobRecord,
  JobStore,
  KeptAccountRecord,
  KeptAccountStore,
  LogStore,
  NotificationCause,
  NotificationChannelRecord,
  NotificationStore,
  PromptMessageStore,
  PromptRecord,
  PromptStore,
  SettingsStore,
  Stores,
  TriggerRecord,
  TriggerStore,
  WorkerRecord,
  WorkerStore,
} from './stores.js';

/**
 * The stores written once with Kysely's query builder, in SQL both SQLite and PostgreSQL speak;
 * each adapter gives them its own `Kysely` (or a transaction of it).
 */
export function kyselyStores(db: Kysely<Database>, dialect: 'sqlite' | 'postgres' = 'sqlite'): Stores {
  return {
    accounts: accountStore(db),
    jobs: jobStore(db),
    logs: logStore(db),
    prompts: promptStore(db),
    files: fileStore(db),
    events: eventStore(db, dialect),
    triggers: triggerStore(db),
    settings: settingsStore(db),
    workers: workerStore(db),
    kept: keptStore(db),
    promptMessages: promptMessageStore(db),
    notifications: notificationStore(db),
    codeSources: codeSourceStore(db),
  };
}

/** A unique constraint was violated (SQLite or PostgreSQL). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * Free text as stored: PostgreSQL's text cannot hold NUL (SQLite's can), so a NUL in a log line or a
 * label becomes U+FFFD on both, and the two read back the same.
 */
const storedText = (value: string) => (value.includes('\u0000') ? value.replaceAll('\u0000', '\uFFFD') : value);

const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }) =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n) > 0;

function toAccount(row: Selectable<AccountsTable>): AccountRecord {
  return {
    id: row.id,
    konnector: row.konnector,
    label: row.label,
    state: row.state as AccountState,
    fieldsClear: JSON.parse(row.fields_clear) as Record<string, string>,
    secretFieldsSet: JSON.parse(row.secret_fields_set) as string[],
    credentials: row.credentials,
    session: row.session,
    data: row.data,
    pausedBy: row.paused_by as ErrorCode | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function accountStore(db: Kysely<Database>): AccountStore {
  return {
    async insert(a) {
      await db
        .insertInto('accounts')
        .values({
          id: a.id,
          konnector: a.konnector,
          label: storedText(a.label),
          state: a.state,
          fields_clear: JSON.stringify(a.fieldsClear),
          secret_fields_set: JSON.stringify(a.secretFieldsSet),
          credentials: a.credentials,
          session: a.session,
          data: a.data,
          paused_by: a.pausedBy,
          created_at: a.createdAt,
          updated_at: a.updatedAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toAccount(row);
    },
    async list() {
      const rows = await db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
      return rows.map(toAccount);
    },
    async update(id, p) {
      const values: Partial<AccountsTable> = {};
      if (p.label !== undefined) values.label = storedText(p.label);
      if (p.state !== undefined) values.state = p.state;
      if (p.fieldsClear !== undefined) values.fields_clear = JSON.stringify(p.fieldsClear);
      if (p.secretFieldsSet !== undefined) values.secret_fields_set = JSON.stringify(p.secretFieldsSet);
      if (p.credentials !== undefined) values.credentials = p.credentials;
      if (p.session !== undefined) values.session = p.session;
      if (p.data !== undefined) values.data = p.data;
      if (p.pausedBy !== undefined) values.paused_by = p.pausedBy;
      if (p.updatedAt !== undefined) values.updated_at = p.updatedAt;
      if (Object.keys(values).length === 0) {
        return !!(await db.selectFrom('accounts').select('id').where('id', '=', id).executeTakeFirst());
      }
      return changed(await db.updateTable('accounts').set(values).where('id', '=', id).executeTakeFirst());
    },
    async delete(id) {
      return changed(await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst());
    },
    async listWithStates(states) {
      if (states.length === 0) return [];
      const rows = await db.selectFrom('accounts').selectAll().where('state', 'in', states).execute();
      return rows.map(toAccount);
    },
  };
}

function toJob(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    konnector: row.konnector,
    konnectorVersion: row.konnector_version ?? null,
    workerId: row.worker_id ?? null,
    mode: row.mode as RunMode,
    status: row.status as JobStatus,
    loginStatus: row.login_status as LoginStatus,
    error: row.error as ErrorCode | null,
    filesSaved: Number(row.files_saved),
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

function jobValues(p: Partial<JobRecord>): Partial<JobsTable> {
  const v: Partial<JobsTable> = {};
  if (p.status !== undefined) v.status = p.status;
  if (p.loginStatus !== undefined) v.login_status = p.loginStatus;
  if (p.error !== undefined) v.error = p.error;
  if (p.filesSaved !== undefined) v.files_saved = p.filesSaved;
  if (p.startedAt !== undefined) v.started_at = p.startedAt;
  if (p.endedAt !== undefined) v.ended_at = p.endedAt;
  if (p.konnectorVersion !== undefined) v.konnector_version = p.konnectorVersion;
  if (p.workerId !== undefined) v.worker_id = p.workerId;
  return v;
}

/**
 * The predicate of `jobs_one_active_per_account`, as literals: the conflict target must name the
 * partial index's own predicate for PostgreSQL to infer it (a bound parameter would not match).
 */
const ACTIVE_INDEX_PREDICATE = sql<boolean>`status in ('queued', 'running')`;

function jobStore(db: Kysely<Database>): JobStore {
  return {
    async insertIfNoActive(j) {
      // ON CONFLICT on the partial unique index (one active job per account), not a caught error:
      // in PostgreSQL a failed statement would abort the transaction around it.
      const result = await db
        .insertInto('jobs')
        .values({
          id: j.id,
          account_id: j.accountId,
          konnector: j.konnector,
          konnector_version: j.konnectorVersion,
          worker_id: j.workerId,
          mode: j.mode,
          status: j.status,
          login_status: j.loginStatus,
          error: j.error,
          files_saved: j.filesSaved,
          created_at: j.createdAt,
          started_at: j.startedAt,
          ended_at: j.endedAt,
        })
        .onConflict((oc) => oc.column('account_id').where(ACTIVE_INDEX_PREDICATE).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async get(id) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toJob(row);
    },
    async list({ accountId, statuses, limit }) {
      let q = db.selectFrom('jobs').selectAll();
      if (accountId !== undefined) q = q.where('account_id', '=', accountId);
      if (statuses) q = statuses.length ? q.where('status', 'in', statuses) : q.where(sql.lit(false));
      const rows = await q
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit ?? 1000)
        .execute();
      return rows.map(toJob);
    },
    async update(id, patch) {
      const values = jobValues(patch);
      if (Object.keys(values).length === 0) return false;
      return changed(await db.updateTable('jobs').set(values).where('id', '=', id).executeTakeFirst());
    },
    async transition(id, from, patch) {
      const values = jobValues(patch);
      if (Object.keys(values).length === 0 || from.length === 0) return false;
      return changed(
        await db.updateTable('jobs').set(values).where('id', '=', id).where('status', 'in', from).executeTakeFirst(),
      );
    },
    async active(accountId) {
      const row = await db
        .selectFrom('jobs')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('status', 'in', ['queued', 'running'])
        .executeTakeFirst();
      return row && toJob(row);
    },
    async latest(accountId) {
      const row = await db
        .selectFrom('jobs')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && toJob(row);
    },
    async incrementFilesSaved(id) {
      await db
        .updateTable('jobs')
        .set((eb) => ({ files_saved: eb('files_saved', '+', 1) }))
        .where('id', '=', id)
        .execute();
    },
    async everLoggedIn(accountId) {
      const row = await db
        .selectFrom('jobs')
        .select('id')
        .where('account_id', '=', accountId)
        .where('login_status', '=', 'succeeded')
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
    async deleteForAccount(accountId) {
      await db.deleteFrom('jobs').where('account_id', '=', accountId).execute();
    },
    async runningOn(workerIds) {
      if (workerIds.length === 0) return [];
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where('status', '=', 'running')
        .where('worker_id', 'in', workerIds)
        .orderBy('created_at')
        .execute();
      return rows.map(toJob);
    },
  };
}

function logStore(db: Kysely<Database>): LogStore {
  return {
    async append(l) {
      await db
        .insertInto('job_logs')
        .values({ job_id: l.jobId, seq: l.seq, level: l.level, message: storedText(l.message), at: l.at })
        .execute();
    },
    async list(jobId, limit = 10_000) {
      const rows = await db
        .selectFrom('job_logs')
        .selectAll()
        .where('job_id', '=', jobId)
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map((r): JobLogRecord => ({
        jobId: r.job_id,
        seq: Number(r.seq),
        level: r.level as JobLogRecord['level'],
        message: r.message,
        at: r.at,
      }));
    },
    async count(jobId) {
      const row = await db
        .selectFrom('job_logs')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('job_id', '=', jobId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async deleteForJobsOf(accountId) {
      await db
        .deleteFrom('job_logs')
        .where('job_id', 'in', (eb) => eb.selectFrom('jobs').select('id').where('account_id', '=', accountId))
        .execute();
    },
  };
}

function toPrompt(row: Selectable<PromptsTable>): PromptRecord {
  return {
    id: row.id,
    jobId: row.job_id,
    accountId: row.account_id,
    type: row.type as TwoFaType | null,
    retry: Number(row.retry) === 1,
    status: row.status as PromptStatus,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    destination: row.destination,
    attemptsLeft: row.attempts_left === null ? null : Number(row.attempts_left),
    methods: row.methods === null ? [] : (JSON.parse(row.methods) as TwoFaMethod[]),
    method: row.method,
    trustDevice: row.trust_label === null ? null : { label: row.trust_label, checked: Number(row.trust_checked) === 1 },
    resendAvailableAt: row.resend_at,
    answeredBy: row.answered_by as CodeAnswerer | null,
  };
}

function promptStore(db: Kysely<Database>): PromptStore {
  return {
    async insert(p) {
      await db
        .insertInto('prompts')
        .values({
          id: p.id,
          job_id: p.jobId,
          account_id: p.accountId,
          type: p.type,
          retry: p.retry ? 1 : 0,
          status: p.status,
          attempts: p.attempts,
          created_at: p.createdAt,
          expires_at: p.expiresAt,
          destination: p.destination,
          attempts_left: p.attemptsLeft,
          methods: p.methods.length === 0 ? null : JSON.stringify(p.methods),
          method: p.method,
          trust_label: p.trustDevice?.label ?? null,
          trust_checked: p.trustDevice ? (p.trustDevice.checked ? 1 : 0) : null,
          resend_at: p.resendAvailableAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom('prompts').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPrompt(row);
    },
    async listByJob(jobId) {
      const rows = await db
        .selectFrom('prompts')
        .selectAll()
        .where('job_id', '=', jobId)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toPrompt);
    },
    async waitingFor(accountId) {
      const row = await db
        .selectFrom('prompts')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('status', '=', 'waiting')
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && toPrompt(row);
    },
    async listByAccountSince(accountId, since) {
      const rows = await db
        .selectFrom('prompts')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('created_at', '>=', since)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toPrompt);
    },
    async listWaiting() {
      const rows = await db.selectFrom('prompts').selectAll().where('status', '=', 'waiting').execute();
      return rows.map(toPrompt);
    },
    async recordAttempt(id, { now, maxAttempts, answer, answeredBy }) {
      const result = await db
        .updateTable('prompts')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          ...(answer ? { status: 'answered', answered_by: answeredBy ?? 'person' } : {}),
        }))
        .where('id', '=', id)
        .where('status', '=', 'waiting')
        .where('attempts', '<', maxAttempts)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return changed(result);
    },
    async claimResend(id, { now, nextAt }) {
      const result = await db
        .updateTable('prompts')
        .set({ resend_at: nextAt })
        .where('id', '=', id)
        .where('status', '=', 'waiting')
        .where('resend_at', 'is not', null)
        .where('resend_at', '<=', now)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return changed(result);
    },
    async updateDetails(id, patch) {
      const set = {
        ...(patch.type !== undefined ? { type: patch.type } : {}),
        ...(patch.destination !== undefined ? { destination: patch.destination } : {}),
        ...(patch.attemptsLeft !== undefined ? { attempts_left: patch.attemptsLeft } : {}),
        ...(patch.method !== undefined ? { method: patch.method } : {}),
        ...(patch.expiresAt !== undefined ? { expires_at: patch.expiresAt } : {}),
        ...(patch.resendAvailableAt !== undefined ? { resend_at: patch.resendAvailableAt } : {}),
      };
      if (Object.keys(set).length === 0) {
        const row = await db.selectFrom('prompts').select('status').where('id', '=', id).executeTakeFirst();
        return row?.status === 'waiting';
      }
      return changed(
        await db
          .updateTable('prompts')
          .set(set)
          .where('id', '=', id)
          .where('status', '=', 'waiting')
          .executeTakeFirst(),
      );
    },
    async closeIfWaiting(id, status) {
      return changed(
        await db
          .updateTable('prompts')
          .set({ status })
          .where('id', '=', id)
          .where('status', '=', 'waiting')
          .executeTakeFirst(),
      );
    },
    async typesAsked(accountId) {
      const rows = await db
        .selectFrom('prompts')
        .select('type')
        .distinct()
        .where('account_id', '=', accountId)
        .orderBy('type')
        .execute();
      return rows.map((row) => row.type as TwoFaType | null);
    },
    async deleteForAccount(accountId) {
      await db.deleteFrom('prompts').where('account_id', '=', accountId).execute();
    },
  };
}

function toFile(row: Selectable<FilesTable>): FileRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    jobId: row.job_id,
    name: row.name,
    folder: row.folder,
    size: Number(row.size),
    sha256: row.sha256,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    bill: row.bill === null ? null : (JSON.parse(row.bill) as BillMetadata),
    savedAt: row.saved_at,
  };
}

function fileStore(db: Kysely<Database>): FileStore {
  return {
    async upsert(f) {
      const values = {
        account_id: f.accountId,
        job_id: f.jobId,
        name: f.name,
        folder: f.folder,
        size: f.size,
        sha256: f.sha256,
        attributes: JSON.stringify(f.attributes),
        bill: f.bill === null ? null : JSON.stringify(f.bill),
        saved_at: f.savedAt,
      };
      // One statement, so that two jobs saving the same path at once cannot both insert.
      const row = await db
        .insertInto('files')
        .values({ id: f.id, ...values })
        .onConflict((oc) =>
          oc.columns(['account_id', 'folder', 'name']).doUpdateSet((eb) => ({
            job_id: eb.ref('excluded.job_id'),
            size: eb.ref('excluded.size'),
            sha256: eb.ref('excluded.sha256'),
            attributes: eb.ref('excluded.attributes'),
            bill: eb.ref('excluded.bill'),
            saved_at: eb.ref('excluded.saved_at'),
          })),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return { ...f, id: row.id };
    },
    async get(id) {
      const row = await db.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toFile(row);
    },
    async list(accountId) {
      const rows = await db
        .selectFrom('files')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('folder')
        .orderBy('name')
        .execute();
      return rows.map(toFile);
    },
    async deleteForAccount(accountId) {
      await db.deleteFrom('files').where('account_id', '=', accountId).execute();
    },
  };
}

/** The transaction advisory lock that orders event appends across nodes: ("gle", 2). */
export const EVENTS_LOCK: [number, number] = [0x676c65, 2];

function eventStore(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): EventStore {
  const insert = async (into: Kysely<Database>, e: Omit<EventRecord, 'id'>) =>
    Number((await into.insertInto('events').values(e).returning('id').executeTakeFirstOrThrow()).id);
  return {
    async append(e) {
      // On PostgreSQL the id comes from a sequence: two nodes appending at once could commit out of id
      // order, and a reader after the higher id would never see the lower. The lock makes each append's
      // id and commit one step, so ids become visible in order. SQLite has one writer already.
      if (dialect !== 'postgres') return insert(db, e);
      const locked = async (trx: Kysely<Database>) => {
        await sql`select pg_advisory_xact_lock(${EVENTS_LOCK[0]}, ${EVENTS_LOCK[1]})`.execute(trx);
        return insert(trx, e);
      };
      return db.isTransaction ? locked(db) : db.transaction().execute(locked);
    },
    async listAfter(afterId, limit) {
      const rows = await db
        .selectFrom('events')
        .selectAll()
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ ...r, id: Number(r.id) }));
    },
    async lastId() {
      const row = await db
        .selectFrom('events')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirst();
      return Number(row?.id ?? 0);
    },
    async prune(keep) {
      const last = await this.lastId();
      await db
        .deleteFrom('events')
        .where('id', '<=', last - keep)
        .execute();
    },
  };
}

function toTrigger(row: Selectable<TriggersTable>): TriggerRecord {
  return {
    accountId: row.account_id,
    frequency: row.frequency as TriggerRecord['frequency'],
    time: row.time,
    weekday: Number(row.weekday),
    nextRunAt: row.next_run_at,
    lastSkippedAt: row.last_skipped_at,
    skipReason: row.skip_reason,
  };
}

function triggerValues(p: Partial<TriggerRecord>): Partial<TriggersTable> {
  const v: Partial<TriggersTable> = {};
  if (p.frequency !== undefined) v.frequency = p.frequency;
  if (p.time !== undefined) v.time = p.time;
  if (p.weekday !== undefined) v.weekday = p.weekday;
  if (p.nextRunAt !== undefined) v.next_run_at = p.nextRunAt;
  if (p.lastSkippedAt !== undefined) v.last_skipped_at = p.lastSkippedAt;
  if (p.skipReason !== undefined) v.skip_reason = p.skipReason;
  return v;
}

function triggerStore(db: Kysely<Database>): TriggerStore {
  return {
    async upsert(t) {
      await db
        .insertInto('triggers')
        .values({
          account_id: t.accountId,
          frequency: t.frequency,
          time: t.time,
          weekday: t.weekday,
          next_run_at: t.nextRunAt,
          last_skipped_at: t.lastSkippedAt,
          skip_reason: t.skipReason,
        })
        .onConflict((oc) =>
          oc.column('account_id').doUpdateSet((eb) => ({
            frequency: eb.ref('excluded.frequency'),
            time: eb.ref('excluded.time'),
            weekday: eb.ref('excluded.weekday'),
            next_run_at: eb.ref('excluded.next_run_at'),
            last_skipped_at: eb.ref('excluded.last_skipped_at'),
            skip_reason: eb.ref('excluded.skip_reason'),
          })),
        )
        .execute();
    },
    async get(accountId) {
      const row = await db.selectFrom('triggers').selectAll().where('account_id', '=', accountId).executeTakeFirst();
      return row && toTrigger(row);
    },
    async due(now, limit) {
      const rows = await db
        .selectFrom('triggers')
        .selectAll()
        .where('frequency', '!=', 'off')
        .where('next_run_at', 'is not', null)
        .where('next_run_at', '<=', now)
        .orderBy('next_run_at')
        .limit(limit)
        .execute();
      return rows.map(toTrigger);
    },
    async advance(accountId, expected, next) {
      return changed(
        await db
          .updateTable('triggers')
          .set({ next_run_at: next })
          .where('account_id', '=', accountId)
          .where('next_run_at', '=', expected)
          .executeTakeFirst(),
      );
    },
    async update(accountId, patch) {
      const values = triggerValues(patch);
      if (Object.keys(values).length === 0) return false;
      return changed(
        await db.updateTable('triggers').set(values).where('account_id', '=', accountId).executeTakeFirst(),
      );
    },
    async delete(accountId) {
      await db.deleteFrom('triggers').where('account_id', '=', accountId).execute();
    },
  };
}

function settingsStore(db: Kysely<Database>): SettingsStore {
  return {
    async get(key) {
      return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
    },
    async set(key, value) {
      await db
        .insertInto('settings')
        .values({ key, value })
        .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
        .execute();
    },
    async delete(key) {
      await db.deleteFrom('settings').where('key', '=', key).execute();
    },
  };
}

function toWorker(row: Selectable<WorkersTable>): WorkerRecord {
  return { id: row.id, host: row.host, pid: Number(row.pid), startedAt: row.started_at, heartbeatAt: row.heartbeat_at };
}

function workerStore(db: Kysely<Database>): WorkerStore {
  return {
    async insert(w) {
      await db
        .insertInto('workers')
        .values({ id: w.id, host: w.host, pid: w.pid, started_at: w.startedAt, heartbeat_at: w.heartbeatAt })
        .execute();
    },
    async beat(id, at) {
      return changed(await db.updateTable('workers').set({ heartbeat_at: at }).where('id', '=', id).executeTakeFirst());
    },
    async get(id) {
      const row = await db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toWorker(row);
    },
    async list() {
      return (await db.selectFrom('workers').selectAll().orderBy('started_at').orderBy('id').execute()).map(toWorker);
    },
    async delete(id) {
      return changed(await db.deleteFrom('workers').where('id', '=', id).executeTakeFirst());
    },
  };
}

function toKept(row: Selectable<KeptAccountsTable>): KeptAccountRecord {
  return { accountId: row.account_id, konnector: row.konnector, label: row.label, deletedAt: row.deleted_at };
}

function keptStore(db: Kysely<Database>): KeptAccountStore {
  return {
    async insert(k) {
      await db
        .insertInto('kept_accounts')
        .values({
          account_id: k.accountId,
          konnector: k.konnector,
          label: storedText(k.label),
          deleted_at: k.deletedAt,
        })
        .execute();
    },
    async get(accountId) {
      const row = await db
        .selectFrom('kept_accounts')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row && toKept(row);
    },
    async list() {
      const rows = await db
        .selectFrom('kept_accounts')
        .selectAll()
        .orderBy('deleted_at', 'desc')
        .orderBy('account_id')
        .execute();
      return rows.map(toKept);
    },
    async delete(accountId) {
      return changed(await db.deleteFrom('kept_accounts').where('account_id', '=', accountId).executeTakeFirst());
    },
  };
}

function promptMessageStore(db: Kysely<Database>): PromptMessageStore {
  return {
    async put(m) {
      await db
        .insertInto('prompt_messages')
        .values({ prompt_id: m.promptId, kind: m.kind, sealed: m.sealed, at: m.at })
        // A later message supersedes one not yet taken (a code after a resend, a cancel after a code).
        .onConflict((oc) => oc.column('prompt_id').doUpdateSet({ kind: m.kind, sealed: m.sealed, at: m.at }))
        .execute();
    },
    async take(promptId) {
      const row = await db
        .deleteFrom('prompt_messages')
        .where('prompt_id', '=', promptId)
        .returningAll()
        .executeTakeFirst();
      return (
        row && {
          promptId: row.prompt_id,
          kind: row.kind as 'code' | 'cancelled' | 'locked' | 'resend',
          sealed: row.sealed,
          at: row.at,
        }
      );
    },
    async prune(before) {
      const result = await db.deleteFrom('prompt_messages').where('at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows ?? 0n);
    },
  };
}

const toChannel = (row: Selectable<NotificationChannelsTable>): NotificationChannelRecord => ({
  id: row.id,
  kind: row.kind as NotificationChannelRecord['kind'],
  name: row.name,
  enabled: Number(row.enabled) === 1,
  settings: JSON.parse(row.settings) as Record<string, unknown>,
  secret: row.secret,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function notificationStore(db: Kysely<Database>): NotificationStore {
  return {
    async insertChannel(c) {
      await db
        .insertInto('notification_channels')
        .values({
          id: c.id,
          kind: c.kind,
          name: storedText(c.name),
          enabled: c.enabled ? 1 : 0,
          settings: JSON.stringify(c.settings),
          secret: c.secret,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
    },
    async getChannel(id) {
      const row = await db.selectFrom('notification_channels').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toChannel(row);
    },
    async listChannels() {
      const rows = await db
        .selectFrom('notification_channels')
        .selectAll()
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toChannel);
    },
    async updateChannel(id, p) {
      const values: Partial<NotificationChannelsTable> = {};
      if (p.name !== undefined) values.name = storedText(p.name);
      if (p.enabled !== undefined) values.enabled = p.enabled ? 1 : 0;
      if (p.settings !== undefined) values.settings = JSON.stringify(p.settings);
      if (p.secret !== undefined) values.secret = p.secret;
      if (p.updatedAt !== undefined) values.updated_at = p.updatedAt;
      if (Object.keys(values).length === 0) return (await this.getChannel(id)) !== undefined;
      return changed(await db.updateTable('notification_channels').set(values).where('id', '=', id).executeTakeFirst());
    },
    async deleteChannel(id) {
      return changed(await db.deleteFrom('notification_channels').where('id', '=', id).executeTakeFirst());
    },
    async claimCause(accountId, cause, at) {
      // ON CONFLICT DO NOTHING: both dialects; the row that went in is the one claim.
      const result = await db
        .insertInto('notified_causes')
        .values({ account_id: accountId, cause, raised_at: at })
        .onConflict((oc) => oc.columns(['account_id', 'cause']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
    },
    async resolveCauses(accountId, causes) {
      if (causes.length === 0) return [];
      const rows = await db
        .deleteFrom('notified_causes')
        .where('account_id', '=', accountId)
        .where('cause', 'in', causes)
        .returning('cause')
        .execute();
      return rows.map((row) => row.cause as NotificationCause);
    },
    async openCauses(accountId) {
      const rows = await db
        .selectFrom('notified_causes')
        .select('cause')
        .where('account_id', '=', accountId)
        .orderBy('cause')
        .execute();
      return rows.map((row) => row.cause as NotificationCause);
    },
    async setSessionHealth(accountId, p) {
      const values = {
        ...(p.sessionExpiresAt !== undefined ? { session_expires_at: p.sessionExpiresAt } : {}),
        ...(p.deviceExpiresAt !== undefined ? { device_expires_at: p.deviceExpiresAt } : {}),
        updated_at: p.updatedAt,
      };
      await db
        .insertInto('session_health')
        .values({ account_id: accountId, session_expires_at: null, device_expires_at: null, renew_at: null, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
    },
    async getSessionHealth(accountId) {
      const row = await db
        .selectFrom('session_health')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return (
        row && {
          accountId: row.account_id,
          sessionExpiresAt: row.session_expires_at,
          deviceExpiresAt: row.device_expires_at,
          renewAt: row.renew_at,
          updatedAt: row.updated_at,
        }
      );
    },
    async listSessionHealth() {
      const rows = await db.selectFrom('session_health').selectAll().orderBy('account_id').execute();
      return rows.map((row) => ({
        accountId: row.account_id,
        sessionExpiresAt: row.session_expires_at,
        deviceExpiresAt: row.device_expires_at,
        renewAt: row.renew_at,
        updatedAt: row.updated_at,
      }));
    },
    async setRenewAt(accountId, at, updatedAt) {
      await db
        .insertInto('session_health')
        .values({
          account_id: accountId,
          session_expires_at: null,
          device_expires_at: null,
          renew_at: at,
          updated_at: updatedAt,
        })
        .onConflict((oc) => oc.column('account_id').doUpdateSet({ renew_at: at, updated_at: updatedAt }))
        .execute();
    },
    async dueRenewals(now, limit) {
      const rows = await db
        .selectFrom('session_health')
        .select(['account_id', 'renew_at'])
        .where('renew_at', 'is not', null)
        .where('renew_at', '<=', now)
        .orderBy('renew_at')
        .orderBy('account_id')
        .limit(limit)
        .execute();
      return rows.map((row) => ({ accountId: row.account_id, renewAt: row.renew_at! }));
    },
    async takeRenewal(accountId, expected) {
      return changed(
        await db
          .updateTable('session_health')
          .set({ renew_at: null })
          .where('account_id', '=', accountId)
          .where('renew_at', '=', expected)
          .executeTakeFirst(),
      );
    },
    async deleteForAccount(accountId) {
      await db.deleteFrom('notified_causes').where('account_id', '=', accountId).execute();
      await db.deleteFrom('session_health').where('account_id', '=', accountId).execute();
    },
  };
}

function toCodeSource(row: Selectable<CodeSourcesTable>): CodeSourceRecord {
  return {
    accountId: row.account_id,
    kind: row.kind as CodeSourceKind,
    settings: JSON.parse(row.settings) as CodeSourceRecord['settings'],
    sealed: row.sealed,
    hookId: row.hook_id,
    createdAt: row.created_at,
    lastCodeAt: row.last_code_at,
    lastMessageAt: row.last_message_at,
    lastError: row.last_error,
  };
}

const CODE_SOURCE_ORDER: Record<CodeSourceKind, number> = { app_code: 0, email: 1, sms: 2 };

function codeSourceStore(db: Kysely<Database>): CodeSourceStore {
  return {
    async put(c) {
      const values = {
        settings: JSON.stringify(c.settings),
        sealed: c.sealed,
        hook_id: c.hookId,
        created_at: c.createdAt,
        last_code_at: c.lastCodeAt,
        last_message_at: c.lastMessageAt,
        last_error: c.lastError === null ? null : storedText(c.lastError),
      };
      await db
        .insertInto('code_sources')
        .values({ account_id: c.accountId, kind: c.kind, ...values })
        .onConflict((oc) => oc.columns(['account_id', 'kind']).doUpdateSet(values))
        .execute();
    },
    async get(accountId, kind) {
      const row = await db
        .selectFrom('code_sources')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      return row && toCodeSource(row);
    },
    async byHook(hookId) {
      const row = await db.selectFrom('code_sources').selectAll().where('hook_id', '=', hookId).executeTakeFirst();
      return row && toCodeSource(row);
    },
    async list(accountId) {
      const rows = await db.selectFrom('code_sources').selectAll().where('account_id', '=', accountId).execute();
      return rows.map(toCodeSource).sort((a, b) => CODE_SOURCE_ORDER[a.kind] - CODE_SOURCE_ORDER[b.kind]);
    },
    async touch(accountId, kind, patch) {
      const set = {
        ...(patch.lastCodeAt !== undefined ? { last_code_at: patch.lastCodeAt } : {}),
        ...(patch.lastMessageAt !== undefined ? { last_message_at: patch.lastMessageAt } : {}),
        ...(patch.lastError !== undefined
          ? { last_error: patch.lastError === null ? null : storedText(patch.lastError) }
          : {}),
      };
      if (Object.keys(set).length === 0) return (await this.get(accountId, kind)) !== undefined;
      return changed(
        await db
          .updateTable('code_sources')
          .set(set)
          .where('account_id', '=', accountId)
          .where('kind', '=', kind)
          .executeTakeFirst(),
      );
    },
    async remove(accountId, kind) {
      return changed(
        await db
          .deleteFrom('code_sources')
          .where('account_id', '=', accountId)
          .where('kind', '=', kind)
          .executeTakeFirst(),
      );
    },
    async deleteForAccount(accountId) {
      await db.deleteFrom('code_sources').where('account_id', '=', accountId).execute();
    },
  };
}
