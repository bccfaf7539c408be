/**
 * The V8 flags a konnector process is started with (by the stack's runner and `gleaner run`), before
 * the heap cap the runner adds. A konnector run lives seconds to minutes and mostly waits for its
 * site: V8's defaults, tuned for long-lived throughput, cost it memory for nothing.
 *
 * - `--max-semi-space-size=1` keeps the young generation at 1 MB a half. By default V8 grows it up to
 *   16 MB a half as soon as a program keeps allocating, which a konnector downloading files always
 *   does: on the 200-bill run of bench figure 4 that growth alone is ~18 MB of the peak RSS (81 MB
 *   against 63 MB), for the same CPU-seconds within noise.
 * - `--interrupt-budget=1000000` (default 67 584) lets a function run ~15 times longer before V8
 *   optimizes it: the many lukewarm functions of a run stay in bytecode, hot loops are still
 *   optimized. ~2 MB less peak RSS on the same run (61 MB against 63 MB), CPU the same within noise.
 */
export const KONNECTOR_EXEC_ARGV: readonly string[] = ['--max-semi-space-size=1', '--interrupt-budget=1000000'];
