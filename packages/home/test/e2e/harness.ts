import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** The repository's root (this file runs from packages/home/dist-test/test/e2e/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
export const SCREENSHOTS = join(REPO_ROOT, 'artifacts', 'screenshots');
export const ADMIN_PASSWORD = 'e2e-admin-password';

/** What `startDemo` (packages/cli/src/demo.ts) gives back. */
export interface Demo {
  url: string;
  sitesUrl: string;
  /** The demo's own mailbox (plain IMAP on 127.0.0.1) and its users: address → app password. */
  mailbox: { host: string; port: number; users: Record<string, string> };
  close(): Promise<void>;
}

export interface DemoOptions {
  /** The longest a konnector waits for a code (the stack-wide cap), for the expiry scenario. */
  twoFaTimeoutMs?: number;
}

type StartDemo = (o: {
  dataDir: string;
  port: number;
  sitesPort: number;
  adminPassword: string;
  print?: (line: string) => void;
  logLevel?: string;
  twoFaTimeoutMs?: number;
}) => Promise<Demo>;

/**
 * The whole product as a newcomer gets it: the CLI's `startDemo` (the stack with the fake sites and
 * both konnectors, serving Home), on free ports and a fresh data folder.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo & { dataDir: string }> {
  const demoModule = join(REPO_ROOT, 'packages/cli/dist/src/demo.js');
  if (!existsSync(demoModule)) throw new Error(`${demoModule} is missing: build the repository first (npm run build)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'gleaner-home-e2e-'));
  // Loaded by path at run time: Home's own code never imports another part; only its tests start one.
  const { startDemo: start } = (await import(demoModule)) as { startDemo: StartDemo };
  const demo = await start({
    dataDir,
    port: 0,
    sitesPort: 0,
    adminPassword: ADMIN_PASSWORD,
    print: () => {},
    ...options,
  });
  return {
    ...demo,
    dataDir,
    async close() {
      await demo.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium, headless, never a downloaded browser; one profile per test. `backForwardCache`:
 * as in an ordinary Chrome (playwright-core turns the cache off unless told not to).
 */
export async function launchBrowser(
  width = 1100,
  height = 820,
  { backForwardCache = false }: { backForwardCache?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; close(): Promise<void> }> {
  if (!existsSync('/usr/bin/chromium'))
    throw new Error('/usr/bin/chromium is missing. Install it: sudo apt-get install -y chromium');
  const profile = mkdtempSync(join(tmpdir(), 'gleaner-home-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width, height },
    ...(backForwardCache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length) throw new Error(`errors in the page:\n${errors.join('\n')}`);
    },
  };
}

/** Saves the screens a test passes through: artifacts/screenshots/<test>-<nn>-<step>.png. */
export function screenshots(testName: string, page: Page) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  let n = 0;
  const taken: string[] = [];
  return {
    taken,
    /** Screenshots `target` (by default the test's page). */
    async shot(step: string, target: Page = page): Promise<string> {
      n += 1;
      const path = join(SCREENSHOTS, `${testName}-${String(n).padStart(2, '0')}-${step}.png`);
      // Let transitions and the countdown settle so the picture is what a person sees.
      await target.waitForTimeout(250);
      await target.screenshot({ path, fullPage: true });
      taken.push(path);
      return path;
    },
  };
}

/**
 * Copies a screenshot for the README (docs/screenshots/<name>.png) when GLEANER_PUBLISH_SCREENSHOTS=1,
 * so that an ordinary test run leaves the committed pictures alone.
 */
export function publish(path: string, name: string): void {
  if (process.env.GLEANER_PUBLISH_SCREENSHOTS !== '1') return;
  const dir = join(REPO_ROOT, 'docs', 'screenshots');
  mkdirSync(dir, { recursive: true });
  copyFileSync(path, join(dir, `${name}.png`));
}

export async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Admin password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Your accounts' }).waitFor();
}

