import { destination, pino, type DestinationStream, type Logger } from 'pino';

/**
 * Keys that hold secrets, never written at any depth pino can name. Not every `code`: that is also
 * an errno (`err.code: 'ENOSPC'`) a log must show; a 2FA code is redacted by its own key or by value.
 */
const SECRET_NAMES = [
  'password',
  'passwd',
  'twoFaCode',
  'otp',
  'totp',
  'cookie',
  'cookies',
  'secret',
  'token',
  'csrfToken',
  'fields',
  'credentials',
  'session',
];

/** Request parts never written, whatever a handler passes to the log. */
const REQUEST_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'headers["x-csrf-token"]',
  'body',
  'req.body',
];

/** The one redaction list of the stack's log: the API and the runtime share it. */
export const REDACT_PATHS = [...REQUEST_PATHS, ...SECRET_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`])];

/** Shorter values (a 2-letter password) would blank out unrelated text: the job log's scrubber handles them. */
const MIN_VALUE_CHARS = 4;

/**
 * Secret values known right now (the password fields and codes of running jobs): replaced in every
 * line the stack's logger writes, in clear and as they appear inside JSON, under whatever key.
 */
export class LogSecrets {
  readonly #counts = new Map<string, number>();
  #forms: string[] = [];

  /** Redacts these values until the returned function is called. */
  add(...values: Array<string | null | undefined>): () => void {
    const added = values.filter((v): v is string => typeof v === 'string' && v.length >= MIN_VALUE_CHARS);
    for (const value of added) this.#counts.set(value, (this.#counts.get(value) ?? 0) + 1);
    this.#update();
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      for (const value of added) {
        const left = (this.#counts.get(value) ?? 1) - 1;
        if (left > 0) this.#counts.set(value, left);
        else this.#counts.delete(value);
      }
      this.#update();
    };
  }

  scrub(line: string): string {
    let out = line;
    for (const form of this.#forms) if (out.includes(form)) out = out.split(form).join('[redacted]');
    return out;
  }

  #update(): void {
    const forms = new Set<string>();
    for (const value of this.#counts.keys()) {
      forms.add(value);
      forms.add(JSON.stringify(value).slice(1, -1));
    }
    // Longest first: a value inside another is not left half-replaced.
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
  }
}

/** The values every logger made by createLogger redacts (the job hosts add theirs). */
export const logSecrets = new LogSecrets();

/**
 * The stack's logger: JSON lines (on stderr unless told otherwise), with the paths above redacted
 * and the secret values known now (`logSecrets`) replaced wherever they appear.
 */
export function createLogger(
  options: { level?: string; destination?: DestinationStream; secrets?: LogSecrets } = {},
): Logger {
  const secrets = options.secrets ?? logSecrets;
  return pino(
    {
      name: 'gleaner',
      level: options.level ?? process.env.GLEANER_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: (line) => secrets.scrub(line) },
    },
    options.destination ?? destination(2),
  );
}
