import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { URLSearchParams } from 'node:url';

/**
 * A fake third-party website on 127.0.0.1, shared by the peer and Gleaner konnectors:
 *
 *   GET  /page              ~25 KB HTML table, Set-Cookie each time (figure 2)
 *   GET  /login             login form (#login) with a hidden csrf input
 *   POST /login             login, password, csrf → 302 /2fa, session cookie `sid`
 *   GET  /2fa               2FA form (#twofa) with input `code`
 *   POST /2fa               code → 302 /bills when right, the form again with .error when wrong
 *   GET  /bills             table#bills of `bills` rows: tr.bill[data-id] > td.date, td.amount, a.pdf[href]
 *   GET  /bills/<id>.pdf    `billBytes` of application/pdf (needs a logged-in session)
 *   GET  /__stats           the counters below, as JSON, for a harness in another process
 *
 * Every request waits `latencyMs` first (a remote site is never instant), and the site counts how
 * many requests it holds at once: that is how figure 4 sees whether a konnector downloads in series.
 */
export async function startFakeSite({
  latencyMs = 0,
  bills = 200,
  billBytes = 50 * 1024,
  pageBytes = 25 * 1024,
  login = 'bench-user',
  password = 'bench-password',
  twoFaCode = '123456',
  /** Called as each request arrives, before the latency: figure 4 reads the konnector's RSS at the first. */
  onRequest,
} = {}) {
  const sessions = new Map(); // sid → 'password-ok' | 'in'
  const stats = newStats();
  const page = renderPage(pageBytes);
  const billIds = Array.from({ length: bills }, (_, i) => `B${String(i + 1).padStart(4, '0')}`);
  const billsPage = renderBills(billIds);
  const pdf = fakePdf(billBytes);
  let visits = 0;

  const server = createServer((req, res) => {
    onRequest?.(req);
    stats.requests++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => stats.inFlight--);
    const handle = () =>
      route(req, res).catch((err) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      });
    if (latencyMs > 0) setTimeout(handle, latencyMs);
    else handle();
  });

  async function route(req, res) {
    const url = new URL(req.url, 'http://site');
    const cookies = parseCookies(req.headers.cookie);
    const session = sessions.get(cookies.sid);
    const key = `${req.method} ${url.pathname}`;

    if (key === 'GET /page') {
      if (cookies.visit) stats.requestsWithCookie++;
      visits++;
      return send(res, 200, page, 'text/html; charset=utf-8', {
        'set-cookie': [`visit=${visits}; Path=/; HttpOnly`, `pref=compact; Path=/`],
      });
    }
    if (key === 'GET /__stats') return send(res, 200, JSON.stringify(stats), 'application/json');
    if (key === 'GET /login') return send(res, 200, loginForm(), 'text/html; charset=utf-8');
    if (key === 'POST /login') {
      const form = new URLSearchParams(await readBody(req));
      if (form.get('login') !== login || form.get('password') !== password || form.get('csrf') !== 'bench-csrf') {
        stats.loginFailures++;
        return send(res, 200, loginForm('Wrong login or password'), 'text/html; charset=utf-8');
      }
      const sid = randomBytes(12).toString('hex');
      sessions.set(sid, 'password-ok');
      return redirect(res, '/2fa', { 'set-cookie': `sid=${sid}; Path=/; HttpOnly` });
    }
    if (key === 'GET /2fa') {
      if (!session) return redirect(res, '/login');
      return send(res, 200, twoFaForm(), 'text/html; charset=utf-8');
    }
    if (key === 'POST /2fa') {
      if (session !== 'password-ok') return redirect(res, '/login');
      const form = new URLSearchParams(await readBody(req));
      if (form.get('code') !== twoFaCode) {
        stats.twoFaFailures++;
        return send(res, 200, twoFaForm('Wrong code'), 'text/html; charset=utf-8');
      }
      sessions.set(cookies.sid, 'in');
      stats.logins++;
      return redirect(res, '/bills');
    }
    if (key === 'GET /bills') {
      if (session !== 'in') return redirect(res, '/login');
      return send(res, 200, billsPage, 'text/html; charset=utf-8');
    }
    const bill = /^\/bills\/(B\d{4})\.pdf$/.exec(url.pathname);
    if (req.method === 'GET' && bill && billIds.includes(bill[1])) {
      if (session !== 'in') return send(res, 401, 'login first', 'text/plain');
      stats.downloads++;
      stats.downloadedBytes += pdf.length;
      return send(res, 200, pdf, 'application/pdf', {
        'content-disposition': `attachment; filename="${bill[1]}.pdf"`,
      });
    }
    stats.notFound++;
    return send(res, 404, 'not found', 'text/plain');
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    credentials: { login, password },
    twoFaCode,
    billIds,
    billBytes: pdf.length,
    stats: () => ({ ...stats }),
    resetStats: () => Object.assign(stats, newStats()),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const newStats = () => ({
  requests: 0,
  inFlight: 0,
  maxInFlight: 0,
  requestsWithCookie: 0,
  logins: 0,
  loginFailures: 0,
  twoFaFailures: 0,
  downloads: 0,
  downloadedBytes: 0,
  notFound: 0,
});

function send(res, status, body, type, headers = {}) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function redirect(res, location, headers = {}) {
  res.writeHead(302, { location, 'content-length': 0, ...headers });
  res.end();
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function parseCookies(header = '') {
  const out = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

const layout = (title, body) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} — Bench Utility Co.</title>` +
  `<link rel="stylesheet" href="/static/site.css"></head><body><header><nav><a href="/">Home</a> ` +
  `<a href="/bills">Bills</a> <a href="/account">Account</a></nav></header><main>${body}</main>` +
  `<footer><p>Bench Utility Co. — a fake site on 127.0.0.1</p></footer></body></html>`;

function loginForm(error) {
  return layout(
    'Sign in',
    `${error ? `<p class="error">${error}</p>` : ''}<form id="login" method="post" action="/login">` +
      `<input type="hidden" name="csrf" value="bench-csrf"><input name="login" type="text">` +
      `<input name="password" type="password"><button type="submit">Sign in</button></form>`,
  );
}

function twoFaForm(error) {
  return layout(
    'Verify',
    `${error ? `<p class="error">${error}</p>` : ''}<p>We sent a code by SMS.</p>` +
      `<form id="twofa" method="post" action="/2fa"><input name="code" inputmode="numeric">` +
      `<button type="submit">Verify</button></form>`,
  );
}

function billRow(id, i) {
  const month = String((i % 12) + 1).padStart(2, '0');
  const year = 2015 + Math.floor(i / 12);
  const amount = (10 + ((i * 7919) % 9000) / 100).toFixed(2);
  return (
    `<tr class="bill" data-id="${id}"><td class="date">${year}-${month}-05</td>` +
    `<td class="label">Electricity and gas, monthly plan, contract 0042-${id}</td>` +
    `<td class="amount">${amount}</td><td><a class="pdf" href="/bills/${id}.pdf" ` +
    `title="Download bill ${id}">PDF</a></td></tr>`
  );
}

const billTable = (rows) =>
  `<table id="bills"><thead><tr><th>Date</th><th>Label</th><th>Amount (EUR)</th><th>File</th></tr>` +
  `</thead><tbody>${rows.join('')}</tbody></table>`;

function renderBills(ids) {
  return layout('Your bills', `<h1>Your bills</h1>${billTable(ids.map(billRow))}`);
}

/** Grows the bills table until the page reaches about `bytes`. */
function renderPage(bytes) {
  const rows = [];
  let html = '';
  while (html.length < bytes) {
    rows.push(billRow(`B${String(rows.length + 1).padStart(4, '0')}`, rows.length));
    html = layout('Your bills', `<h1>Your bills</h1>${billTable(rows)}`);
  }
  return html;
}

/** Bytes that start like a PDF; their content does not matter to a download. */
function fakePdf(bytes) {
  const head = Buffer.from('%PDF-1.4\n% bench bill\n');
  const body = Buffer.alloc(bytes - head.length, 'BT /F1 12 Tf 72 712 Td (Bench bill) Tj ET\n');
  return Buffer.concat([head, body]);
}
