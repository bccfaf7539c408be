import type { LogEntry } from '../host/host.js';
import { redactor } from './redact.js';

type Sink = (entry: LogEntry) => void;

const stderrSink: Sink = ({ level, message }) => {
  process.stderr.write(`${level.padEnd(5)} ${message}\n`);
};

let sink: Sink = stderrSink;
let debugForced = false;
/** True when debug lines are kept: callers check it before building an expensive line. */
export const debugEnabled = (): boolean => debugForced || /\bgleaner\b|\*/.test(process.env.DEBUG ?? '');

/** Debug lines are dropped unless DEBUG names gleaner, or a helper (requestFactory's `debug`) asks. */
export function enableDebug(on = true): void {
  debugForced = on;
}

/** Where the konnector's log lines go: the host while a run is on, stderr otherwise. */
export function setLogSink(next: Sink | null): void {
  sink = next ?? stderrSink;
}

/** The one logger of the SDK: every line is scrubbed of the run's secrets before it leaves. */
export function log(level: LogEntry['level'], message: string): void {
  if (level === 'debug' && !debugEnabled()) return;
  sink({ level, message: redactor.scrub(message) });
}
