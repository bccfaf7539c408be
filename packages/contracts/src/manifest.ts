import { z } from 'zod';

export const MANIFEST_FILE = 'manifest.konnector';
/** A manifest file larger than this is refused before it is read whole. */
export const MANIFEST_MAX_BYTES = 64 * 1024;
/** At most this many entries in a manifest's `fields`. */
export const MANIFEST_MAX_FIELDS = 64;
/** An icon file larger than this is refused. */
export const ICON_MAX_BYTES = 256 * 1024;

export const ManifestField = z.strictObject({
  type: z.enum(['text', 'email', 'password', 'url', 'number']),
  label: z.string().min(1).optional(),
  required: z.boolean().default(true),
  placeholder: z.string().optional(),
  /** Shown pre-filled; never for a password. */
  default: z.string().optional(),
  /** Advanced fields (a base URL, say) are folded away in Home. */
  advanced: z.boolean().default(false),
});
export type ManifestField = z.infer<typeof ManifestField>;

/** `manifest.konnector`: what the registry, Home and `gleaner run` know of a konnector. */
/** A regular expression (JavaScript, `u` flag) whose first group, or whole match, is the code. */
const CodePattern = z
  .string()
  .min(1)
  .max(200)
  .refine((pattern) => {
    try {
      new RegExp(pattern, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'a valid regular expression');

export const Manifest = z.strictObject({
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and dashes'),
  name: z.string().min(1),
  // Whole semantic versions only: an installed version is a folder name.
  version: z
    .string()
    .max(64)
    .regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/, 'a semantic version such as 1.0.0'),
  description: z.string().default(''),
  vendor_link: z.string().url().optional(),
  /** The entry file, relative to the konnector's folder. */
  main: z.string().min(1),
  /** The kinds of second factor this konnector may ask for; shown in the catalogue. */
  twofa: z.array(z.enum(['email', 'sms', 'app_code', 'app'])).default([]),
  /**
   * How the stack finds this site's codes without a person (docs/code-sources.md): in the person's
   * mailbox (`email`: the sender, a subject, and a pattern whose first group is the code) and in SMS
   * forwarded to the account's webhook (`sms`).
   */
  twofa_sources: z
    .strictObject({
      email: z
        .strictObject({ from: z.string().min(1), subject: z.string().min(1).optional(), pattern: CodePattern.optional() })
        .optional(),
      sms: z.strictObject({ from: z.string().min(1).optional(), pattern: CodePattern.optional() }).optional(),
    })
    .optional(),
  /** The icon, a file inside the konnector's folder (`.svg` or `.png`, at most 256 KiB). */
  icon: z
    .string()
    .refine(
      (icon) =>
        /\.(svg|png)$/.test(icon) &&
        !icon.startsWith('/') &&
        !icon.includes('\\') &&
        icon.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
      'a .svg or .png file inside the konnector folder',
    )
    .optional(),
  fields: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/), ManifestField)
    .refine((fields) => Object.keys(fields).length > 0, 'at least one field')
    .refine(
      (fields) => Object.keys(fields).length <= MANIFEST_MAX_FIELDS,
      `at most ${MANIFEST_MAX_FIELDS} fields`,
    ),
  /** Scheduled runs: once a day, at a time spread over this window of hours (local time). */
  time_interval: z.tuple([z.number().int().min(0).max(23), z.number().int().min(1).max(24)]).default([0, 5]),
  frequency: z.enum(['daily', 'weekly']).default('daily'),
  /**
   * How many codes the site may be made to send (the stack's default when absent: 5 a day, one hour
   * of back-off after an unanswered one, 60 s between two): keep it under the site's own lockout.
   */
  codeBudget: z
    .strictObject({
      prompts: z.number().int().min(1).max(100),
      windowHours: z.number().int().min(1).max(24 * 7),
      backoffMinutes: z.number().int().min(0).max(24 * 60).optional(),
      resendSeconds: z.number().int().min(0).max(3600).optional(),
      /** The site's known lockout policy, in words, shown to the person: "5 SMS in a day lock the account for 24 h". */
      lockout: z.string().min(1).max(200).optional(),
    })
    .optional(),
  /**
   * The site's session never lasts until the next night: accounts are never scheduled, the person
   * runs them when they want fresh data.
   */
  manualOnly: z.boolean().optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/** The names of the fields a manifest types `password`: the account's secrets, whatever their name. */
export function secretFieldNames(fields: Record<string, { type: string }>): string[] {
  return Object.entries(fields)
    .filter(([, field]) => field.type === 'password')
    .map(([name]) => name);
}

export type ManifestProblem = { path: string; message: string };

/** Validates a parsed manifest; problems name the exact path (e.g. `fields.login.type`). */
export function parseManifest(raw: unknown): { ok: true; manifest: Manifest } | { ok: false; problems: ManifestProblem[] } {
  const result = Manifest.safeParse(raw);
  if (result.success) return { ok: true, manifest: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    })),
  };
}
