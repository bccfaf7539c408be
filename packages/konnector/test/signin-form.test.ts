import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setLogSink } from '../src/core/log.js';
import type { LogEntry } from '../src/host/host.js';
import { closeAllAgents, requestFactory } from '../src/request.js';
import type { CheerioAPI } from 'cheerio';
import { formValues, submitForm } from '../src/form.js';
import { signin } from '../src/signin.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

async function serve(handler: Handler): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
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

const LOGIN_PAGE = `<!doctype html><html><body>
<form id="search" action="/search"><input name="q"></form>
<form id="login" action="session" method="post">
  <input type="hidden" name="csrf" value="tok-8c1f">
  <input name="login" value="">
  <input type="password" name="password">
  <input type="checkbox" name="remember" checked>
  <input type="checkbox" name="newsletter">
  <select name="lang"><option value="en">en</option><option value="fr" selected>fr</option></select>
  <input type="submit" name="go" value="Sign in">
</form></body></html>`;

/** A site whose login needs the CSRF token of the page and the session cookie it set with it. */
function loginSite(received: Array<Record<string, string>>): Handler {
  return (req, res, body) => {
    if (req.method === 'GET' && req.url === '/auth/login') {
      res.writeHead(200, { 'content-type': 'text/html', 'set-cookie': 'pre=abcd1234; Path=/' });
      res.end(LOGIN_PAGE);
    } else if (req.method === 'POST' && req.url === '/auth/session') {
      const form = Object.fromEntries(new URLSearchParams(body));
      received.push(form);
      const ok =
        form['csrf'] === 'tok-8c1f' && req.headers.cookie === 'pre=abcd1234' && form['password'] === 'right-password';
      if (ok) {
        res.writeHead(302, { location: '/home', 'set-cookie': 'sid=logged-in-0001; Path=/' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<form id="login"><p class="error">Wrong credentials</p></form>');
      }
    } else if (req.url === '/home') {
      const logged = req.headers.cookie?.includes('sid=logged-in-0001');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(logged ? '<a href="/logout">Log out</a><span id="name">Alice</span>' : '<p>who are you?</p>');
    } else {
      res.writeHead(404);
      res.end();
    }
  };
}

void after(async () => {
  await closeAllAgents();
});

void describe('signin', () => {
  void test('keeps the CSRF token and the form defaults, overlays formData, posts to the relative action, follows the redirect', async () => {
    const received: Array<Record<string, string>> = [];
    const site = await serve(loginSite(received));
    try {
      const request = requestFactory({ jar: true });
      const { $, response } = await signin({
        url: `${site.url}/auth/login`,
        formSelector: 'form#login',
        formData: { login: 'alice', password: 'right-password' },
        validate: (status, $page) => status === 200 && $page('a[href="/logout"]').length === 1,
        request,
      });
      assert.equal($('#name').text(), 'Alice');
      assert.equal(response.url, `${site.url}/home`);
      assert.deepEqual(received, [
        { csrf: 'tok-8c1f', login: 'alice', password: 'right-password', remember: 'on', lang: 'fr' },
      ]);
      // The session lives in the caller's jar.
      const cookies = await request.jar!.getCookieString(`${site.url}/home`);
      assert.match(cookies, /sid=logged-in-0001/);
    } finally {
      await site.close();
    }
  });

  void test("signin's result chains into submitForm: the page after the login is a Page, its form posted from its own URL", async () => {
    const received: Array<Record<string, string>> = [];
    const handler = loginSite(received);
    const site = await serve((req, res, body) => {
      if (req.url === '/home') {
        // After the login, a code form whose action is relative to the page it is on.
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          '<a href="/logout">Log out</a><form id="otp" method="post" action="otp/check"><input type="hidden" name="step" value="2"><input name="code"></form>',
        );
      } else if (req.method === 'POST' && req.url === '/otp/check') {
        received.push(Object.fromEntries(new URLSearchParams(body)));
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">in</p>');
      } else handler(req, res, body);
    });
    try {
      const request = requestFactory({ jar: true });
      const login = await signin({
        url: `${site.url}/auth/login`,
        formSelector: 'form#login',
        formData: { login: 'alice', password: 'right-password' },
        request,
      });
      assert.equal(login.url, `${site.url}/home`);
      const next = await submitForm(login, '#otp', { code: '246810' }, { request });
      assert.equal(next.$('#done').text(), 'in');
      assert.equal(next.url, `${site.url}/otp/check`);
      assert.deepEqual(received.at(-1), { step: '2', code: '246810' });
    } finally {
      await site.close();
    }
  });

  void test('formData may be a function of the page', async () => {
    const received: Array<Record<string, string>> = [];
    const site = await serve(loginSite(received));
    try {
      await signin({
        url: `${site.url}/auth/login`,
        formSelector: '#login',
        formData: ($) => ({ login: 'alice', password: 'right-password', echo: $('input[name=csrf]').val() as string }),
      });
      assert.equal(received[0]?.['echo'], 'tok-8c1f');
    } finally {
      await site.close();
    }
  });

  void test('a refused login ends with LOGIN_FAILED', async () => {
    const received: Array<Record<string, string>> = [];
    const site = await serve(loginSite(received));
    try {
      await assert.rejects(
        signin({
          url: `${site.url}/auth/login`,
          formSelector: 'form#login',
          formData: { login: 'alice', password: 'wrong-password' },
          validate: (_status, $) => $('.error').length === 0,
        }),
        { name: 'KonnectorError', message: 'LOGIN_FAILED' },
      );
      assert.equal(received.length, 1);
    } finally {
      await site.close();
    }
  });

  for (const status of [429, 503]) {
    void test(`a login answered ${status} ends with VENDOR_DOWN, not LOGIN_FAILED, even with a validate`, async () => {
      const site = await serve((req, res) => {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html' }).end(LOGIN_PAGE);
          return;
        }
        res.writeHead(status, { 'content-type': 'text/html' }).end('<p class="error">Try again later</p>');
      });
      try {
        await assert.rejects(
          signin({
            url: `${site.url}/auth/login`,
            formSelector: 'form#login',
            formData: { login: 'alice', password: 'alice-password' },
            validate: (_status, $) => $('.error').length === 0,
          }),
          (error: Error & { statusCode?: number }) => {
            assert.equal(error.name, 'HttpError');
            assert.equal(error.message, 'VENDOR_DOWN');
            assert.equal(error.statusCode, status);
            return true;
          },
        );
      } finally {
        await site.close();
      }
    });
  }

  void test('submitForm: a form without a method is sent as a GET with its values in the query; a 4xx answer is returned', async () => {
    const seen: string[] = [];
    const site = await serve((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(req.url?.startsWith('/search') ? 404 : 200, { 'content-type': 'text/html' }).end(LOGIN_PAGE);
    });
    try {
      const request = requestFactory({ jar: true, cheerio: true });
      const $ = (await request(`${site.url}/auth/login`)) as CheerioAPI;
      assert.deepEqual(formValues($, 'form#login'), {
        csrf: 'tok-8c1f',
        login: '',
        password: '',
        remember: 'on',
        lang: 'fr',
      });
      assert.equal(formValues($, 'form#nope'), null);
      const page = await submitForm(
        { $, url: `${site.url}/auth/login` },
        'form#search',
        { q: 'bills 2030' },
        { request },
      );
      assert.equal(page.response.statusCode, 404);
      assert.equal(seen.at(-1), 'GET /search?q=bills+2030');
      assert.equal(page.$('form#login').length, 1, 'the answer is parsed');
    } finally {
      await site.close();
    }
  });

  void test('a missing form fails clearly, naming the selector and the URL', async () => {
    const lines: LogEntry[] = [];
    setLogSink((entry) => lines.push(entry));
    const site = await serve(loginSite([]));
    try {
      await assert.rejects(
        signin({ url: `${site.url}/auth/login`, formSelector: 'form#signin', formData: {} }),
        (error: Error & { selector?: string; url?: string }) => {
          assert.equal(error.name, 'FormNotFoundError');
          assert.equal(error.message, 'UNKNOWN_ERROR');
          assert.equal(error.selector, 'form#signin');
          assert.equal(error.url, `${site.url}/auth/login`);
          return true;
        },
      );
      assert.ok(
        lines.some(
          (l) => l.level === 'error' && l.message.includes('form#signin') && l.message.includes('/auth/login'),
        ),
      );
    } finally {
      setLogSink(null);
      await site.close();
    }
  });
});