/** Fills the add-account form (inputs named after the manifest's fields) and presses Connect. */
export async function connectAccount(
  page: Page,
  url: string,
  slug: string,
  fields: Record<string, string>,
): Promise<string> {
  await page.goto(`${url}/add/${slug}`);
  await page.getByRole('button', { name: 'Connect' }).waitFor();
  for (const [name, value] of Object.entries(fields)) {
    const input = page.locator(`input[name="${name}"]`);
    // Advanced fields (the site's address) are folded away until asked for.
    if (!(await input.isVisible())) await page.getByText('Advanced settings').click();
    await input.fill(value);
  }
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.waitForURL(/\/accounts\/[^/]+\/connecting$/);
  const match = /\/accounts\/([^/]+)\/connecting$/.exec(new URL(page.url()).pathname);
  if (!match?.[1]) throw new Error(`not on a connecting page: ${page.url()}`);
  return decodeURIComponent(match[1]);
}

/** Calls the stack's API with the page's session (cookie and CSRF token), as a script would. */
export async function api<T = unknown>(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return page.evaluate<{ status: number; body: T }, { method: string; path: string; body: unknown }>(
    async ({ method, path, body }) => {
      const session = (await (await fetch('/api/auth/session')).json()) as { csrfToken?: string };
      const headers: Record<string, string> = { 'x-csrf-token': session.csrfToken ?? '' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(path, { method, headers, body: body === undefined ? null : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { method, path, body },
  );
}

/** JSON from the fake sites (their control API and outbox), over 127.0.0.1. */
export async function sites<T = unknown>(
  sitesUrl: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const response = await fetch(`${sitesUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The visible form controls of the page that have no accessible name (no label, aria-label or aria-labelledby). */
export async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = Array.from(document.querySelectorAll<HTMLElement>('input, select, textarea')).filter(
      (el) => (el as HTMLInputElement).type !== 'hidden' && el.getClientRects().length > 0,
    );
    return controls
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        const labelled = el.getAttribute('aria-labelledby');
        return (
          !(labels && labels.length > 0) &&
          !el.getAttribute('aria-label') &&
          !(labelled && document.getElementById(labelled))
        );
      })
      .map((el) => el.outerHTML.slice(0, 120));
  });
}

/** What the stack's package module gives (shared decision 1), for tests that make konnector packages. */
export interface PackageWriter {
  writeKonnectorPackage: (input: {
    manifest: Record<string, unknown>;
    bundle: Buffer | string;
    icon?: { name: 'icon.svg' | 'icon.png'; data: Buffer };
    readme?: Buffer | string;
  }) => Buffer;
  writeTarGz: (
    entries: { name: string; type?: 'file' | 'directory' | 'symlink'; data?: Buffer; linkname?: string }[],
  ) => Buffer;
}

/** `@gleaner/stack`'s package writer, loaded by path from its build (as `startDemo` is). */
export async function packageWriter(): Promise<PackageWriter> {
  const stackModule = join(REPO_ROOT, 'packages/stack/dist/src/index.js');
  if (!existsSync(stackModule))
    throw new Error(`${stackModule} is missing: build the repository first (npm run build)`);
  return (await import(stackModule)) as PackageWriter;
}

/** Types a code in the 2FA dialog and sends it. */
export async function enterCode(page: Page, code: string): Promise<void> {
  const dialog = page.getByTestId('twofa-dialog');
  await dialog.getByTestId('twofa-code').fill(code);
  await dialog.getByRole('button', { name: 'Verify' }).click();
}

/** The fake authenticator's current code for a GitHub-like user; waits for a fresh step when little time is left (codes are single use). */
export async function githubTotp(sitesUrl: string, login = 'octocat', previous?: string): Promise<string> {
  for (;;) {
    const { code, remainingMs } = await sites<{ code: string; remainingMs: number }>(
      sitesUrl,
      `/github/_control/totp/${login}`,
    );
    if (code !== previous && remainingMs > 3_000) return code;
    await sites(sitesUrl, '/github/_control/clock/advance', { method: 'POST', body: { ms: remainingMs + 1_000 } });
  }
}
