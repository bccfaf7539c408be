import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type { FileEntry, RunContext } from '@gleaner/contracts';
import { setLogSink } from '../src/core/log.js';
import type { LogEntry } from '../src/host/host.js';
import { StandaloneHost } from '../src/host/standalone-host.js';
import { closeAllAgents, requestFactory } from '../src/request.js';
import { saveBills, saveFiles } from '../src/save-files.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pdf = (name: string) => Buffer.from(`%PDF-1.4 bill ${name}`);

let dataDir: string;
let host: StandaloneHost;
let context: RunContext;
let lines: LogEntry[];

void beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gleaner-save-files-'));
  host = new StandaloneHost({ dataDir, fields: {} });
  context = await host.start();
  lines = [];
  setLogSink((entry) => lines.push(entry));
});

void afterEach(async () => {
  setLogSink(null);
  await rm(dataDir, { recursive: true, force: true });
});

void after(async () => {
  await closeAllAgents();
});

const index = async (): Promise<FileEntry[]> => JSON.parse(await readFile(join(dataDir, 'files.json'), 'utf8')) as FileEntry[];

void describe('saveFiles', () => {
  void test('saves the files with their bytes, then only the new ones on a second call; duplicates in a batch once', async () => {
    const hits = new Map<string, number>();
    const site = await serve((req, res) => {
      hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
      if (req.headers.cookie !== 'sid=abcd-session') return void res.writeHead(403).end('login first');
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(pdf(req.url!));
    });
    try {
      const request = requestFactory({ jar: true });
      await request.jar!.setCookie('sid=abcd-session', site.url);
      const first = await saveFiles(
        host,
        context,
        [
          { fileurl: `${site.url}/a.pdf`, filename: 'a.pdf' },
          { fileurl: `${site.url}/b.pdf`, filename: 'b.pdf' },
          { fileurl: `${site.url}/b.pdf`, filename: 'b.pdf' },
        ],
        { request, folder: 'bills/2024' },
      );
      assert.deepEqual(first.saved.map((f) => f.name).sort(), ['a.pdf', 'b.pdf']);
      assert.equal(first.skipped, 1);
      assert.equal(first.failed, 0);
      assert.deepEqual(await readFile(join(dataDir, 'files', 'bills', '2024', 'a.pdf')), pdf('/a.pdf'));
      assert.deepEqual(await readFile(join(dataDir, 'files', 'bills', '2024', 'b.pdf')), pdf('/b.pdf'));
      assert.equal(hits.get('/b.pdf'), 1);

      const second = await saveFiles(
        host,
        context,
        [
          { fileurl: `${site.url}/a.pdf`, filename: 'a.pdf' },
          { fileurl: `${site.url}/b.pdf`, filename: 'b.pdf' },
          { fileurl: `${site.url}/c.pdf`, filename: 'c.pdf' },
        ],
        { request, folder: 'bills/2024' },
      );
      assert.deepEqual(second.saved.map((f) => f.name), ['c.pdf']);
      assert.equal(second.skipped, 2);
      assert.equal(hits.get('/a.pdf'), 1);
      assert.deepEqual((await index()).map((f) => f.name).sort(), ['a.pdf', 'b.pdf', 'c.pdf']);
      assert.deepEqual(await readdir(context.stagingDir), []);
      assert.ok(lines.some((l) => l.level === 'info' && /saved 1\/1 files \(2 skipped, 0 failed\)/.test(l.message)));
    } finally {
      await site.close();
    }
  });

  void test('identity by fileIdAttributes: same vendorRef under another name is not saved again', async () => {
    const first = await saveFiles(host, context, [{ fetchFile: async () => pdf('x'), filename: 'x-v1.pdf', vendorRef: 'INV-1' }], {
      fileIdAttributes: ['vendorRef'],
    });
    assert.equal(first.saved.length, 1);
    assert.deepEqual(first.saved[0]?.attributes, { vendorRef: 'INV-1' });
    const second = await saveFiles(
      host,
      context,
      [
        { fetchFile: async () => pdf('x'), filename: 'x-v2.pdf', vendorRef: 'INV-1' },
        { fetchFile: async () => pdf('y'), filename: 'y.pdf', vendorRef: 'INV-2' },
      ],
      { fileIdAttributes: ['vendorRef'] },
    );
    assert.deepEqual(second.saved.map((f) => f.name), ['y.pdf']);
    assert.equal(second.skipped, 1);
  });

  void test('a server that fails twice then succeeds: saved after retries; a 404 is not retried', async () => {
    let attempts = 0;
    let missing = 0;
    const site = await serve((req, res) => {
      if (req.url === '/missing.pdf') {
        missing++;
        return void res.writeHead(404).end();
      }
      attempts++;
      if (attempts <= 2) return void res.writeHead(503).end('busy');
      res.writeHead(200).end(pdf('flaky'));
    });
    try {
      const result = await saveFiles(
        host,
        context,
        [
          { fileurl: `${site.url}/flaky.pdf`, filename: 'flaky.pdf' },
          { fileurl: `${site.url}/missing.pdf`, filename: 'missing.pdf' },
        ],
        { retryDelay: 10 },
      );
      assert.equal(attempts, 3);
      assert.equal(missing, 1);
      assert.deepEqual(result.saved.map((f) => f.name), ['flaky.pdf']);
      assert.equal(result.failed, 1);
      assert.deepEqual(await readFile(join(dataDir, 'files', 'flaky.pdf')), pdf('flaky'));
      assert.ok(lines.some((l) => l.level === 'warn' && l.message.includes('missing.pdf') && l.message.includes('404')));
    } finally {
      await site.close();
    }
  });

  void test('a file over maxFileSize fails and leaves no temp file in staging', async () => {
    const site = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      if (req.url === '/chunked.pdf') {
        // No content-length: the limit is found while streaming.
        res.write(Buffer.alloc(6_000, 7));
        res.end(Buffer.alloc(6_000, 7));
      } else if (req.url === '/declared.pdf') res.end(Buffer.alloc(20_000, 7));
      else res.end(pdf('small'));
    });
    try {
      const result = await saveFiles(
        host,
        context,
        [
          { fileurl: `${site.url}/chunked.pdf`, filename: 'chunked.pdf' },
          { fileurl: `${site.url}/declared.pdf`, filename: 'declared.pdf' },
          { fetchFile: async () => Buffer.alloc(10_001), filename: 'produced.pdf' },
          { fileurl: `${site.url}/small.pdf`, filename: 'small.pdf' },
        ],
        { maxFileSize: 10_000, retryDelay: 10 },
      );
      assert.equal(result.failed, 3);
      assert.deepEqual(result.saved.map((f) => f.name), ['small.pdf']);
      assert.deepEqual(await readdir(context.stagingDir), []);
      assert.deepEqual(await readdir(join(dataDir, 'files')), ['small.pdf']);
    } finally {
      await site.close();
    }
  });

  void test('never more than 4 downloads in flight at the site, even with concurrency 10', async () => {
    let inFlight = 0;
    let peak = 0;
    const site = await serve(async (req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.write('%PDF-');
      await sleep(30);
      inFlight--;
      res.end(req.url);
    });
    try {
      const entries = Array.from({ length: 16 }, (_, i) => ({ fileurl: `${site.url}/f${i}`, filename: `f${i}.pdf` }));
      const defaults = await saveFiles(host, context, entries.slice(0, 8));
      assert.equal(defaults.saved.length, 8);
      assert.ok(peak <= 4 && peak >= 2, `peak ${peak}`);
      peak = 0;
      const wide = await saveFiles(host, context, entries.slice(8), { concurrency: 10, request: requestFactory() });
      assert.equal(wide.saved.length, 8);
      assert.equal(peak, 4);
      assert.equal((await readFile(join(dataDir, 'files', 'f12.pdf'), 'utf8')), '%PDF-/f12');
    } finally {
      await site.close();
    }
  });

  void test('validateFile false counts as failed; all new files failing ends with FILE_DOWNLOAD_FAILED', async () => {
    const site = await serve((_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<form id="login">'));
    try {
      await assert.rejects(
        saveFiles(
          host,
          context,
          [
            { fileurl: `${site.url}/1`, filename: '1.pdf' },
            { fileurl: `${site.url}/2`, filename: '2.pdf' },
          ],
          { validateFile: (bytes) => Buffer.from(bytes.subarray(0, 5)).toString() === '%PDF-' },
        ),
        { name: 'KonnectorError', message: 'FILE_DOWNLOAD_FAILED' },
      );
      assert.deepEqual(await readdir(context.stagingDir), []);
      assert.deepEqual(await host.listFiles(), []);
    } finally {
      await site.close();
    }
  });

  void test('a per-file timeout fails the file as VENDOR_DOWN-like and moves on', async () => {
    const site = await serve(async (req, res) => {
      if (req.url === '/slow') {
        res.writeHead(200);
        res.write('%PDF-');
        await sleep(1_000);
      }
      res.end('done');
    });
    try {
      const result = await saveFiles(
        host,
        context,
        [
          { fileurl: `${site.url}/slow`, filename: 'slow.pdf' },
          { fileurl: `${site.url}/fast`, filename: 'fast.pdf' },
        ],
        { timeout: 150, retries: 0 },
      );
      assert.deepEqual(result.saved.map((f) => f.name), ['fast.pdf']);
      assert.equal(result.failed, 1);
      assert.ok(lines.some((l) => l.level === 'warn' && l.message.includes('slow.pdf') && l.message.includes('VENDOR_DOWN')));
      assert.deepEqual(await readdir(context.stagingDir), []);
    } finally {
      await site.close();
    }
  });

  void test('refuses file names with path separators', async () => {
    await assert.rejects(saveFiles(host, context, [{ fetchFile: async () => pdf('x'), filename: '../evil.pdf' }]), {
      name: 'TypeError',
      message: /entry 0: invalid filename/,
    });
    await assert.rejects(saveFiles(host, context, [{ fetchFile: async () => pdf('x'), filename: 'a\\b.pdf' }]), TypeError);
  });
});

