import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/**
 * The wire under `requestFactory`: Node's own http client (its llhttp parser is native code in the
 * node binary). undici, used before, cost every konnector ~0.1 s of CPU to import and compiled its
 * llhttp parser from WebAssembly at the first request, a ~35 MB peak of RSS for a run that otherwise
 * stays near 60 MB (bench figure 4 has the numbers).
 */

type Https = typeof import('node:https');
let httpsModule: Promise<Https> | undefined;

/** TLS is loaded with the first https:// request only: a konnector tested on http never pays for it. */
function loadHttps(): Promise<Https> {
  httpsModule ??= import('node:https');
  return httpsModule;
}

/**
 * Idle connections are dropped after 4 s, or sooner when the site says so (Keep-Alive: timeout=…):
 * many servers close theirs at 5 s, and a connection reused just as the site closes it fails.
 */
const IDLE_MS = 4_000;

export type WireResponse = {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** Unread; read it whole (`readAll`), chunk by chunk, or drop it (`dump`). */
  body: IncomingMessage;
};

export type WireRequest = {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  signal: AbortSignal;
};

const open = new Set<ConnectionPool>();

/** Kept-alive connections to the sites of one request session, at most `connections` per origin. */
export class ConnectionPool {
  readonly #connections: number;
  #http: HttpAgent | undefined;
  #https: HttpAgent | undefined;
  #inFlight = 0;
  #settled: Array<() => void> = [];

  constructor(connections: number) {
    this.#connections = connections;
    open.add(this);
  }

  get open(): boolean {
    return open.has(this);
  }

  async #agent(protocol: string): Promise<{ agent: HttpAgent; send: typeof httpRequest }> {
    const options = { keepAlive: true, maxSockets: this.#connections, maxFreeSockets: this.#connections, timeout: IDLE_MS };
    if (protocol === 'http:') return { agent: (this.#http ??= new HttpAgent(options)), send: httpRequest };
    if (protocol === 'https:') {
      const https = await loadHttps();
      return { agent: (this.#https ??= new https.Agent(options)), send: https.request };
    }
    throw new TypeError(`request: unsupported protocol ${JSON.stringify(protocol)} (http: or https: only)`);
  }

  /** Sends one request; resolves when the answer's head has arrived, its body unread. */
  async send(url: string, request: WireRequest): Promise<WireResponse> {
    const target = new URL(url);
    const { agent, send } = await this.#agent(target.protocol);
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    this.#inFlight++;
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#settled.splice(0)) wake();
    };
    return new Promise<WireResponse>((resolve, reject) => {
      const req = send(target, { method: request.method, headers, agent, signal: request.signal });
      // 'error' may come after the answer (the site drops the body): the body's reader sees it too.
      req.on('error', (error) => {
        finished();
        reject(error);
      });
      req.on('close', finished);
      req.once('response', (res) => {
        // An error on a body nobody reads yet must not crash the process; readers still get it.
        res.on('error', () => undefined);
        res.once('close', finished);
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res });
      });
      req.end(request.body);
    });
  }

  /** Resolves once no request of this pool is in flight, or after `ms`. */
  #quiet(ms: number): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#settled.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes every connection; requests still running get `graceMs` to finish first. */
  async close(graceMs: number): Promise<void> {
    open.delete(this);
    await this.#quiet(graceMs);
    this.#http?.destroy();
    this.#https?.destroy();
  }
}

/** The whole body; for pages and JSON, which are parsed whole anyway (files go through requestStream). */
export async function readAll(body: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/**
 * Reads and drops a body so that its connection can be reused; past `limit` bytes the connection is
 * closed instead (reading a large unwanted body costs more than a new connection).
 */
export function dump(body: IncomingMessage, limit = 128 * 1024): Promise<void> {
  if (body.readableEnded || body.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    body.on('data', (chunk: Buffer) => {
      seen += chunk.byteLength;
      if (seen > limit) body.destroy();
    });
    body.once('end', resolve);
    body.once('close', resolve);
  });
}

/** Drops a body at once, closing its connection. */
export function discard(body: IncomingMessage): void {
  if (!body.destroyed) body.destroy();
}

/** Closes every pool so that the process can exit; requests still running get `graceMs` to finish. */
export async function closeAllPools(graceMs = 1_000): Promise<void> {
  const pools = [...open];
  await Promise.all(pools.map((pool) => pool.close(graceMs)));
}
