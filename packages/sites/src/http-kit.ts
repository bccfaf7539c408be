import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Escapes text for HTML element content and attribute values. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function randomToken(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/** A numeric one-time code, uniformly drawn (no modulo bias). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/** Compares secrets in constant time; differing lengths are simply unequal. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * A CSRF token bound to the visitor cookie: a form posted without the cookie the
 * page was served with, or with another visitor's token, is refused.
 */
export function csrfToken(key: Buffer, visitorId: string): string {
  return createHmac('sha256', key).update(`csrf:${visitorId}`).digest('base64url');
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

export interface CookieOptions {
  /** Lifetime in ms; omitted means a browser-session cookie. */
  maxAgeMs?: number;
  /** Defaults to true: only cookies a page script really needs are readable. */
  httpOnly?: boolean;
}

const BODY_LIMIT = 256 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One request as seen by a site mounted under `prefix`; `path` is relative to it. */
export class Ctx {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  readonly cookies: Record<string, string>;
  private readonly outCookies: string[] = [];
  private bodyPromise: Promise<string> | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly prefix: string,
    path: string,
    search: string,
  ) {
    this.method = (req.method ?? 'GET').toUpperCase();
    this.path = path;
    this.query = new URLSearchParams(search);
    this.cookies = parseCookies(req.headers.cookie);
  }

  /** A site path as the browser must see it (prefix included). */
  url(sitePath: string): string {
    return `${this.prefix}${sitePath}`;
  }

  /** The requested path and query, prefix included: what `return_to` carries. */
  get fullPath(): string {
    const search = this.query.toString();
    return `${this.prefix}${this.path}${search ? `?${search}` : ''}`;
  }

  get cookiePath(): string {
    return this.prefix || '/';
  }

  wantsJson(): boolean {
    return this.query.get('format') === 'json' || /application\/json/.test(this.req.headers.accept ?? '');
  }

  private readBody(): Promise<string> {
    this.bodyPromise ??= new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      this.req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > BODY_LIMIT) {
          reject(new HttpError(413, 'Request body too large'));
          this.req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      this.req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      this.req.on('error', reject);
    });
    return this.bodyPromise;
  }

  /** The urlencoded form body (also accepts a JSON object, for scripted clients). */
  async form(): Promise<URLSearchParams> {
    const body = await this.readBody();
    const type = this.req.headers['content-type'] ?? '';
    if (type.includes('application/json')) {
      const parsed = await this.json();
      const out = new URLSearchParams();
      if (parsed && typeof parsed === 'object') {
        for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) out.set(k, String(v));
      }
      return out;
    }
    return new URLSearchParams(body);
  }

  async json(): Promise<unknown> {
    const body = await this.readBody();
    if (!body.trim()) return {};
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new HttpError(400, 'Body is not valid JSON');
    }
  }

  setCookie(name: string, value: string, opts: CookieOptions = {}): void {
    const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${this.cookiePath}`, 'SameSite=Lax'];
    if (opts.maxAgeMs !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAgeMs / 1000))}`);
    if (opts.httpOnly !== false) parts.push('HttpOnly');
    this.outCookies.push(parts.join('; '));
  }

  clearCookie(name: string): void {
    this.outCookies.push(`${name}=; Path=${this.cookiePath}; Max-Age=0; SameSite=Lax; HttpOnly`);
  }

  private send(status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
    if (this.res.headersSent) return;
    if (this.outCookies.length) this.res.setHeader('Set-Cookie', this.outCookies);
    this.res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      ...headers,
    });
    this.res.end(this.method === 'HEAD' ? undefined : body);
  }

  html(body: string, status = 200): void {
    this.send(status, 'text/html; charset=utf-8', body);
  }

  sendJson(value: unknown, status = 200): void {
    this.send(status, 'application/json; charset=utf-8', JSON.stringify(value, null, 2));
  }

  text(body: string, status = 200, headers: Record<string, string> = {}): void {
    this.send(status, 'text/plain; charset=utf-8', body, headers);
  }

  pdf(bytes: Buffer, filename: string): void {
    this.send(200, 'application/pdf', bytes, { 'Content-Disposition': `inline; filename="${filename}"` });
  }

  /** Redirects to a site path (the prefix is added). */
  redirect(sitePath: string, status = 302): void {
    this.redirectRaw(this.url(sitePath), status);
  }

  /** Redirects to a path that already carries the prefix (e.g. a checked return_to). */
  redirectRaw(location: string, status = 302): void {
    if (this.res.headersSent) return;
    if (this.outCookies.length) this.res.setHeader('Set-Cookie', this.outCookies);
    this.res.writeHead(status, { Location: location, 'Content-Length': '0', 'Cache-Control': 'no-store' });
    this.res.end();
  }

  /**
   * Accepts a `return_to` only if it stays inside this site, so a crafted link
   * cannot bounce a freshly signed-in person to another origin.
   */
  safeReturnTo(value: string | null | undefined, fallbackSitePath: string): string {
    const base = `${this.prefix}/`;
    if (value && value.startsWith(base) && !value.startsWith('//') && !/[\\\r\n]/.test(value)) return value;
    return this.url(fallbackSitePath);
  }
}

