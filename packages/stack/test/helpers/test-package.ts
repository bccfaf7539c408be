import { writeKonnectorPackage, type WritePackageInput } from '../../src/registry/konnector-package.js';

/**
 * A konnector bundle as `gleaner build` would make it, written by hand: one ESM file that imports
 * nothing and speaks the host protocol itself. It logs its own version; with the field `wait` set it
 * waits for an SMS code first (so a test can hold a job on this version while it installs another).
 */
export function testBundle(version: string): string {
  return `// test konnector bundle ${version}
const VERSION = ${JSON.stringify(version)};
let next = 1;
const pending = new Map();
process.on('message', (message) => {
  if (message.kind !== 'response') return;
  const waiting = pending.get(message.id);
  pending.delete(message.id);
  if (message.ok) waiting.resolve(message.result);
  else waiting.reject(new Error(message.error.code));
});
const call = (method, params = {}) =>
  new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, { resolve, reject });
    process.send({ kind: 'request', id, method, params });
  });
const log = (message) => process.send({ kind: 'log', level: 'info', message, at: new Date().toISOString() });
const context = await call('start');
log('running version ' + VERSION);
if (context.fields.wait) {
  await call('waitForTwoFaCode', { type: 'sms', timeoutMs: 60000, retry: false });
  log('code received by version ' + VERSION);
}
process.send({ kind: 'finish', outcome: 'ok' }, () => process.disconnect());
`;
}

export const testManifest = (slug: string, version: string): Record<string, unknown> => ({
  slug,
  name: `Test ${slug}`,
  version,
  description: 'A package made by the tests',
  main: 'src/index.ts',
  twofa: ['sms'],
  fields: {
    login: { type: 'text' },
    password: { type: 'password' },
    wait: { type: 'text', required: false, advanced: true },
  },
});

/** A good package of the test konnector at `version`. */
export function testPackage(slug: string, version: string, extra: Partial<WritePackageInput> = {}): Buffer {
  return writeKonnectorPackage({ manifest: testManifest(slug, version), bundle: testBundle(version), ...extra });
}
