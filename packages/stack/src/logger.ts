import { destination, pino, type DestinationStream, type Logger } from 'pino';

/** Anything named like a secret is never written, at any depth pino can name. */
const SECRET_NAMES = [
  'password',
  'passwd',
  'code',
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

/** The stack's logger: JSON lines (on stderr unless told otherwise), with the paths above redacted. */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      name: 'gleaner',
      level: options.level ?? process.env.GLEANER_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination ?? destination(2),
  );
}
