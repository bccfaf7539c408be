import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { BaseKonnector } from '../src/base-konnector.js';
import { CookieKonnector } from '../src/cookie-konnector.js';
import { closeAllAgents } from '../src/request.js';
import { filesOnDisk, newDataDir, runKonnector } from '../src/testing.js';

// A site whose bills need the session cookie that /login sets.
const server = createServer((req, res) => {
  if (req.url === '/login') return void res.writeHead(200, { 'set-cookie': 'sid=s-31; Path=/' }).end('in');
  if (req.headers.cookie !== 'sid=s-31') return void res.writeHead(403).end('sign in first');
  res.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.4 bill');
});
let url = '';
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await closeAllAgents();
});

const bill = () => [
  { fileurl: `${url}/bill.pdf`, filename: 'bill.pdf', amount: 1, date: '2025-01-01', vendor: 'Site' },
];

class SessionKonnector extends CookieKonnector {
  async testSession() {
    return false;
  }
  override async fetch() {
    await this.request(`${url}/login`);
    await this.saveBills(bill());
  }
}

test("a CookieKonnector's saveBills downloads with its own request, the session's cookies, when none is given", async () => {
  const dataDir = newDataDir();
  const run = await runKonnector(new SessionKonnector(), { dataDir, fields: {} });
  assert.deepEqual(run.result, { ok: true });
  assert.deepEqual(filesOnDisk(dataDir), ['bill.pdf']);
});

test("a BaseKonnector's saveBills downloads with a new request and an empty jar: the site's session is not there", async () => {
  const run = await runKonnector(
    new BaseKonnector(async function () {
      await this.saveBills(bill());
    }),
    { dataDir: newDataDir(), fields: {} },
  );
  assert.deepEqual(run.result, { ok: false, error: 'FILE_DOWNLOAD_FAILED' });
});
