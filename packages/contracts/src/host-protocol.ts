import { z } from 'zod';
import { AccountState, TwoFaType } from './account-state-schema.js';
import { ERROR_CODES } from './errors.js';

/**
 * The host protocol: what a running konnector and its host (the stack's runner, or `gleaner run`)
 * say to each other over the child process's IPC channel. The konnector sends requests and
 * notifications; the host answers each request once, possibly much later (a 2FA code is pushed as
 * the answer to `waitForTwoFaCode`), and may send `cancel`.
 */

export const RunMode = z.enum(['manual', 'background']);
export type RunMode = z.infer<typeof RunMode>;

export const BillMetadata = z.strictObject({
  amount: z.number(),
  currency: z.string().min(1).max(8),
  /** ISO 8601 date of the bill. */
  date: z.string().min(10),
  vendor: z.string().min(1),
  vendorRef: z.string().optional(),
});
export type BillMetadata = z.infer<typeof BillMetadata>;

export const FileEntry = z.strictObject({
  /** File name inside its folder. */
  name: z.string().min(1),
  /** Folder relative to the account's files; '' for the top. */
  folder: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  /** Values of the konnector's identifying attributes (e.g. vendorRef), used for deduplication. */
  attributes: z.record(z.string(), z.string()),
  bill: BillMetadata.optional(),
  savedAt: z.string(),
});
export type FileEntry = z.infer<typeof FileEntry>;

export const RunContext = z.strictObject({
  jobId: z.string(),
  accountId: z.string(),
  konnector: z.string(),
  mode: RunMode,
  /** The account's credentials and settings, as the manifest's fields name them. */
  fields: z.record(z.string(), z.string()),
  state: AccountState,
  /** Where the konnector may write files before handing them to `saveFile`. */
  stagingDir: z.string(),
  /** The longest a single `waitForTwoFaCode` may wait, whatever the konnector asks. */
  twoFaTimeoutCapMs: z.number().int().positive(),
  /**
   * The kinds of second factor this account's site has asked for: those of its earlier prompts and,
   * while the account has never logged in, every kind the manifest's `twofa` names. Non-empty: a
   * login may make the site send a code, so a background run does not post the credentials.
   */
  siteTwoFa: z.array(TwoFaType),
  /**
   * The fields the manifest types `password`: secrets whatever their name (scrubbed from the run's
   * log, never posted by a background run to a site that asks for a code). Absent from older hosts.
   */
  secretFields: z.array(z.string()).optional(),
  /**
   * Set when the account's budget of codes is spent: the sentence says which limit and until when.
   * A login that would post the credentials to a site that asks for a code then ends
   * `TWOFA_BUDGET_EXCEEDED` before the site sends one (in any mode). Absent from older hosts.
   */
  codeBudgetRefused: z.string().max(400).optional(),
  /**
   * The kinds of code the account's code sources give with nobody there (a stored authenticator
   * secret, a mailbox, an SMS forwarder): a background run may post the credentials to a site that
   * asks only these, and wait for such a code. Absent from older hosts (none).
   */
  silentTwoFa: z.array(TwoFaType).optional(),
});
export type RunContext = z.infer<typeof RunContext>;

const Data = z.record(z.string(), z.unknown());

/** A choice the site offers for where its code goes (e.g. SMS or e-mail), as the site words it. */
export const TwoFaMethod = z.strictObject({
  /** The konnector's own name for it ('sms', 'email'), handed back when the person picks it. */
  id: z.string().min(1).max(40),
  /** What the person reads: "Text me at +33 6 •• •• •• 78". */
  label: z.string().min(1).max(120),
  /** The kind of code this choice sends, when the konnector knows it. */
  type: TwoFaType.optional(),
});
export type TwoFaMethod = z.infer<typeof TwoFaMethod>;

/**
 * What the site says about the code it asks for, all optional and none of it secret: where the code
 * went (masked as the site shows it), how many wrong codes the site still takes before it locks the
 * account, the choices of where to send it, a "trust this device" box, and whether (and after how
 * long) a new code can be asked.
 */
export const TwoFaDetails = z.strictObject({
  destination: z.string().min(1).max(120).optional(),
  attemptsLeft: z.number().int().nonnegative().max(1000).optional(),
  methods: z.array(TwoFaMethod).max(8).optional(),
  /** The id (one of `methods`) the current code was sent by. */
  method: z.string().min(1).max(40).optional(),
  trustDevice: z.strictObject({ label: z.string().min(1).max(120), checked: z.boolean() }).optional(),
  /** The konnector can ask the site for a new code: the first one may be asked after `cooldownMs`. */
  resend: z.strictObject({ cooldownMs: z.number().int().nonnegative().max(3_600_000) }).optional(),
});
export type TwoFaDetails = z.infer<typeof TwoFaDetails>;

/**
 * The host's answer to a wait for a code: the code (with the person's choices), or a request to
 * make the site send a new one (by `method`, when the person picked one), after which the konnector
 * reports with `twoFaResent` and keeps waiting on the same prompt.
 */
