import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClock, type SiteClock } from './clock.js';
import { controlRouter, createControl, type SiteControl } from './control.js';
import { Ctx, esc, listen, splitUrl, type Router } from './http-kit.js';
import { Outbox } from './outbox.js';
import type { SiteState } from './site-state.js';

/** A fake site ready to be served on its own port or mounted under a prefix. */
export interface SiteApp {
  readonly name: string;
  readonly state: SiteState;
  readonly control: SiteControl;
  /** Serves one request; `path` is relative to `prefix`. */
  handle(req: IncomingMessage, res: ServerResponse, prefix: string, path: string, search: string): Promise<void>;
  /** Cuts short the responses that fault injection is holding back. */
  abort(): void;
}

export interface RunningSite {
  /** Base URL, prefix included: http://127.0.0.1:PORT[/prefix] */
  url: string;
  close(): Promise<void>;
  control: SiteControl;
}

export interface StartSiteOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** Serve the site under this path (e.g. `/github`); every link and redirect follows. */
  prefix?: string;
  /** Share a clock between sites (startSites does). */
  clock?: SiteClock;
  /** Share an outbox between sites (startSites does). */
  outbox?: Outbox;
}

export interface SiteParts {
  clock: SiteClock;
  outbox: Outbox;
}

export function siteParts(opts: StartSiteOptions = {}): SiteParts {
  const clock = opts.clock ?? opts.outbox?.clock ?? createClock();
  return { clock, outbox: opts.outbox ?? new Outbox(clock) };
}

/** Normalizes a mount prefix to '' or '/a/b' (no trailing slash). */
export function normalizePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return '';
  const trimmed = `/${prefix.replace(/^\/+|\/+$/g, '')}`;
  if (!/^(\/[A-Za-z0-9._-]+)+$/.test(trimmed)) throw new Error(`invalid prefix ${prefix}`);
  return trimmed;
}

/** Wraps a site's router with the parts every site shares: control API, outbox pages, faults, counters. */
export function createSiteApp(state: SiteState, router: Router): SiteApp {
  const control = createControl(state);
  const controls = controlRouter(control);
  let aborter = new AbortController();
  return {
    name: state.site,
    state,
    control,
    abort() {
      aborter.abort();
      aborter = new AbortController();
    },
    async handle(req, res, prefix, path, search) {
      const ctx = new Ctx(req, res, prefix, path, search);
      if (path === '/_control' || path.startsWith('/_control/')) {
        await controls.dispatch(ctx);
        return;
      }
      if (state.outbox.handle(ctx)) return;
      state.countRequest(ctx.method, path);
      const fault = state.takeFaults(path, `${prefix}${path}`);
      if (fault.delayMs > 0) {
        try {
          await sleep(fault.delayMs, undefined, { signal: aborter.signal });
        } catch {
          res.destroy();
          return;
        }
      }
      if (fault.status !== undefined) {
        const headers: Record<string, string> =
          fault.status === 429 || fault.status === 503 ? { 'Retry-After': '30' } : {};
        const title =
          fault.status === 429 ? 'Too Many Requests' : fault.status === 503 ? 'Service Unavailable' : 'Error';
        ctx.text(`${fault.status} ${title}`, fault.status, headers);
        return;
      }
      await router.dispatch(ctx);
    },
  };
}

/** Serves one site on its own port. */
export async function serveSite(app: SiteApp, opts: StartSiteOptions = {}): Promise<RunningSite> {
  const prefix = normalizePrefix(opts.prefix);
  const listening = await listen(
    async (req, res) => {
      const { pathname, search } = splitUrl(req.url);
      if (prefix && pathname !== prefix && !pathname.startsWith(`${prefix}/`)) {
        res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><h1>404</h1><p>This server serves <a href="${esc(prefix)}/">${esc(prefix)}/</a></p>`);
        return;
      }
      await app.handle(req, res, prefix, pathname.slice(prefix.length) || '/', search);
    },
    opts.port ?? 0,
    opts.host ?? '127.0.0.1',
  );
  return {
    url: `${listening.origin}${prefix}`,
    control: app.control,
    close: async () => {
      app.abort();
      await listening.close();
    },
  };
}
