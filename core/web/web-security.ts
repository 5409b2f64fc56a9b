// Cookies and CSRF tokens of the web pages. Every visitor holds a random CSRF cookie
// (HttpOnly); forms and page scripts carry an HMAC of it under the site's secret key, which a
// page on another site can neither read nor compute. Cookies are `Secure` and `__Host-`
// prefixed whenever the request reached us over TLS.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import type { AppEnv } from '../http/app-env.js';

/** The web front's request-independent settings. */
export interface WebSecurityOptions {
  /** The site's secret key (`[platform] secret_key_file`). */
  secretKey: string;
  /** Trust `X-Forwarded-Proto` (behind nginx). */
  trustProxy: boolean;
  /** `[platform] site_url`: an https URL makes cookies Secure even without a proxy header. */
  siteUrl: string;
}

/** The Content-Security-Policy of every page: no inline script or style, nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

/** Cookies and CSRF tokens for one site. */
export class WebSecurity {
  constructor(private readonly options: WebSecurityOptions) {}

  /** Whether the request came over TLS (directly, through a trusted proxy, or by site_url). */
  secure(c: Context<AppEnv>): boolean {
    if (new URL(c.req.url).protocol === 'https:') return true;
    if (this.options.trustProxy && c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https') return true;
    return this.options.siteUrl.startsWith('https://');
  }

  private name(c: Context<AppEnv>, base: 'session' | 'csrf'): string {
    return this.secure(c) ? `__Host-${base}` : `platform_${base}`;
  }

  /** The session cookie's secret, if the request has one. */
  sessionSecret(c: Context<AppEnv>): string | undefined {
    // Over TLS only the __Host- cookie counts: a sibling domain can plant a plain one, not that.
    return getCookie(c, this.name(c, 'session'));
  }

  setSession(c: Context<AppEnv>, secret: string, expires: Date): void {
    setCookie(c, this.name(c, 'session'), secret, { path: '/', httpOnly: true, sameSite: 'Lax', secure: this.secure(c), expires });
  }

  clearSession(c: Context<AppEnv>): void {
    deleteCookie(c, this.name(c, 'session'), { path: '/', secure: this.secure(c) });
  }

  /** The visitor's CSRF token, setting a fresh cookie when there is none (or `rotate`). */
  csrfToken(c: Context<AppEnv>, rotate = false): string {
    const name = this.name(c, 'csrf');
    let seed = rotate ? undefined : (c.get('csrfSeed') ?? getCookie(c, name));
    if (!seed || !/^[A-Za-z0-9_-]{32}$/.test(seed)) {
      seed = randomBytes(24).toString('base64url');
      setCookie(c, name, seed, { path: '/', httpOnly: true, sameSite: 'Lax', secure: this.secure(c) });
    }
    c.set('csrfSeed', seed);
    return this.sign(seed);
  }

  /** Whether `presented` is the CSRF token of this visitor's cookie (constant time). */
  checkCsrf(c: Context<AppEnv>, presented: string | undefined): boolean {
    const seed = getCookie(c, this.name(c, 'csrf'));
    if (!seed || !presented) return false;
    const expected = Buffer.from(this.sign(seed));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(seed: string): string {
    return createHmac('sha256', this.options.secretKey).update(`csrf:${seed}`).digest('base64url');
  }
}
