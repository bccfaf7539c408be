import { destination, pino, type Logger } from 'pino';

/** Anything named like a secret is never written, at any depth pino can name. */
const SECRET_NAMES = [
  'password',
  'passwd',
  'code',
  'cookie',
  'cookies',
  'secret',
  'token',
  'fields',
  'credentials',
  'session',
];
export const STACK_REDACT_PATHS = SECRET_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]);

/** The stack's one logger (JSON lines on stderr), unless the caller gives its own. */
export function createStackLogger(options: { level?: string } = {}): Logger {
  return pino(
    {
      name: 'gleaner-stack',
      level: options.level ?? process.env.GLEANER_LOG_LEVEL ?? 'info',
      redact: { paths: STACK_REDACT_PATHS, censor: '[redacted]' },
    },
    destination(2),
  );
}
