import type { Generated } from 'kysely';

/**
 * The tables, as Kysely sees them. Portable types only: text (timestamps are ISO 8601 strings in
 * UTC, JSON is text), integers, and one generated id for events. Secrets are sealed text.
 */
export interface Database {
  accounts: AccountsTable;
  jobs: JobsTable;
  job_logs: JobLogsTable;
  prompts: PromptsTable;
  files: FilesTable;
  events: EventsTable;
  triggers: TriggersTable;
  settings: SettingsTable;
  workers: WorkersTable;
  kept_accounts: KeptAccountsTable;
  prompt_messages: PromptMessagesTable;
  auth_settings: AuthSettingsTable;
  auth_sessions: AuthSessionsTable;
  auth_tokens: AuthTokensTable;
  login_failures: LoginFailuresTable;
  notification_channels: NotificationChannelsTable;
  notified_causes: NotifiedCausesTable;
  session_health: SessionHealthTable;
  code_sources: CodeSourcesTable;
}

export interface NotificationChannelsTable {
  id: string;
  /** 'email' | 'webhook' | 'ntfy'. */
  kind: string;
  name: string;
  enabled: number;
  /** JSON of the non-secret settings (host, URL, topic, addresses). */
  settings: string;
  /** The sealed secret (SMTP password, webhook secret, ntfy token), or null. */
  secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface NotifiedCausesTable {
  account_id: string;
  cause: string;
  raised_at: string;
}

export interface SessionHealthTable {
  account_id: string;
  session_expires_at: string | null;
  device_expires_at: string | null;
  renew_at: string | null;
  updated_at: string;
}

export interface KeptAccountsTable {
  account_id: string;
  konnector: string;
  label: string;
  deleted_at: string;
}

export interface AccountsTable {
  id: string;
  konnector: string;
  label: string;
  state: string | null;
  /** JSON: values of the non-secret fields, for display. */
  fields_clear: string;
  /** JSON: names of the secret fields that have a value. */
  secret_fields_set: string;
  /** Sealed JSON of every field (secret or not). */
  credentials: string;
  /** Sealed serialized session (cookie jar), or null. */
  session: string | null;
  /** Sealed JSON of the konnector's own account data, or null. */
  data: string | null;
  /** The error that pauses scheduled runs until a manual run succeeds (skip policy), or null. */
  paused_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface JobsTable {
  id: string;
  account_id: string;
  konnector: string;
  konnector_version: string | null;
  /** The worker that took the job from the queue (set with `running`). */
  worker_id: string | null;
  mode: string;
  status: string;
  login_status: string;
  error: string | null;
  files_saved: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
}

export interface JobLogsTable {
  job_id: string;
  seq: number;
  level: string;
  message: string;
  at: string;
}

export interface PromptsTable {
  id: string;
  job_id: string;
  account_id: string;
  type: string | null;
  retry: number;
  status: string;
  attempts: number;
  created_at: string;
  expires_at: string;
  destination: string | null;
  attempts_left: number | null;
  /** JSON: the TwoFaMethod list; null for none. */
  methods: string | null;
  method: string | null;
  trust_label: string | null;
  trust_checked: number | null;
  /** When a new code may be asked; null: the site offers none. */
  resend_at: string | null;
  /** Who gave the accepted code: `person`, `app_code`, `email` or `sms`; null while none was. */
  answered_by: string | null;
}

export interface FilesTable {
  id: string;
  account_id: string;
  job_id: string | null;
  name: string;
  folder: string;
  size: number;
  sha256: string;
  /** JSON object of identifying attributes. */
  attributes: string;
  /** JSON of the bill metadata, or null. */
  bill: string | null;
  saved_at: string;
}

export interface EventsTable {
  id: Generated<number>;
  type: string;
  at: string;
  /** JSON of the whole event except its id. */
  payload: string;
}

export interface TriggersTable {
  account_id: string;
  frequency: string;
  time: string;
  /** 0–6 (Sunday = 0) for weekly triggers. */
  weekday: number;
  next_run_at: string | null;
  last_skipped_at: string | null;
  skip_reason: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  started_at: string;
  /** Its last heartbeat: older than the reap bound, the worker is dead. */
  heartbeat_at: string;
}

/** A message to the job waiting on a prompt, until that job takes it (the code sealed). */
export interface PromptMessagesTable {
  prompt_id: string;
  /** `code`, `cancelled` or `locked`. */
  kind: string;
  /** The code, sealed with the keyring (bound to the prompt), or null. */
  sealed: string | null;
  at: string;
}

/** PostgreSQL only (SQLite keeps these in `auth.sqlite`): the admin password hash. */
export interface AuthSettingsTable {
  key: string;
  value: string;
}

/** PostgreSQL only: admin sessions by the SHA-256 of their id. */
export interface AuthSessionsTable {
  id_hash: string;
  created_at: string;
  expires_at: string;
}

/** PostgreSQL only: API tokens by the SHA-256 of their value. */
export interface AuthTokensTable {
  id: string;
  name: string;
  hash: string;
  created_at: string;
  last_used_at: string | null;
}

/** PostgreSQL only: failed admin logins per client, counted by every node. */
export interface LoginFailuresTable {
  client: string;
  /** Milliseconds since the epoch. */
  at: number;
}

/** A code source of an account: one per kind. */
export interface CodeSourcesTable {
  account_id: string;
  /** `app_code` (a TOTP secret), `email` (an IMAP mailbox) or `sms` (a forwarder's webhook). */
  kind: string;
  /** JSON of what may be shown: a mailbox's host, port, user and folder; nothing secret. */
  settings: string;
  /** Sealed JSON of its secrets (the TOTP secret, the mailbox password, the webhook secret). */
  sealed: string;
  /** The webhook's id in its URL (sms only), unique across accounts. */
  hook_id: string | null;
  created_at: string;
  /** When it last gave a code. */
  last_code_at: string | null;
  /** When it last received a message (webhook) or saw a matching one (mailbox). */
  last_message_at: string | null;
  /** Why it last failed (a mailbox refusing the password), never a secret; null once it works. */
  last_error: string | null;
}
