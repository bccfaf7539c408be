/** A tiny cookie-keeping HTTP client for driving the fake sites with plain fetch. */

interface StoredCookie {
  value: string;
  path: string;
  httpOnly: boolean;
}

export interface Page {
  status: number;
  url: string;
  location: string | null;
  contentType: string;
  text: string;
  bytes: Buffer;
  /** Every URL visited, redirects included (only filled by the `*Follow` methods). */
  trail: string[];
}

export class Browser {
  readonly cookies = new Map<string, StoredCookie>();

  constructor(readonly origin: string) {}

  private cookieHeader(pathname: string): string {
    return [...this.cookies.entries()]
      .filter(([, c]) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  cookie(name: string): StoredCookie | undefined {
    return this.cookies.get(name);
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const maxAge = attrs.find((a) => a.toLowerCase().startsWith('max-age='));
      if (maxAge && Number(maxAge.slice(8)) <= 0) this.cookies.delete(name);
      else this.cookies.set(name, { value, path, httpOnly: attrs.some((a) => a.toLowerCase() === 'httponly') });
    }
  }

  async request(
    method: string,
    path: string,
    init: { form?: Record<string, string>; accept?: string } = {},
  ): Promise<Page> {
    const url = new URL(path, this.origin);
    const headers: Record<string, string> = { cookie: this.cookieHeader(url.pathname) };
    if (init.accept) headers.accept = init.accept;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.store(res.headers);
    const bytes = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      url: url.toString(),
      location: res.headers.get('location'),
      contentType: res.headers.get('content-type') ?? '',
      text: bytes.toString('utf8'),
      bytes,
      trail: [url.pathname + url.search],
    };
  }

  get(path: string, accept?: string): Promise<Page> {
    return this.request('GET', path, accept ? { accept } : {});
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.request('POST', path, { form });
  }

  private async follow(first: Page): Promise<Page> {
    let page = first;
    const trail = [...first.trail];
    for (let hops = 0; page.location && page.status >= 300 && page.status < 400; hops++) {
      if (hops > 10) throw new Error('too many redirects');
      page = await this.get(new URL(page.location, page.url).toString());
      trail.push(...page.trail);
    }
    return { ...page, trail };
  }

  async getFollow(path: string): Promise<Page> {
    return this.follow(await this.get(path));
  }

  async postFollow(path: string, form: Record<string, string>): Promise<Page> {
    return this.follow(await this.post(path, form));
  }
}

/** The value of the input named `name` in `html`. */
export function inputValue(html: string, name: string): string {
  const tag = new RegExp(`<input[^>]*name="${name}"[^>]*>`).exec(html)?.[0];
  const value = tag ? /value="([^"]*)"/.exec(tag)?.[1] : undefined;
  if (value === undefined) throw new Error(`no input ${name} with a value in page`);
  return value.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

/** The action of the form with id `id`. */
export function formAction(html: string, id: string): string {
  const tag = new RegExp(`<form[^>]*id="${id}"[^>]*>`).exec(html)?.[0];
  const action = tag ? /action="([^"]*)"/.exec(tag)?.[1] : undefined;
  if (action === undefined) throw new Error(`no form #${id} in page`);
  return action;
}

/** The page marker set on <body data-page="...">. */
export function pageName(html: string): string | undefined {
  return /<body[^>]*data-page="([^"]+)"/.exec(html)?.[1];
}
