// A browser stand-in for page tests through app.request(): keeps cookies, reads the CSRF
// token a page carries, and posts forms the way a browser does (urlencoded).
import type { Hono } from 'hono';
import type { AppEnv } from '../../core/http/app-env.js';

/** One answered page. */
export interface WebAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** A client with a cookie jar. */
export class WebClient {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: Hono<AppEnv>) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): Promise<WebAnswer> {
    const headers: Record<string, string> = { accept: 'text/html', ...(init.headers ?? {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    // As a browser does: app.request() would leave it out.
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const response = await this.app.request(path, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, ...(body === undefined ? {} : { body }) });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** The CSRF token of a page (its meta tag). */
  static csrfOf(html: string): string {
    const match = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
    if (!match) throw new Error('page has no csrf-token meta tag');
    return match[1]!;
  }

  /** Opens the sign-in page and signs in; returns the answer to the form. */
  async signIn(name: string, password: string): Promise<WebAnswer> {
    const page = await this.request('/user/login');
    return this.request('/user/login', { form: { _csrf: WebClient.csrfOf(page.text), name, password, next: '/account' } });
  }
}
