/** After the grace, how long the rest of the stop (killing konnectors, the database, the lock) may take. */
export const STOP_BOUND_MS = 10_000;
/** Once `close` has settled, how long a handle left open (a socket, a timer) may keep the process up. */
const LINGER_MS = 1000;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Waits for SIGTERM or SIGINT, then runs `close` once; resolves with the exit code. With `graceMs`,
 * says how long running jobs get before they end JOB_INTERRUPTED. The process ends whatever fails on
 * the way: at the latest `graceMs + STOP_BOUND_MS` after the signal, and at once on a second signal
 * (a lock left behind is taken over at the next start, its process being gone).
 */
export function untilSignal(
  close: () => Promise<void>,
  graceMs?: number,
  /** Tests pass their own exit and a shorter bound. */
  ends: { exit?: (code: number) => void; boundMs?: number } = {},
): Promise<number> {
  const exit = ends.exit ?? ((code: number) => process.exit(code));
  return new Promise((done) => {
    const stop = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      const again = (second: string) => {
        process.stderr.write(`\n${second} again: stopping now\n`);
        exit(SIGNAL_EXIT[second] ?? 1);
      };
      process.once('SIGTERM', () => again('SIGTERM'));
      process.once('SIGINT', () => again('SIGINT'));
      process.stderr.write(
        graceMs === undefined
          ? `\n${signal}: stopping\n`
          : `\n${signal}: stopping (running jobs get ${graceMs / 1000} s, then end JOB_INTERRUPTED)\n`,
      );
      const boundMs = (graceMs ?? 0) + (ends.boundMs ?? STOP_BOUND_MS);
      setTimeout(() => {
        process.stderr.write(`gleaner: the stop took longer than ${boundMs / 1000} s: ending now\n`);
        exit(1);
      }, boundMs).unref();
      const settled = (code: number) => {
        setTimeout(() => exit(code), LINGER_MS).unref();
        done(code);
      };
      close().then(
        () => settled(0),
        (error: unknown) => {
          // One sentence, not a stack trace: the stop went on past the failure.
          process.stderr.write(`gleaner: while stopping: ${error instanceof Error ? error.message : String(error)}\n`);
          settled(1);
        },
      );
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}