void describe('saveBills', () => {
  void test('stores the bill metadata in files.json and dedupes by vendorRef', async () => {
    const site = await serve((req, res) => void res.writeHead(200).end(pdf(req.url!)));
    try {
      const bills = [
        { fileurl: `${site.url}/1`, filename: '2024-01.pdf', vendorRef: 'F-001', amount: 12.5, date: new Date('2024-01-31T10:00:00Z'), vendor: 'Acme' },
        { fileurl: `${site.url}/2`, filename: '2024-02.pdf', vendorRef: 'F-002', amount: 9, currency: 'USD', date: '2024-02-29', vendor: 'Acme' },
      ];
      const result = await saveBills(host, context, bills);
      assert.equal(result.saved.length, 2);
      const files = await index();
      const january = files.find((f) => f.name === '2024-01.pdf');
      assert.deepEqual(january?.bill, { amount: 12.5, currency: 'EUR', date: '2024-01-31T10:00:00.000Z', vendor: 'Acme', vendorRef: 'F-001' });
      assert.deepEqual(january?.attributes, { vendorRef: 'F-001' });
      assert.deepEqual(files.find((f) => f.name === '2024-02.pdf')?.bill, {
        amount: 9,
        currency: 'USD',
        date: '2024-02-29',
        vendor: 'Acme',
        vendorRef: 'F-002',
      });
      const renamed = await saveBills(host, context, [{ ...bills[0]!, filename: 'january.pdf' }]);
      assert.equal(renamed.saved.length, 0);
      assert.equal(renamed.skipped, 1);
    } finally {
      await site.close();
    }
  });

  void test('a bill without amount, date or vendor is a TypeError naming the entry and the field', async () => {
    const base = { fetchFile: async () => pdf('b'), filename: 'b.pdf', amount: 1, date: '2024-01-01', vendor: 'Acme' };
    await assert.rejects(saveBills(host, context, [base, { ...base, amount: undefined as unknown as number }]), {
      name: 'TypeError',
      message: /entry 1 .*amount/,
    });
    await assert.rejects(saveBills(host, context, [{ ...base, date: 'not a date' }]), { name: 'TypeError', message: /entry 0 .*date/ });
    await assert.rejects(saveBills(host, context, [{ ...base, vendor: '' }]), { name: 'TypeError', message: /entry 0 .*vendor/ });
    assert.deepEqual(await host.listFiles(), []);
  });
});
