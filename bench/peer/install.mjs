// Installs the peer (cozy-konnector-libs) into bench/peer/node_modules, apart from the root
// workspaces so that its 300-odd old dependencies never leak into Gleaner's tree.
// Idempotent: a second call returns at once when the pinned version is already there.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PEER_DIR = dirname(fileURLToPath(import.meta.url));
export const PEER_VERSION = JSON.parse(readFileSync(join(PEER_DIR, 'package.json'), 'utf8'))
  .dependencies['cozy-konnector-libs'];

function installedVersion() {
  const manifest = join(PEER_DIR, 'node_modules', 'cozy-konnector-libs', 'package.json');
  if (!existsSync(manifest)) return null;
  return JSON.parse(readFileSync(manifest, 'utf8')).version;
}

/** Installs the peer unless the pinned version is already present; returns the installed version. */
export function installPeer({ log = (line) => process.stderr.write(line + '\n') } = {}) {
  const before = installedVersion();
  if (before === PEER_VERSION) return before;
  log(`[bench] installing cozy-konnector-libs@${PEER_VERSION} into bench/peer (once)…`);
  // --legacy-peer-deps: its optional peers (zombie, pdfjs) would otherwise be pulled or refused.
  // geco/toni are git dependencies that this machine cannot fetch: package.json overrides them with
  // the local stubs in bench/peer/stubs.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    ['install', '--prefix', PEER_DIR, '--legacy-peer-deps', '--no-audit', '--no-fund'],
    { cwd: PEER_DIR, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0) throw new Error(`npm install for the peer failed (${result.status})`);
  const after = installedVersion();
  if (after !== PEER_VERSION) {
    throw new Error(`peer install left cozy-konnector-libs@${after}, expected ${PEER_VERSION}`);
  }
  return after;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`cozy-konnector-libs@${installPeer()} ready in ${PEER_DIR}`);
}
