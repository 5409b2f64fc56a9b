// Where a request says it was sent to: the origin a browser or client used to reach the
// platform, for links in answers (`help`) and for checking the `Origin` of writes. A configured
// `[platform] site_url` wins; otherwise the request's own scheme and host, taken from
// `X-Forwarded-Proto` / `X-Forwarded-Host` only when `[http] trust_proxy` is on.
import type { Context } from 'hono';
import type { AppEnv } from './app-env.js';

/** The request's origin (`https://host[:port]`), as the client addressed it. */
export function requestOrigin(c: Context<AppEnv>, trustProxy: boolean): string {
  const url = new URL(c.req.url);
  let protocol = url.protocol.replace(/:$/, '');
  let host = url.host;
  if (trustProxy) {
    // The proxy writes the last entry; anything before it came from the client.
    const forwardedProto = c.req.header('x-forwarded-proto')?.split(',').at(-1)?.trim().toLowerCase();
    const forwardedHost = c.req.header('x-forwarded-host')?.split(',').at(-1)?.trim();
    if (forwardedProto === 'http' || forwardedProto === 'https') protocol = forwardedProto;
    if (forwardedHost && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(forwardedHost)) host = forwardedHost;
  }
  return `${protocol}://${host}`;
}

/** The base URL of links in answers: `site_url` when configured, else the request's origin. */
export function publicBaseUrl(c: Context<AppEnv>, siteUrl: string, trustProxy: boolean): string {
  return (siteUrl || requestOrigin(c, trustProxy)).replace(/\/$/, '');
}

/**
 * Whether a browser's `Origin` header names this site: the origin of `site_url` or the origin
 * the request was addressed to (so a site reached under several names still works).
 */
export function originAllowed(origin: string, c: Context<AppEnv>, siteUrl: string, trustProxy: boolean): boolean {
  let given: string;
  try {
    given = new URL(origin).origin;
  } catch {
    return false; // includes the opaque "null" of sandboxed frames and file: pages
  }
  if (given === 'null') return false;
  if (siteUrl) {
    try {
      if (new URL(siteUrl).origin === given) return true;
    } catch {
      // site_url is checked at start; an unparsable one matches nothing
    }
  }
  return new URL(requestOrigin(c, trustProxy)).origin === given;
}
