import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A throwaway npm registry on 127.0.0.1 serving the given `npm pack` tarballs, and nothing else. */
export type LocalRegistry = {
  /** Point npm at it for one scope: `--@gleaner:registry=<url>`. */
  url: string;
  /** Every request served, `GET <path> <status>`, for a failure's message. */
  log: string[];
  close(): Promise<void>;
};

/** The package.json inside an `npm pack` tarball (a gzip'd tar whose entries are under `package/`). */
export function packageJsonOf(tgz: Buffer): Record<string, unknown> & { name: string; version: string } {
  const tar = gunzipSync(tgz);
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const text = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = text(345, 155);
    const name = prefix ? `${prefix}/${text(0, 100)}` : text(0, 100);
    const size = parseInt(text(124, 12).trim() || '0', 8);
    if (name === 'package/package.json') {
      return JSON.parse(tar.subarray(offset + 512, offset + 512 + size).toString('utf8')) as ReturnType<
        typeof packageJsonOf
      >;
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('no package/package.json in the tarball');
}

/**
 * Serves a packument per package (every version given; `latest` is the last one given) with
 * `dist.tarball`, `dist.integrity` (sha512) and `dist.shasum`, and the tarballs themselves. npm asks
 * for `/@scope%2fname` and downloads `/@scope/name/-/name-<version>.tgz`.
 */
export async function startLocalRegistry(tarballPaths: string[]): Promise<LocalRegistry> {
  type Published = { pkg: ReturnType<typeof packageJsonOf>; tgz: Buffer; file: string };
  const byName = new Map<string, Published[]>();
  const byFile = new Map<string, Buffer>();
  for (const path of tarballPaths) {
    const tgz = readFileSync(path);
    const pkg = packageJsonOf(tgz);
    const file = `/${pkg.name}/-/${pkg.name.split('/').pop()}-${pkg.version}.tgz`;
    byName.set(pkg.name, [...(byName.get(pkg.name) ?? []), { pkg, tgz, file }]);
    byFile.set(file, tgz);
  }
  const log: string[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const send = (status: number, body: Buffer | string, type: string) => {
      log.push(`${req.method} ${path} ${status}`);
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const tarball = byFile.get(path);
    if (req.method === 'GET' && tarball) return send(200, tarball, 'application/octet-stream');
    const published = byName.get(path.slice(1));
    if (req.method !== 'GET' || !published)
      return send(404, JSON.stringify({ error: 'not found' }), 'application/json');
    const versions = Object.fromEntries(
      published.map(({ pkg, tgz, file }) => [
        pkg.version,
        {
          ...pkg,
          _id: `${pkg.name}@${pkg.version}`,
          dist: {
            tarball: `${url}${file}`,
            integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
            shasum: createHash('sha1').update(tgz).digest('hex'),
          },
        },
      ]),
    );
    const latest = published.at(-1)!.pkg.version;
    return send(200, JSON.stringify({ name: path.slice(1), 'dist-tags': { latest }, versions }), 'application/json');
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    log,
    close: () =>
      new Promise<void>((closed, failed) => {
        server.closeAllConnections();
        server.close((error) => (error ? failed(error) : closed()));
      }),
  };
}
