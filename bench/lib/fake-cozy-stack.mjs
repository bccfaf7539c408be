import { createServer } from 'node:http';

/**
 * The slice of cozy-stack's HTTP API that cozy-konnector-libs' BaseKonnector touches while it waits
 * for a 2FA code: `cozy.data.find` is GET /data/io.cozy.accounts/<id>, `updateAttributes` is that
 * GET then PUT /data/io.cozy.accounts/<id> with the whole doc and its `_rev` (cozy-client-js 0.21,
 * API v3). Documents are plain CouchDB JSON; the PUT answers like the stack: { id, rev, type, ok, data }.
 * Every request must carry `Authorization: Bearer <token>` (the konnector's COZY_CREDENTIALS).
 */
export async function startFakeCozyStack({ token = 'bench-token' } = {}) {
  const accounts = new Map();
  const listeners = new Set();
  const stats = { gets: 0, puts: 0, conflicts: 0, unknown: [] };

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { error: 'Unauthorized' });
      const m = /^\/data\/io\.cozy\.accounts\/([^/?]+)$/.exec(req.url);
      const id = m && decodeURIComponent(m[1]);
      if (m && req.method === 'GET') {
        stats.gets++;
        const doc = accounts.get(id);
        return doc ? json(res, 200, doc) : json(res, 404, { error: 'not_found', reason: 'missing' });
      }
      if (m && req.method === 'PUT') {
        stats.puts++;
        const current = accounts.get(id);
        const next = JSON.parse(body);
        if (!current || next._rev !== current._rev) {
          stats.conflicts++;
          return json(res, 409, { error: 'conflict', reason: 'Document update conflict' });
        }
        const doc = put(id, next);
        return json(res, 200, { id, rev: doc._rev, type: 'io.cozy.accounts', ok: true, data: doc });
      }
      stats.unknown.push(`${req.method} ${req.url}`);
      return json(res, 404, { error: 'not_found' });
    });
  });

  function put(id, fields) {
    const previous = accounts.get(id);
    const n = previous ? Number(previous._rev.split('-')[0]) + 1 : 1;
    const doc = { ...fields, _id: id, _rev: `${n}-bench` };
    accounts.set(id, doc);
    for (const listener of listeners) listener(id, doc);
    return doc;
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    stats,
    createAccount: (id, fields) => put(id, fields),
    getAccount: (id) => accounts.get(id),
    /** What Home does when a person types the code: sets twoFACode on the account. */
    setAttributes: (id, attrs) => put(id, { ...accounts.get(id), ...attrs }),
    /** Resolves with the doc the first time predicate(doc) holds, at the write that made it hold. */
    waitFor(id, predicate) {
      const doc = accounts.get(id);
      if (doc && predicate(doc)) return Promise.resolve(doc);
      return new Promise((resolve) => {
        const listener = (changedId, changed) => {
          if (changedId === id && predicate(changed)) {
            listeners.delete(listener);
            resolve(changed);
          }
        };
        listeners.add(listener);
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
