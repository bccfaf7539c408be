import { z } from 'zod';
import { AccountState, TwoFaType } from './account-state-schema.js';
import { ERROR_CODES } from './errors.js';
import { BillMetadata, RunMode, TwoFaMethod } from './host-protocol.js';
import { ManifestField } from './manifest.js';

/**
 * The shapes of the stack's HTTP API (`/api`), shared by the stack, Home and scripts.
 * Secrets never appear in them: credentials are write-only, codes are never echoed.
 */

export const ErrorCodeSchema = z.enum(ERROR_CODES);

export const KonnectorSource = z.enum(['installed', 'development']);
export type KonnectorSource = z.infer<typeof KonnectorSource>;

export const KonnectorInfo = z.object({
  slug: z.string(),
  name: z.string(),
  version: z.string(),
  description: z.string(),
  vendor_link: z.string().optional(),
  twofa: z.array(TwoFaType),
  fields: z.record(z.string(), ManifestField),
  /** `installed`: a package in the data folder; `development`: a folder given to the stack (`--konnectors`). */
  source: KonnectorSource,
  /** The icon's URL (`/api/konnectors/<slug>/icon`); absent without one. */
  icon: z.string().optional(),
  /** Its accounts are never scheduled (the site's session never lasts until the next night): run by hand only. */
  manualOnly: z.boolean().optional(),
});
export type KonnectorInfo = z.infer<typeof KonnectorInfo>;

/** A konnector the stack found but refused (a bad manifest, a main that leaves its folder, a slug twice), or one hidden by another. */
export const KonnectorProblem = z.object({
  source: KonnectorSource,
  slug: z.string().nullable(),
  dir: z.string(),
  problems: z.array(z.object({ path: z.string(), message: z.string() })),
});
export type KonnectorProblem = z.infer<typeof KonnectorProblem>;

/** The answer to installing a package (`POST /api/konnectors`). */
export const InstalledKonnectorResult = z.object({ konnector: KonnectorInfo, previousVersion: z.string().nullable() });
export type InstalledKonnectorResult = z.infer<typeof InstalledKonnectorResult>;

export const JobStatus = z.enum(['queued', 'running', 'done', 'errored']);
export type JobStatus = z.infer<typeof JobStatus>;
export const LoginStatus = z.enum(['pending', 'succeeded', 'failed']);
export type LoginStatus = z.infer<typeof LoginStatus>;

