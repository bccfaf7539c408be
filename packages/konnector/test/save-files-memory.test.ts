import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type { RunContext } from '@gleaner/contracts';
import { StandaloneHost } from '../src/host/standalone-host.js';
import type { SaveFileRequest } from '../src/host/host.js';
import { KeyedLimiter } from '../src/http/limiter.js';
import { closeAllAgents, requestFactory } from '../src/request.js';
import { saveFiles } from '../src/save-files.js';

const CHUNK = 64 * 1024;
const CHUNKS = 24;

let dataDir: string;
let host: StandaloneHost;
let context: RunContext;

void beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'gleaner-save-memory-'));
  host = new StandaloneHost({ dataDir, fields: {} });
  context = await host.start();
});

void afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

void after(async () => {
  await closeAllAgents();
});

/** The size of the one download being staged (0 before its file exists). */
async function stagedBytes(): Promise<number> {
  const parts = (await readdir(context.stagingDir)).filter((name) => name.endsWith('.part'));
  assert.ok(parts.length <= 1, `one download at a time here, saw ${parts.length}`);
  return parts[0] ? (await stat(join(context.stagingDir, parts[0]))).size : 0;
}

function stagedBytesNow(): number {
  const parts = readdirSync(context.stagingDir).filter((name) => name.endsWith('.part'));
  return parts[0] ? statSync(join(context.stagingDir, parts[0])).size : 0;
}

/** Resolves once `check()` is true; rejects naming `what` after 10 s (a deadline, not a timing). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

void describe('saveFiles memory', () => {
  void test('a fetchFile body is pulled one chunk at a time: every chunk is on disk before the next is asked for', async () => {
    let ahead = 0;
    async function* produce() {
      for (let i = 0; i < CHUNKS; i++) {
        // When chunk i is asked for, chunks 0..i-1 must already be in the staged file. Read
        // synchronously: a consumer reading ahead gets no chance to catch up with its writes first.
        ahead = Math.max(ahead, i * CHUNK - stagedBytesNow());
        yield Buffer.alloc(CHUNK, i);
      }
    }
    const result = await saveFiles(host, context, [{ fetchFile: async () => produce() as unknown as NodeJS.ReadableStream, filename: 'big.pdf' }]);
    assert.equal(result.saved.length, 1);
    assert.equal(ahead, 0, 'no chunk was held in memory while the next one was produced');
    const saved = await readFile(join(dataDir, 'files', 'big.pdf'));
    assert.equal(saved.length, CHUNKS * CHUNK);
    assert.equal(saved[CHUNKS * CHUNK - 1], CHUNKS - 1);
  });

  void test('a downloaded body goes to disk as it arrives: the site sends each chunk once the one before is in the staged file', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(CHUNKS * CHUNK) });
      void (async () => {
        for (let i = 0; i < CHUNKS; i++) {
          // A konnector that kept the body in memory would never get here: the test fails at the deadline.
          await until(async () => (await stagedBytes()) >= i * CHUNK, `chunk ${i - 1} on disk before chunk ${i} is sent`);
          res.write(Buffer.alloc(CHUNK, i));
        }
        res.end();
      })().catch((error: unknown) => res.destroy(error as Error));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big.pdf`;
    try {
      const result = await saveFiles(host, context, [{ fileurl: url, filename: 'big.pdf' }], { retries: 0, request: requestFactory() });
      assert.equal(result.saved.length, 1);
      assert.equal((await stat(join(dataDir, 'files', 'big.pdf'))).size, CHUNKS * CHUNK);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  void test('the next download starts while the host still takes the previous file, one download at a time', async () => {
    const asked: string[] = [];
    let peak = 0;
    let inFlight = 0;
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      peak = Math.max(peak, ++inFlight);
      res.on('close', () => inFlight--);
      res.writeHead(200, { 'content-type': 'application/pdf' }).end(`%PDF ${req.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The host takes f0 only once the site has been asked for f1: a saveFiles that waited for the
    // host before its next download would never finish (the deadline in `until` fails the test).
    const slow = new (class extends StandaloneHost {
      override async saveFile(request: SaveFileRequest) {
        if (request.name === 'f0.pdf') await until(async () => asked.includes('/f1'), 'f1 asked while f0 is handed over');
        return super.saveFile(request);
      }
    })({ dataDir, fields: {} });
    try {
      const entries = Array.from({ length: 4 }, (_, i) => ({ fileurl: `${base}/f${i}`, filename: `f${i}.pdf` }));
      const result = await saveFiles(slow, await slow.start(), entries, { concurrency: 1, request: requestFactory() });
      assert.deepEqual(result.saved.map((f) => f.name).sort(), ['f0.pdf', 'f1.pdf', 'f2.pdf', 'f3.pdf']);
      assert.equal(peak, 1, 'concurrency 1: never two downloads at the site at once');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

void describe('saveFiles slots', () => {
  void test('a staged file that cannot be created frees its answer: the next downloads still get the one slot', async () => {
    let served = 0;
    const server = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.4');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const entries = Array.from({ length: 3 }, (_, i) => ({ fileurl: `${base}/f${i}`, filename: `f${i}.pdf` }));
      const nowhere = { ...context, stagingDir: join(dataDir, 'no-such-folder') };
      // One slot: an answer left unread after its file failed to open would hold it for good.
      const outcome = saveFiles(host, nowhere, entries, { retries: 0, request: requestFactory({ maxConcurrency: 1 }) });
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stuck after ${served} downloads`)), 10_000);
      });
      try {
        await assert.rejects(Promise.race([outcome, stuck]), { message: 'FILE_DOWNLOAD_FAILED' });
      } finally {
        clearTimeout(timer);
      }
      assert.equal(served, 3);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

void describe('KeyedLimiter', () => {
  void test('a waiter that gives up leaves the queue; released slots go to the next waiter, then the limiter holds nothing', async () => {
    const limiter = new KeyedLimiter(2);
    const first = await limiter.acquire('site');
    const second = await limiter.acquire('site');
    const gaveUp = new AbortController();
    const abandoned = limiter.acquire('site', gaveUp.signal);
    const third = limiter.acquire('site');
    assert.equal(limiter.waiting('site'), 2);
    gaveUp.abort(new Error('stop'));
    await assert.rejects(abandoned, /stop/);
    assert.equal(limiter.waiting('site'), 1, 'the waiter that gave up is no longer held');
    first();
    const release = await third;
    assert.equal(limiter.active('site'), 2);
    assert.equal(limiter.waiting('site'), 0);
    second();
    release();
    release();
    assert.equal(limiter.active('site'), 0);
    assert.equal(limiter.waiting('site'), 0);
  });
});
