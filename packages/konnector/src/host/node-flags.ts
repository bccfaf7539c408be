/**
 * The V8 flags a konnector process is started with (by the stack's runner and `gleaner run`), before
 * the heap cap the runner adds.
 *
 * `--max-semi-space-size=1` keeps V8's young generation at 1 MB a half. By default V8 grows it up to
 * 16 MB a half for throughput as soon as a program keeps allocating, which a konnector downloading
 * files always does: on the 200-bill run of bench figure 4 that growth alone is ~18 MB of the peak
 * RSS (81 MB against 63 MB), for no CPU saved (the same CPU-seconds either way, within noise).
 */
export const KONNECTOR_EXEC_ARGV: readonly string[] = ['--max-semi-space-size=1'];
