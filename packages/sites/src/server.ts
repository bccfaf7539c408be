import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createAmazonSite } from './amazon-site.js';
import { createClock, type SiteClock } from './clock.js';
import type { SiteControl } from './control.js';
import { createGithubSite } from './github-site.js';
import { Ctx, esc, listen, splitUrl } from './http-kit.js';
import { Outbox } from './outbox.js';
import type { SiteApp } from './site-app.js';
import { createTestSite } from './test-site.js';

export interface RunningSites {
  /** Base URL of the index page: http://127.0.0.1:PORT */
  url: string;
  github: string;
  amazon: string;
  test: string;
  /** The shared outbox page (its JSON twin is `${outbox}.json`). */
  outbox: string;
  controls: { github: SiteControl; amazon: SiteControl; test: SiteControl };
  /** The clock all three sites share. */
  clock: SiteClock;
  close(): Promise<void>;
}

export interface StartSitesOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: '127.0.0.1';
  /** Where the sites' e-mails go out (SMTP, no TLS), besides the outbox: a test's mail server. */
  smtp?: { host: string; port: number };
}

/** Starts all fake sites on one port, under /github, /amazon and /test, sharing one clock and one outbox at /outbox. */
export async function startSites(opts: StartSitesOptions = {}): Promise<RunningSites> {
  const clock = createClock();
  const outbox = new Outbox(clock, opts.smtp ? { smtp: opts.smtp } : {});
  const apps: Record<'github' | 'amazon' | 'test', SiteApp> = {
    github: createGithubSite({ clock, outbox }),
    amazon: createAmazonSite({ clock, outbox }),
    test: createTestSite({ clock, outbox }),
  };
  const mounts = Object.entries(apps).map(([name, app]) => ({ prefix: `/${name}`, app }));

  const listening = await listen(
    async (req, res) => {
      const { pathname, search } = splitUrl(req.url);
      const mount = mounts.find((m) => pathname === m.prefix || pathname.startsWith(`${m.prefix}/`));
      if (mount) {
        await mount.app.handle(req, res, mount.prefix, pathname.slice(mount.prefix.length) || '/', search);
        return;
      }
      const ctx = new Ctx(req, res, '', pathname, search);
      if (outbox.handle(ctx)) return;
      if (pathname === '/_control/reset' && ctx.method === 'POST') {
        for (const app of Object.values(apps)) app.control.reset();
        ctx.sendJson({ ok: true });
        return;
      }
      if (pathname === '/_control/clock/advance' && ctx.method === 'POST') {
        const body = (await ctx.json()) as { ms?: unknown };
        if (typeof body.ms !== 'number' || body.ms < 0) {
          ctx.sendJson({ error: 'ms must be a non-negative number' }, 400);
          return;
        }
        clock.advance(body.ms);
        ctx.sendJson({ now: clock.now() });
        return;
      }
      if (pathname === '/') {
        ctx.html(indexPage());
        return;
      }
      ctx.html('<!doctype html><title>Not Found</title><h1>404 Not Found</h1>', 404);
    },
    opts.port ?? 0,
    opts.host ?? '127.0.0.1',
  );

  const base = listening.origin;
  return {
    url: base,
    github: `${base}/github`,
    amazon: `${base}/amazon`,
    test: `${base}/test`,
    outbox: `${base}/outbox`,
    controls: { github: apps.github.control, amazon: apps.amazon.control, test: apps.test.control },
    clock,
    close: async () => {
      for (const app of Object.values(apps)) app.abort();
      await listening.close();
    },
  };
}

function indexPage(): string {
  const link = (href: string, label: string, note: string): string =>
    `<li><a href="${esc(href)}">${esc(label)}</a>: ${esc(note)}</li>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Gleaner fake sites</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}</style></head>
<body data-page="index"><h1>Gleaner fake sites</h1>
<p>Fake third-party websites with real two-factor flows, for tests and the demo. Nothing here is a real service.</p>
<ul>
${link('/github/login', 'GitHub-like', 'authenticator app, or device verification by e-mail')}
${link('/amazon/ap/signin', 'Amazon-like', 'two-step sign-in, OTP by SMS, e-mail or app, captcha')}
${link('/test/login', 'Test site', 'small generic 2FA site')}
${link('/outbox', 'Outbox', 'the fake phone, mailbox and authenticator app')}
</ul></body></html>`;
}

function parsePort(argv: string[]): number {
  const i = argv.findIndex((a) => a === '--port' || a.startsWith('--port='));
  if (i < 0) return 0;
  const raw = argv[i]?.includes('=') ? argv[i]?.split('=')[1] : argv[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${raw ?? ''}`);
  return port;
}

async function main(): Promise<void> {
  const sites = await startSites({ port: parsePort(process.argv.slice(2)) });
  console.log(`Gleaner fake sites on ${sites.url}
  GitHub-like  ${sites.github}/login
  Amazon-like  ${sites.amazon}/ap/signin
  Test site    ${sites.test}/login
  Outbox       ${sites.outbox}
Demo users: see docs/sites.md. Ctrl-C to stop.`);
  const stop = (): void => {
    sites.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
