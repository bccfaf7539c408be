import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../src/server.js';
import { tmpDataDir } from './helpers/stack-harness.js';

const PASSWORD = 'proxy-admin-Pw-31f7';

async function serve(trustProxy: boolean): Promise<RunningServer> {
  const homeDir = mkdtempSync(join(tmpdir(), 'gleaner-home-'));
  writeFileSync(
    join(homeDir, 'index.html'),
    '<!doctype html><title>Gleaner</title><script type="module" src="/app.js"></script>',
  );
  return startServer({
    dataDir: tmpDataDir(),
    port: 0,
    konnectorDirs: [],
    homeDir,
    adminPassword: PASSWORD,
    logger: pino({ level: 'silent' }),
    trustProxy,
    stackOptions: { schedulerIntervalMs: false, env: {} },
  });
}

const login = (url: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ password }),
  });

describe('faults: behind a reverse proxy (--trust-proxy), over real HTTP', () => {
  let trusting: RunningServer;
  let direct: RunningServer;
  before(async () => {
    [trusting, direct] = await Promise.all([serve(true), serve(false)]);
  });
  after(async () => {
    await Promise.all([trusting.close(0), direct.close(0)]);
  });

  it('the session cookie is Secure when the trusted proxy says https, and only then', async () => {
    const https = await login(trusting.url, PASSWORD, {
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.1',
    });
    assert.equal(https.status, 200);
    assert.match(https.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    const http = await login(trusting.url, PASSWORD, {
      'x-forwarded-proto': 'http',
      'x-forwarded-for': '198.51.100.1',
    });
    assert.equal(http.status, 200);
    assert.doesNotMatch(http.headers.get('set-cookie') ?? '', /;\s*Secure/i);
    const spoofed = await login(direct.url, PASSWORD, { 'x-forwarded-proto': 'https' });
    assert.equal(spoofed.status, 200);
    assert.doesNotMatch(spoofed.headers.get('set-cookie') ?? '', /;\s*Secure/i, 'not trusted without the option');
  });

  it('the login rate limit buckets by the client address the proxy gives', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 5; i++) assert.equal((await login(trusting.url, 'wrong', from('203.0.113.7'))).status, 401);
    const locked = await login(trusting.url, PASSWORD, from('203.0.113.7'));
    assert.equal(locked.status, 429, 'that client is locked out');
    assert.ok(Number(locked.headers.get('retry-after')) > 0);
    assert.equal((await login(trusting.url, PASSWORD, from('203.0.113.8'))).status, 200, 'another client is not');

    // Without the option, the header is nobody's word: every client is the proxy's one address.
    for (let i = 0; i < 5; i++) assert.equal((await login(direct.url, 'wrong', from(`192.0.2.${i}`))).status, 401);
    assert.equal((await login(direct.url, PASSWORD, from('192.0.2.99'))).status, 429);
  });

  it('Home’s pages get a strict Content-Security-Policy: no inline script, no framing', async () => {
    const page = await fetch(`${trusting.url}/`);
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const deep = await fetch(`${trusting.url}/accounts/some-id`);
    assert.equal(deep.headers.get('content-security-policy'), csp, 'the index fallback too');
  });
});
