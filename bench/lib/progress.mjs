const started = performance.now();

/** Progress goes to stderr so that stdout stays the table alone. */
export function progress(message) {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${message}\n`);
}