export type Handler = (ctx: Ctx) => void | Promise<void>;

interface Route {
  method: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

/** A tiny router: `/bills/:id.pdf` style patterns, matched on the site-relative path. */
export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const source = pattern
      .split(/(:[A-Za-z_]+)/)
      .map((piece) => {
        if (piece.startsWith(':')) {
          names.push(piece.slice(1));
          return '([^/]+?)';
        }
        return piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    this.routes.push({ method, regex: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.on('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.on('POST', pattern, handler);
  }

  delete(pattern: string, handler: Handler): this {
    return this.on('DELETE', pattern, handler);
  }

  /** Runs the matching route; answers 404/405 itself. */
  async dispatch(ctx: Ctx): Promise<void> {
    let pathMatched = false;
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    for (const route of this.routes) {
      const m = route.regex.exec(ctx.path);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      route.names.forEach((name, i) => {
        ctx.params[name] = decodeURIComponent(m[i + 1] ?? '');
      });
      await route.handler(ctx);
      return;
    }
    if (pathMatched) ctx.text('Method Not Allowed', 405);
    else ctx.html(`<!doctype html><title>Not Found</title><h1>404 Not Found</h1><p>${esc(ctx.path)}</p>`, 404);
  }
}

/** Turns an error thrown by a handler into a response without leaking internals. */
export function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof HttpError ? err.status : 500;
  const message = err instanceof HttpError ? err.message : 'Internal Server Error';
  if (status === 500) console.error('[sites] handler failed:', err instanceof Error ? err.message : 'unknown error');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(message);
}

export { HttpError };

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export interface Listening {
  origin: string;
  close(): Promise<void>;
}

/** Serves `listener` on 127.0.0.1 (port 0 = any free port). */
export async function listen(listener: RequestListener, port = 0, host = '127.0.0.1'): Promise<Listening> {
  const server = createServer((req, res) => {
    listener(req, res).catch((err: unknown) => sendError(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Splits a request URL into pathname and search. */
export function splitUrl(rawUrl: string | undefined): { pathname: string; search: string } {
  const url = new URL(rawUrl ?? '/', 'http://site.invalid');
  return { pathname: url.pathname, search: url.search };
}

/** `+33 6 12 34 56 78` → `•••• 78`: what a site shows to say where it sent a code. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  return `•••• ${digits.slice(-2)}`;
}

/** `+33 6 12 34 56 78` → `+33 6 •• •• •• 78`: the country code, the first digit and the last two kept, as a code page shows it. */
export function maskPhoneNumber(phone: string): string {
  const match = /^(\+\d{1,3})\s*(\d)(.*)$/.exec(phone.trim());
  const digits = phone.replace(/\D/g, '');
  if (!match) return `•• •• •• ${digits.slice(-2)}`;
  const rest = (match[3] ?? '').replace(/\D/g, '');
  const hidden = Math.max(0, rest.length - 2);
  const pairs = Array.from({ length: Math.ceil(hidden / 2) }, () => '••').join(' ');
  return `${match[1]} ${match[2]} ${pairs} ${rest.slice(-2)}`.replace(/\s+/g, ' ');
}

/** `bob@example.test` → `b••@example.test`. */
export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at < 1) return '•••';
  return `${email[0] ?? ''}${'•'.repeat(Math.max(2, at - 1))}${email.slice(at)}`;
}

/** A small deterministic hash, for per-user fake amounts that stay the same across runs. */
export function stableHash(value: string): number {
  let h = 2166136261;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