export const TwoFaReply = z.union([
  z.strictObject({ code: z.string(), method: z.string().optional(), trustDevice: z.boolean().optional() }),
  z.strictObject({ resend: z.strictObject({ method: z.string().optional() }) }),
]);
export type TwoFaReply = z.infer<typeof TwoFaReply>;

const AccountAttributes = z.strictObject({ state: AccountState.optional() });
export type AccountAttributes = z.infer<typeof AccountAttributes>;

/** Each method: its params and its result. */
export const hostMethods = {
  start: { params: z.strictObject({}), result: RunContext },
  updateAccountAttributes: { params: z.strictObject({ attrs: AccountAttributes }), result: z.strictObject({}) },
  getAccountData: { params: z.strictObject({}), result: z.strictObject({ data: Data }) },
  saveAccountData: {
    params: z.strictObject({ data: Data, merge: z.boolean() }),
    result: z.strictObject({ data: Data }),
  },
  loadSession: { params: z.strictObject({}), result: z.strictObject({ session: z.string().nullable() }) },
  saveSession: { params: z.strictObject({ session: z.string().nullable() }), result: z.strictObject({}) },
  waitForTwoFaCode: {
    params: z.strictObject({
      type: TwoFaType.optional(),
      /** From now; the code's own lifetime when the site states it (capped by the host). */
      timeoutMs: z.number().int().positive(),
      retry: z.boolean(),
      ...TwoFaDetails.shape,
    }),
    result: TwoFaReply,
  },
  /**
   * The konnector asked the site for a new code (after a `resend` reply): what the site says now
   * (`ok: false`: it refused, the old code stands). The answer is the next reply on the same prompt.
   */
  twoFaResent: {
    params: z.strictObject({
      ok: z.boolean(),
      type: TwoFaType.optional(),
      /** The new code's lifetime from now, when the site states it. */
      timeoutMs: z.number().int().positive().optional(),
      destination: TwoFaDetails.shape.destination,
      attemptsLeft: TwoFaDetails.shape.attemptsLeft,
      method: TwoFaDetails.shape.method,
      /** How long before yet another code may be asked. */
      cooldownMs: z.number().int().nonnegative().max(3_600_000).optional(),
    }),
    result: TwoFaReply,
  },
  /**
   * When the site's session and its remembered device lapse, as far as the konnector knows (ISO
   * 8601; null: not known any more). `source`: read from the cookie jar's expiries, or declared by
   * the konnector (which wins over the cookies).
   */
  sessionHealth: {
    params: z.strictObject({
      sessionExpiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
      deviceExpiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
      source: z.enum(['cookies', 'declared']),
    }),
    result: z.strictObject({}),
  },
  /** An approval in the provider's app (type 'app') went through: the waiting prompt is answered. */
  twoFaApproved: { params: z.strictObject({}), result: z.strictObject({}) },
  listFiles: { params: z.strictObject({}), result: z.strictObject({ files: z.array(FileEntry) }) },
  saveFile: {
    params: z.strictObject({
      /** A file inside the run's stagingDir; the host moves it into the account's files. */
      stagedPath: z.string().min(1),
      name: z.string().min(1).max(255),
      folder: z.string().max(1024).default(''),
      attributes: z.record(z.string(), z.string()).default({}),
      bill: BillMetadata.optional(),
    }),
    result: FileEntry,
  },
} as const;

export type HostMethod = keyof typeof hostMethods;
export type HostParams<M extends HostMethod> = z.input<(typeof hostMethods)[M]['params']>;
export type HostResult<M extends HostMethod> = z.infer<(typeof hostMethods)[M]['result']>;

export const HostRequest = z.strictObject({
  kind: z.literal('request'),
  id: z.number().int().nonnegative(),
  method: z.enum(Object.keys(hostMethods) as [HostMethod, ...HostMethod[]]),
  params: z.unknown(),
});
export type HostRequest = z.infer<typeof HostRequest>;

export const LogLevel = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevel>;

/** Fire-and-forget messages from the konnector. */
export const KonnectorNotification = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('log'), level: LogLevel, message: z.string().max(4000), at: z.string() }),
  z.strictObject({
    kind: z.literal('finish'),
    outcome: z.enum(['ok', 'error']),
    error: z.enum(ERROR_CODES).optional(),
  }),
]);
export type KonnectorNotification = z.infer<typeof KonnectorNotification>;

export const KonnectorMessage = z.union([HostRequest, KonnectorNotification]);
export type KonnectorMessage = z.infer<typeof KonnectorMessage>;

export const HostError = z.strictObject({ code: z.string(), message: z.string() });

/** Messages from the host to the konnector. */
export const HostMessage = z.union([
  z.strictObject({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(false), error: HostError }),
  z.strictObject({ kind: z.literal('cancel'), reason: z.enum(['JOB_TIMEOUT', 'JOB_CANCELLED', 'JOB_INTERRUPTED']) }),
]);
export type HostMessage = z.infer<typeof HostMessage>;