export const Job = z.object({
  id: z.string(),
  accountId: z.string(),
  konnector: z.string(),
  /** The konnector version the job ran (set when it starts running); null before, and for jobs older than this field. */
  konnectorVersion: z.string().nullable(),
  /** The worker process that ran it (set when it starts running; see docs/scale-out.md); null before. */
  worker: z.string().nullable(),
  mode: RunMode,
  status: JobStatus,
  loginStatus: LoginStatus,
  error: ErrorCodeSchema.nullable(),
  filesSaved: z.number().int(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type Job = z.infer<typeof Job>;

export const PromptStatus = z.enum(['waiting', 'answered', 'expired', 'cancelled', 'interrupted']);
export type PromptStatus = z.infer<typeof PromptStatus>;

/** A 2FA request of one job: the code answering it is used once and never stored. */
export const Prompt = z.object({
  id: z.string(),
  jobId: z.string(),
  accountId: z.string(),
  type: TwoFaType.nullable(),
  retry: z.boolean(),
  status: PromptStatus,
  attempts: z.number().int(),
  createdAt: z.string(),
  /** When the wait ends: the code's own lifetime if the site stated it, capped by the stack; a wrong code does not move it. */
  expiresAt: z.string(),
  /** Where the code went, masked as the site shows it ("+33 6 •• •• •• 78"); null when not said. */
  destination: z.string().nullable(),
  /** Wrong codes the site still takes before it locks the account, as the site reports it. */
  attemptsLeft: z.number().int().nullable(),
  /** The choices of where to send the code the site offers (empty: none); picking one sends a new code. */
  methods: z.array(TwoFaMethod),
  /** The choice the current code was sent by. */
  method: z.string().nullable(),
  /** A "trust this device" box the konnector reads back with the code; null when the site has none. */
  trustDevice: z.object({ label: z.string(), checked: z.boolean() }).nullable(),
  /** A new code can be asked (`POST /api/prompts/:id/resend`) from `availableAt` on; null: the site offers none. */
  resend: z.object({ availableAt: z.string() }).nullable(),
});
export type Prompt = z.infer<typeof Prompt>;

export const Account = z.object({
  id: z.string(),
  konnector: z.string(),
  label: z.string(),
  state: AccountState,
  /** Values of the non-secret fields (e.g. the login); password fields are never returned. */
  fields: z.record(z.string(), z.string()),
  /** Names of the secret fields that have a value. */
  secretFieldsSet: z.array(z.string()),
  sessionSaved: z.boolean(),
  /** The latest job, if any. */
  lastJob: Job.nullable(),
  /** The waiting prompt of the active job, if any. */
  prompt: Prompt.nullable(),
  /** Scheduled runs are paused until a manual run succeeds (last error needs the person). */
  needsAction: z.boolean(),
  /** The error that paused them (with `needsAction`): the last job's, or found at start (CREDENTIALS_UNREADABLE). */
  actionNeeded: ErrorCodeSchema.nullable(),
  nextRunAt: z.string().nullable(),
  /**
   * When the site's saved session and its remembered device lapse (from the cookies' expiries, or
   * as the konnector declared them), as far as known; after that a login asks for a code again.
   */
  sessionHealth: z
    .object({
      sessionExpiresAt: z.string().nullable(),
      deviceExpiresAt: z.string().nullable(),
      /** A manual run the person planned before it lapses ("renew before it lapses"), or null. */
      renewAt: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Account = z.infer<typeof Account>;

/** The longest account label, said by the API when a longer one is sent (never cut). */
export const MAX_LABEL_CHARS = 200;
const Label = z.string().max(MAX_LABEL_CHARS, `at most ${MAX_LABEL_CHARS} characters`);

export const CreateAccountBody = z.strictObject({
  konnector: z.string(),
  label: Label.optional(),
  fields: z.record(z.string(), z.string()),
  /** Start a manual run at once (Home's Connect button). */
  connect: z.boolean().optional(),
});
export const UpdateAccountBody = z.strictObject({
  label: Label.optional(),
  /** Replaces the given fields only; a secret field sent empty is left unchanged. */
  fields: z.record(z.string(), z.string()).optional(),
});

export const StartJobBody = z.strictObject({ mode: RunMode.default('manual') });

export const FileInfo = z.object({
  id: z.string(),
  accountId: z.string(),
  jobId: z.string().nullable(),
  name: z.string(),
  folder: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  bill: BillMetadata.nullable(),
  savedAt: z.string(),
});
export type FileInfo = z.infer<typeof FileInfo>;

/** The documents of a deleted account, kept (the default of a delete): still listed and downloadable. */
export const KeptAccount = z.object({
  accountId: z.string(),
  konnector: z.string(),
  label: z.string(),
  deletedAt: z.string(),
  files: z.array(FileInfo),
});
export type KeptAccount = z.infer<typeof KeptAccount>;

/** `DELETE /api/accounts/:id?files=keep|delete`: its documents are kept unless asked. */
export const DeleteAccountQuery = z.strictObject({ files: z.enum(['keep', 'delete']).default('keep') });

export const Trigger = z.object({
  accountId: z.string(),
  frequency: z.enum(['daily', 'weekly', 'off']),
  /** Local time of day, HH:MM, chosen inside the konnector's window. */
  time: z.string().regex(/^\d{2}:\d{2}$/),
  /** The day of weekly runs: 0 = Sunday … 6 = Saturday (spread per account, like the time). */
  weekday: z.number().int().min(0).max(6),
  /** The stack's time zone (IANA name), in which `time` is read. */
  timeZone: z.string(),
  nextRunAt: z.string().nullable(),
  /** The last scheduled run that did not start, and why: the error code that pauses the account, `BUSY` (a run was going on), or the stack's refusal. */
  lastSkippedAt: z.string().nullable(),
  skipReason: z.string().nullable(),
});
export type Trigger = z.infer<typeof Trigger>;
export const UpdateTriggerBody = z.strictObject({
  frequency: z.enum(['daily', 'weekly', 'off']),
  time: z
    .string()
    .regex(/^\d{2}:\d{2}$/)
    .optional(),
});

export const JobLogLine = z.object({
  jobId: z.string(),
  seq: z.number().int(),
  level: z.enum(['debug', 'info', 'warn', 'error']),
  message: z.string(),
  at: z.string(),
});
export type JobLogLine = z.infer<typeof JobLogLine>;

/** `POST /api/prompts/:id/answer`: the code, and the "trust this device" box when the prompt has one. */
export const AnswerPromptBody = z.strictObject({ code: z.string(), trustDevice: z.boolean().optional() });
/** `POST /api/prompts/:id/resend`: a new code, by one of the prompt's `methods` when given. */
export const ResendPromptBody = z.strictObject({ method: z.string().min(1).max(40).optional() });
/** A code: 4 to 12 letters or digits (spaces and dashes pasted with it are dropped). */
export const CODE_PATTERN = /^[A-Za-z0-9]{4,12}$/;
/** A code sent by SMS or shown by an authenticator app: 4 to 10 digits. */
export const DIGIT_CODE_PATTERN = /^[0-9]{4,10}$/;
export function normalizeCode(raw: string): string {
  return raw.replace(/[\s-]/g, '');
}

/** The pattern a code of this type must match (after `normalizeCode`): digits only for SMS and authenticator codes. */
export function codePattern(type: TwoFaType | null | undefined): RegExp {
  return type === 'sms' || type === 'app_code' ? DIGIT_CODE_PATTERN : CODE_PATTERN;
}

/** What is wrong with a code that does not match `codePattern(type)`, in one sentence for the person. */
export function codeFormatMessage(type: TwoFaType | null | undefined): string {
  if (type === 'sms') return 'A code sent by SMS is 4 to 10 digits, with no letters: type only the digits of the text message.';
  if (type === 'app_code') return 'An authenticator code is 4 to 10 digits, with no letters: type only the digits the app shows.';
  return 'A code is 4 to 12 letters or digits: type it as you received it.';
}
/** 202 accepted · 409 not waiting · 410 expired · 422 bad format · 429 too many attempts. */
export const AnswerOutcome = z.enum(['accepted', 'not_waiting', 'expired', 'bad_format', 'too_many_attempts']);
export type AnswerOutcome = z.infer<typeof AnswerOutcome>;
export const ANSWER_STATUS: Record<AnswerOutcome, number> = {
  accepted: 202,
  not_waiting: 409,
  expired: 410,
  bad_format: 422,
  too_many_attempts: 429,
};

/** The outcome of `POST /api/prompts/:id/resend`: 202 sent · 409 not waiting · 410 expired · 422 not offered · 429 cooling down. */
export const ResendOutcome = z.enum(['sent', 'not_waiting', 'expired', 'not_offered', 'cooldown']);
export type ResendOutcome = z.infer<typeof ResendOutcome>;
export const RESEND_STATUS: Record<ResendOutcome, number> = {
  sent: 202,
  not_waiting: 409,
  expired: 410,
  not_offered: 422,
  cooldown: 429,
};

/** `PUT /api/accounts/:id/renewal`: a manual run at `at` (the person will be there), or null to cancel it. */
export const RenewalBody = z.strictObject({ at: z.iso.datetime({ offset: true }).nullable() });

export const NotificationChannelKind = z.enum(['email', 'webhook', 'ntfy']);
export type NotificationChannelKind = z.infer<typeof NotificationChannelKind>;

/** E-mail over SMTP: the password (if any) is the channel's `secret`. */
export const EmailChannelSettings = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().max(255).optional(),
  from: z.string().min(3).max(255),
  to: z.string().min(3).max(1000),
});
/** A signed JSON POST: `X-Gleaner-Signature: sha256=<HMAC-SHA256(secret, timestamp + "." + body)>`; the secret is the channel's `secret`. */
export const WebhookChannelSettings = z.strictObject({ url: z.string().url().max(2000) });
/** An ntfy-compatible push: POST to `<url>/<topic>`; an access token (if any) is the channel's `secret`. */
export const NtfyChannelSettings = z.strictObject({
  url: z.string().url().max(2000),
  topic: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (at most 64)'),
});

const ChannelName = z.string().min(1).max(100);
/** `secret`: write-only (never returned); on an update, absent keeps it, null removes it. */
const ChannelSecret = z.string().min(1).max(1000);

export const CreateNotificationChannelBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('email'), name: ChannelName, enabled: z.boolean().default(true), settings: EmailChannelSettings, secret: ChannelSecret.optional() }),
  z.strictObject({ kind: z.literal('webhook'), name: ChannelName, enabled: z.boolean().default(true), settings: WebhookChannelSettings, secret: ChannelSecret }),
  z.strictObject({ kind: z.literal('ntfy'), name: ChannelName, enabled: z.boolean().default(true), settings: NtfyChannelSettings, secret: ChannelSecret.optional() }),
]);
export type CreateNotificationChannelBody = z.input<typeof CreateNotificationChannelBody>;

export const UpdateNotificationChannelBody = z.strictObject({
  name: ChannelName.optional(),
  enabled: z.boolean().optional(),
  /** The whole settings of the channel's kind. */
  settings: z.record(z.string(), z.unknown()).optional(),
  secret: ChannelSecret.nullable().optional(),
});
export type UpdateNotificationChannelBody = z.input<typeof UpdateNotificationChannelBody>;

export const NotificationChannel = z.object({
  id: z.string(),
  kind: NotificationChannelKind,
  name: z.string(),
  enabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
  /** Whether a secret is saved (it is never returned). */
  secretSet: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NotificationChannel = z.infer<typeof NotificationChannel>;

/** The answer of the test button: sent, or why not (one sentence naming what failed). */
export const NotificationTestResult = z.object({ ok: z.boolean(), message: z.string() });
export type NotificationTestResult = z.infer<typeof NotificationTestResult>;

/** What a channel carries: the webhook's JSON body as is. */
export const NotificationPayload = z.object({
  event: z.enum(['needs_person', 'code_unanswered', 'failed_nights', 'session_lapses', 'device_lapses', 'test']),
  accountId: z.string().nullable(),
  account: z.string().nullable(),
  konnector: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  /** Opens Home on the account with the action ready. */
  link: z.string().nullable(),
  at: z.string(),
});
export type NotificationPayload = z.infer<typeof NotificationPayload>;

/** Realtime events over SSE (`GET /api/events`), resumable with Last-Event-ID. */
export const StackEvent = z.discriminatedUnion('type', [
  z.object({ id: z.number().int(), type: z.literal('account.updated'), at: z.string(), account: Account }),
  z.object({ id: z.number().int(), type: z.literal('account.deleted'), at: z.string(), accountId: z.string() }),
  z.object({ id: z.number().int(), type: z.literal('job.updated'), at: z.string(), job: Job }),
  z.object({ id: z.number().int(), type: z.literal('prompt.updated'), at: z.string(), prompt: Prompt }),
  z.object({ id: z.number().int(), type: z.literal('job.log'), at: z.string(), line: JobLogLine }),
  z.object({ id: z.number().int(), type: z.literal('file.saved'), at: z.string(), file: FileInfo }),
]);
export type StackEvent = z.infer<typeof StackEvent>;

/** Error body of every non-2xx API answer. */
export const ApiError = z.object({
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  /** A refused konnector package: each problem names the entry or the manifest field. */
  problems: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** A konnector that cannot be removed: how many accounts use it. */
  accounts: z.number().int().optional(),
});
export type ApiError = z.infer<typeof ApiError>;

/** The kinds of code source, in the order they are tried when a prompt opens (docs/code-sources.md). */
export const CodeSourceKind = z.enum(['app_code', 'email', 'sms']);
export type CodeSourceKind = z.infer<typeof CodeSourceKind>;

/**
 * The job log's line when a code source answered a prompt: the job's history says how the code
 * came, and Home reads these exact lines to tell it again.
 */
export const CODE_SOURCE_LOG_LINE: Readonly<Record<CodeSourceKind, string>> = {
  app_code: 'code computed from the stored authenticator secret',
  email: 'code read from your mailbox',
  sms: 'code read from a forwarded SMS',
};

/** How the job log's line begins when the budget of codes refused a new code; the budget's sentence follows. */
export const BUDGET_LOG_PREFIX = 'no new code asked: ';

/** A code source of an account as the API shows it: never its secret. */
export const CodeSource = z.strictObject({
  kind: CodeSourceKind,
  /** What may be shown: an authenticator's issuer, digits and period; a mailbox's host and user. */
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  createdAt: z.string(),
  lastCodeAt: z.string().nullable(),
  lastMessageAt: z.string().nullable(),
  /** Why it last failed (e.g. the mailbox refused the password); null once it works. */
  lastError: z.string().nullable(),
  /** The SMS webhook's path on this stack (sms only). */
  webhookPath: z.string().optional(),
});
export type CodeSource = z.infer<typeof CodeSource>;

/** An authenticator secret: the `otpauth://totp/…` URI (as a QR code holds it) or the base32 secret. */
export const SetAuthenticatorBody = z.strictObject({ secret: z.string().min(1).max(2048) });

/** The stored authenticator, and the code it gives now: shown once, for the person to compare with their app. */
export const SetAuthenticatorResult = z.strictObject({
  source: CodeSource,
  code: z.string(),
  validForMs: z.number().int().nonnegative(),
});

/** The SMS webhook made: its path, and its secret (a bearer token or HMAC key), shown this once. */
export const SmsWebhookResult = z.strictObject({ source: CodeSource, secret: z.string() });

/** What testing a source found: `code` is the authenticator's current code. */
export const CodeSourceTest = z.strictObject({ ok: z.boolean(), message: z.string(), code: z.string().optional() });

/** The person's mailbox over IMAP: an app password (sealed, never shown again) and the folder to watch. */
export const SetMailboxBody = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(993),
  /** TLS from the first byte (port 993); false only for a mailbox on this machine. */
  tls: z.boolean().default(true),
  user: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
  folder: z.string().min(1).max(255).default('INBOX'),
});

/** The stored mailbox, and when its newest message matching the site arrived (null: none in 30 days). */
export const SetMailboxResult = z.strictObject({ source: CodeSource, lastMatchAt: z.string().nullable() });
