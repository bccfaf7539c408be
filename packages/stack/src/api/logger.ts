import { destination, pino, type DestinationStream, type Logger } from 'pino';

/** Header and body paths never written to the log, whatever a handler passes to it. */
export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'headers["x-csrf-token"]',
  'body',
  'req.body',
  '*.password',
  '*.code',
  '*.token',
  '*.fields',
  '*.csrfToken',
];

/** The stack's logger: JSON lines, with the paths above redacted. */
export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    options.destination ?? destination(1),
  );
}
