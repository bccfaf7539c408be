import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setLogSink, enableDebug } from '../src/core/log.js';
import type { LogEntry } from '../src/host/host.js';
import { closeAllAgents, HttpError, NetworkError, requestFactory, requestStream } from '../src/request.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      Promise.resolve(handler(req, res, Buffer.concat(chunks).toString('utf8'))).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
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

void after(async () => {
  await closeAllAgents();
});

void describe('requestFactory', () => {
  void test('keeps cookies across a redirect chain: the cookie set on a 302 is sent to the next hop', async () => {
    const seen: Array<string | undefined> = [];
    const site = await serve((req, res) => {
      seen.push(req.headers.cookie);
      if (req.url === '/login' && req.method === 'POST') {
        res.writeHead(302, { location: '/step', 'set-cookie': 'sid=s3ss10nvalue; Path=/; HttpOnly' });
        res.end();
      } else if (req.url === '/step') {
        res.writeHead(303, { location: '/account', 'set-cookie': 'step=two; Path=/' });
        res.end();
      } else if (req.url === '/account') {
        if (!req.headers.cookie?.includes('sid=s3ss10nvalue')) {
          res.writeHead(302, { location: '/login' });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<html><body><h1 id="who">alice</h1><p>method ${req.method}</p></body></html>`);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    try {
      const request = requestFactory({ jar: true, cheerio: true });
      const response = await request({
        url: `${site.url}/login`,
        method: 'POST',
        form: { user: 'alice' },
        resolveWithFullResponse: true,
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.url, `${site.url}/account`);
      assert.equal(response.$('#who').text(), 'alice');
      assert.match(response.$('p').text(), /method GET/);
      assert.deepEqual(seen, [undefined, 'sid=s3ss10nvalue', 'sid=s3ss10nvalue; step=two']);
      const cookies = await request.jar!.getCookies(`${site.url}/account`);
      assert.deepEqual(cookies.map((c) => c.key).sort(), ['sid', 'step']);
      // The jar is shared with .defaults()
      const again = request.defaults({ resolveWithFullResponse: true });
      assert.equal(again.jar, request.jar);
      const second = await again(`${site.url}/account`);
      assert.equal(second.url, `${site.url}/account`);
    } finally {
      await site.close();
    }
  });

  void test('307 keeps the method and body, 301 turns a POST into a GET', async () => {
    const log: string[] = [];
    const site = await serve((req, res, body) => {
      log.push(`${req.method} ${req.url} ${body}`);
      if (req.url === '/a') void res.writeHead(307, { location: '/b' }).end();
      else if (req.url === '/b') void res.writeHead(301, { location: '/c' }).end();
      else void res.writeHead(200, { 'content-type': 'text/plain' }).end('done');
    });
    try {
      const request = requestFactory();
      assert.equal(await request({ url: `${site.url}/a`, form: { x: '1' } }), 'done');
      assert.deepEqual(log, ['POST /a x=1', 'POST /b x=1', 'GET /c ']);
    } finally {
      await site.close();
    }
  });

  void test('stops after maxRedirects', async () => {
    const site = await serve((_req, res) => void res.writeHead(302, { location: `/loop${Math.random()}` }).end());
    try {
      const request = requestFactory({ maxRedirects: 3 });
      await assert.rejects(request(`${site.url}/loop`), (error: unknown) => {
        assert.ok(error instanceof HttpError);
        assert.equal(error.statusCode, 302);
        return true;
      });
      const manual = requestFactory({ followRedirects: false, resolveWithFullResponse: true });
      const response = await manual(`${site.url}/loop`);
      assert.equal(response.statusCode, 302);
    } finally {
      await site.close();
    }
  });

  void test('parses JSON answers and sends JSON bodies; qs goes into the query', async () => {
    const site = await serve((req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ url: req.url, type: req.headers['content-type'] ?? null, accept: req.headers.accept, got: body ? JSON.parse(body) : null }));
    });
    try {
      const request = requestFactory({ json: true });
      const answer = await request({ url: `${site.url}/api`, qs: { page: 2, q: 'a b' } });
      assert.deepEqual(answer, { url: '/api?page=2&q=a+b', type: null, accept: 'application/json', got: null });
      const posted = await requestFactory()({ url: `${site.url}/api`, method: 'POST', json: { hello: 'world' } });
      assert.equal(posted.type, 'application/json');
      assert.deepEqual(posted.got, { hello: 'world' });
    } finally {
      await site.close();
    }
  });

  void test('posts forms urlencoded and returns a cheerio $ for HTML', async () => {
    const site = await serve((req, res, body) => {
      const params = new URLSearchParams(body);
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<ul><li class="t">${req.headers['content-type']}</li><li class="n">${params.get('name')}</li><li class="ua">${req.headers['user-agent']}</li></ul>`);
    });
    try {
      const request = requestFactory({ cheerio: true, userAgent: 'gleaner-test/1' });
      const $ = await request({ url: site.url, method: 'POST', form: { name: 'Zoé & co' } });
      assert.equal($('.t').text(), 'application/x-www-form-urlencoded');
      assert.equal($('.n').text(), 'Zoé & co');
      assert.equal($('.ua').text(), 'gleaner-test/1');
    } finally {
      await site.close();
    }
  });

  void test('HTML is parsed as written by default (htmlparser2); htmlParser parse5 builds the browser tree', async () => {
    const site = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<table id="bills"><tr class="bill"><td><a class="pdf" href="/b1.pdf">B1 &amp; co</a></td></tr></table>`);
    });
    try {
      const written = await requestFactory({ cheerio: true })(site.url);
      assert.equal(written('table#bills tr.bill a.pdf').attr('href'), '/b1.pdf');
      assert.equal(written('a.pdf').text(), 'B1 & co');
      assert.equal(written('table#bills tbody tr').length, 0, 'htmlparser2 adds no tbody');
      assert.equal(written('body').length, 0);

      const browser = await requestFactory({ cheerio: true, htmlParser: 'parse5' })(site.url);
      assert.equal(browser('table#bills tbody tr.bill a.pdf').attr('href'), '/b1.pdf');
      assert.equal(browser('body > table').length, 1);
      assert.equal(browser('a.pdf').text(), 'B1 & co');
    } finally {
      await site.close();
    }
  });

  void test('503 and 429 end with VENDOR_DOWN, 404 with UNKNOWN_ERROR and its status; simple:false resolves', async () => {
    const site = await serve((req, res) => {
      const status = Number(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
    });
    try {
      const request = requestFactory();
      for (const [status, code] of [
        [503, 'VENDOR_DOWN'],
        [429, 'VENDOR_DOWN'],
        [502, 'VENDOR_DOWN'],
        [404, 'UNKNOWN_ERROR'],
        [401, 'UNKNOWN_ERROR'],
      ] as const) {
        await assert.rejects(request(`${site.url}/${status}?token=abc123secret`), (error: unknown) => {
          assert.ok(error instanceof HttpError);
          assert.equal(error.message, code);
          assert.equal(error.statusCode, status);
          assert.doesNotMatch(error.url, /abc123secret/);
          assert.doesNotMatch(JSON.stringify(error), /abc123secret/);
          return true;
        });
      }
      const response = await requestFactory({ simple: false, resolveWithFullResponse: true })(`${site.url}/503`);
      assert.equal(response.statusCode, 503);
      assert.equal(response.body, 'status 503');
    } finally {
      await site.close();
    }
  });

  void test('a site that does not answer in time ends with VENDOR_DOWN; a caller signal aborts too', async () => {
    const site = await serve(async (_req, res) => {
      await sleep(2_000);
      res.end('late');
    });
    try {
      const request = requestFactory({ timeout: 150 });
      const started = Date.now();
      await assert.rejects(request(site.url), (error: unknown) => {
        assert.ok(error instanceof NetworkError);
        assert.equal(error.message, 'VENDOR_DOWN');
        assert.equal(error.timedOut, true);
        return true;
      });
      assert.ok(Date.now() - started < 1_500);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('stop now')), 100);
      await assert.rejects(requestFactory()({ url: site.url, signal: controller.signal }), /stop now/);
    } finally {
      await site.close();
    }
  });

  void test('connection refused ends with VENDOR_DOWN', async () => {
    const site = await serve((_req, res) => void res.end());
    const url = site.url;
    await site.close();
    await assert.rejects(requestFactory()(url), (error: unknown) => {
      assert.ok(error instanceof NetworkError);
      assert.equal(error.message, 'VENDOR_DOWN');
      assert.equal(error.reason, 'ECONNREFUSED');
      return true;
    });
  });

  void test('20 parallel calls never have more than 4 in flight at the server', async () => {
    let inFlight = 0;
    let peak = 0;
    let served = 0;
    const site = await serve(async (_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(40);
      inFlight--;
      served++;
      res.end('ok');
    });
    try {
      const request = requestFactory();
      const other = request.defaults({ headers: { 'x-extra': '1' } });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? request : other)(`${site.url}/${i}`)));
      assert.equal(results.length, 20);
      assert.equal(served, 20);
      assert.equal(peak, 4);
    } finally {
      await site.close();
    }
  });

  void test('debug lines name the URL but never a posted password nor a cookie value', async () => {
    const lines: LogEntry[] = [];
    setLogSink((entry) => lines.push(entry));
    const site = await serve((req, res) => {
      if (req.url?.startsWith('/login')) void res.writeHead(302, { location: '/home', 'set-cookie': 'session=Zq8cookieValue77; Path=/' }).end();
      else void res.writeHead(200, { 'content-type': 'text/html' }).end('<p>home</p>');
    });
    try {
      const request = requestFactory({ jar: true, debug: true });
      await request({ url: `${site.url}/login?otp=918273`, method: 'POST', form: { login: 'alice', password: 'hunter2-very-secret' } });
      const text = lines.map((l) => l.message).join('\n');
      assert.match(text, new RegExp(`${site.url}/login`));
      assert.match(text, /→ POST .*login=alice/);
      assert.match(text, /← 200 GET .*\/home/);
      assert.doesNotMatch(text, /hunter2-very-secret/);
      assert.doesNotMatch(text, /Zq8cookieValue77/);
      assert.doesNotMatch(text, /918273/);
      assert.ok(lines.every((l) => l.level === 'debug'));
    } finally {
      setLogSink(null);
      enableDebug(false);
      await site.close();
    }
  });

  void test('requestStream yields the body in chunks with the jar, and enforces maxBytes', async () => {
    const site = await serve((req, res) => {
      if (req.headers.cookie !== 'k=v') return void res.writeHead(403).end();
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.write(Buffer.alloc(50_000, 1));
        res.end(Buffer.alloc(50_000, 2));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': '3' }).end('PDF');
    });
    try {
      const request = requestFactory({ jar: true });
      await request.jar!.setCookie('k=v', site.url);
      const small = await requestStream(request, `${site.url}/small`);
      const parts: Uint8Array[] = [];
      for await (const chunk of small.body) parts.push(chunk);
      assert.equal(Buffer.concat(parts).toString(), 'PDF');
      assert.equal(small.contentLength, 3);

      await assert.rejects(requestStream(request, `${site.url}/small`, { maxBytes: 2 }), { name: 'FileTooLargeError', message: 'FILE_DOWNLOAD_FAILED' });
      const big = await requestStream(request, `${site.url}/big`, { maxBytes: 60_000 });
      await assert.rejects(
        (async () => {
          for await (const _ of big.body) void _;
        })(),
        { name: 'FileTooLargeError' },
      );
      // Slots were released: more requests still go through.
      for (let i = 0; i < 6; i++) await (await requestStream(request, `${site.url}/small`)).cancel();
      await assert.rejects(requestStream(requestFactory(), `${site.url}/small`), { name: 'HttpError', statusCode: 403 });
    } finally {
      await site.close();
    }
  });

  void test('a kept-alive connection closed by the site is retried once for a GET, never for a POST', async () => {
    // Each connection answers its first request and drops the next one unanswered, as a site does
    // when it closes an idle connection just as the client reuses it.
    const { createServer: createTcpServer } = await import('node:net');
    let connections = 0;
    const server = createTcpServer((socket) => {
      connections += 1;
      let served = 0;
      socket.on('data', () => {
        if (served++ > 0) return socket.destroy();
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const request = requestFactory({ json: true, maxConcurrency: 1 });
      assert.deepEqual(await request(url), { ok: true });
      assert.deepEqual(await request(url), { ok: true }, 'the second GET went out again on a new connection');
      assert.equal(connections, 2);
      await assert.rejects(request({ url, method: 'POST', body: { a: 1 } }), (error: unknown) => {
        assert.ok(error instanceof NetworkError);
        assert.equal(error.message, 'VENDOR_DOWN');
        return true;
      });
      assert.equal(connections, 2, 'the POST was not sent twice');
    } finally {
      await closeAllAgents();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

