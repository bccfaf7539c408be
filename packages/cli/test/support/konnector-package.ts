import { writeKonnectorPackage, type WritePackageInput } from '@gleaner/stack';

/**
 * A package as `gleaner pack` makes one, with a hand-written bundle that imports nothing and speaks
 * the host protocol itself; it logs the version it is.
 */
/**
 * A bundle that imports nothing and speaks the host protocol itself: `call(method, params)` asks
 * the host, then `body` runs (top-level await), then it says `finish` ok and lets go of the channel.
 */
export function protocolBundle(body: string): string {
  return `let next = 1;
const pending = new Map();
process.on('message', (m) => {
  if (m.kind !== 'response') return;
  const p = pending.get(m.id);
  pending.delete(m.id);
  m.ok ? p.resolve(m.result) : p.reject(new Error(m.error.code));
});
const call = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    process.send({ kind: 'request', id, method, params });
  });
${body}
process.send({ kind: 'finish', outcome: 'ok' }, () => process.disconnect());
`;
}

export function cliTestPackage(slug: string, version: string, extra: Partial<WritePackageInput> = {}): Buffer {
  const bundle = protocolBundle(`const VERSION = ${JSON.stringify(version)};
await call('start');
process.send({ kind: 'log', level: 'info', message: 'running version ' + VERSION, at: new Date().toISOString() });`);
  return writeKonnectorPackage({
    manifest: {
      slug,
      name: `CLI test ${slug}`,
      version,
      main: 'index.js',
      twofa: ['app_code', 'sms'],
      fields: { login: { type: 'text' }, password: { type: 'password' } },
    },
    bundle,
    ...extra,
  });
}
