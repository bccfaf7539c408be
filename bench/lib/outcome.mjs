/**
 * What a figure's runPeer()/runGleaner() returns:
 *   { metrics: { <metric key>: number, … }, raw?: any }   measured
 *   notMeasured(reason)    this side cannot run yet (printed "not measured: <reason>"); `null` too
 *   notApplicable(reason)  this side has no such thing (printed "n/a", reason in the notes)
 * A runner that throws is printed "failed: <message>" and makes the bench exit non-zero.
 */
export const notMeasured = (reason) => ({ notMeasured: reason });
export const notApplicable = (reason) => ({ notApplicable: reason });

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs task(i) for i in 0..count-1 with at most `parallel` at once; resolves with the results in order. */
export async function pool(count, parallel, task) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return results;
}
