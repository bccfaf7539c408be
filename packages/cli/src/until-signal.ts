/**
 * Waits for SIGTERM or SIGINT, then runs `close` once; resolves with the exit code. With `graceMs`,
 * says how long running jobs get before they end JOB_INTERRUPTED.
 */
export function untilSignal(close: () => Promise<void>, graceMs?: number): Promise<number> {
  return new Promise((done) => {
    const stop = (signal: string) => {
      process.stderr.write(
        graceMs === undefined
          ? `\n${signal}: stopping\n`
          : `\n${signal}: stopping (running jobs get ${graceMs / 1000} s, then end JOB_INTERRUPTED)\n`,
      );
      close().then(
        () => done(0),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`);
          done(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
