/**
 * A minimal browser for HTTP-level tests and benches: a cookie jar, manual redirects, and the IdP's login form.
 * (The end-to-end tests use real Chromium; this is for driving the OIDC flow from Node.)
 */
import assert from 'node:assert/strict';

export interface Page {
  res: Response;
  url: string;
  /** The URLs visited, the first one included. */
  trail: string[];
  /** The final body (read already: use this, not res.text()). */
  text: string;
}

export class Browser {
  private jar = new Map<string, { name: string; value: string; path: string }>();
  /** Every Set-Cookie header received, raw. */
  readonly setCookies: string[] = [];
  /** Every response body received (to check that no token ever reaches the browser). */
  readonly bodies: string[] = [];

  cookie(name: string): string | undefined {
    return [...this.jar.values()].find((c) => c.name === name)?.value;
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const cookies = [...this.jar.values()].filter((c) => u.pathname === c.path || u.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`));
    const headers = new Headers(init.headers);
    if (cookies.length) headers.set('cookie', cookies.map((c) => `${c.name}=${c.value}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      let path = '/';
      let gone = value === '';
      for (const a of attrs) {
        const [k, v = ''] = a.split('=');
        if (k!.toLowerCase() === 'path') path = v;
        if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) gone = true;
        if (k!.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) gone = true;
      }
      const key = `${name};${path}`;
      if (gone) this.jar.delete(key);
      else this.jar.set(key, { name, value, path });
    }
    const text = await res.clone().text();
    this.bodies.push(text);
    return res;
  }

  /** A JSON API call with this browser's cookies: a string body is sent as it is (for malformed input). */
  async json(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await this.fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  }

  /** Follows redirects from `url` until a non-redirect answer, or a redirect to a URL for which `stop` says so. */
  async follow(url: string, init: RequestInit = {}, stop: (location: string) => boolean = () => false): Promise<Page> {
    const trail = [url];
    let res = await this.fetch(url, init);
    while (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, url).href;
      trail.push(next);
      if (stop(next)) return { res, url: next, trail, text: '' };
      url = next;
      res = await this.fetch(url);
    }
    return { res, url, trail, text: this.bodies.at(-1)! };
  }

  /** From a login page: posts the form with these credentials and follows on. */
  async submitLogin(page: Page, email: string, password: string, stop?: (location: string) => boolean) {
    const html = page.text;
    const action = /<form method="post" action="([^"]+\/login)"/.exec(html)?.[1];
    assert.ok(action, `no login form in ${page.url}: ${html.slice(0, 300)}`);
    return this.follow(new URL(action, page.url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password }).toString(),
    }, stop);
  }
}


/** Registers an account through the control plane's API. */
export async function register(base: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${base}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Registers (if `displayName` is given) and signs in through the OIDC code flow; returns the signed-in browser. */
export async function signedIn(base: string, email: string, password: string, displayName?: string): Promise<Browser> {
  if (displayName) {
    const res = await register(base, { email, password, displayName });
    assert.equal(res.status, 201, `register ${email}: ${res.status} ${await res.text()}`);
  }
  const b = new Browser();
  const page = await b.follow(`${base}/auth/login?returnTo=/auth/me`);
  assert.equal(page.res.status, 200, `login page expected, got ${page.res.status} at ${page.url}`);
  const end = await b.submitLogin(page, email, password);
  assert.equal(end.res.status, 200, `sign-in ended at ${end.url} with ${end.res.status}`);
  return b;
}
