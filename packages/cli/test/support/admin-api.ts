import assert from 'node:assert/strict';

/** One call of the stack's API as the signed-in admin: JSON in, JSON (or the raw bytes) out. */
export type AdminApi = (
  path: string,
  init?: { method?: string; json?: unknown },
) => Promise<{ status: number; body: unknown; raw: Buffer }>;

/** Signs in as the admin over real HTTP and returns a caller that sends the session and its CSRF header. */
export async function signIn(url: string, password: string): Promise<AdminApi> {
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });
  assert.equal(login.status, 200, 'the admin password signs in');
  const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  return async (path, init = {}) => {
    const response = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        cookie,
        'x-csrf-token': csrfToken,
        ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    });
    const raw = Buffer.from(await response.arrayBuffer());
    const json = response.headers.get('content-type')?.includes('json');
    return { status: response.status, body: json && raw.length ? (JSON.parse(raw.toString('utf8')) as unknown) : null, raw };
  };
}

/** Polls `probe` until it gives a value; past `ms`, fails naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
