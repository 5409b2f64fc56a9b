// The web front's middleware: session sign-in on top of core's authentication, and the CSRF
// and size checks of every unsafe request to a page.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import { AuthorizationError, PayloadTooLargeError } from '../errors.js';
import type { WebSessions } from './web-sessions.js';
import type { WebSecurity } from './web-security.js';

/** Methods that change nothing, which a session cookie alone may sign in. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Signs in requests that carry a session cookie and no Authorization header. Safe requests
 * anywhere; unsafe requests to the API or uploads only with the page's CSRF token in
 * `X-CSRF-Token` (page scripts send it, another site cannot), and unsafe requests to pages
 * once {@link csrfGuard} has checked their token.
 */
export function sessionAuthentication(deps: { sessions: WebSessions; security: WebSecurity }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get('actor').kind === 'anonymous' && !c.req.header('authorization')) {
      const secret = deps.security.sessionSecret(c);
      const session = secret ? await deps.sessions.find(secret) : undefined;
      if (session) {
        c.set('webSession', { id: session.id, user: session.user });
        if (SAFE_METHODS.has(c.req.method) || deps.security.checkCsrf(c, c.req.header('x-csrf-token'))) c.set('actor', { kind: 'user', user: session.user });
      }
    }
    await next();
  };
}

/**
 * Refuses an unsafe request to a page without the visitor's CSRF token (header or `_csrf`
 * field), and a form body larger than `maxBytes` before reading it (forms are small; the
 * bytes of files go through the upload protocols).
 */
export function csrfGuard(security: WebSecurity, maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!SAFE_METHODS.has(c.req.method)) {
      let token = c.req.header('x-csrf-token');
      const type = c.req.header('content-type') ?? '';
      // Browsers give the length of a form; a body without one (chunked) is refused unread.
      const length = Number(c.req.header('content-length') ?? NaN);
      if (c.req.raw.body && !(length <= maxBytes)) throw new PayloadTooLargeError(maxBytes);
      if (!token && /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) {
        const field = (await c.req.parseBody())._csrf;
        token = typeof field === 'string' ? field : undefined;
      }
      if (!security.checkCsrf(c, token)) throw new AuthorizationError('this form has no valid CSRF token; reload the page and send it again');
      const session = c.get('webSession');
      if (session && c.get('actor').kind === 'anonymous') c.set('actor', { kind: 'user', user: session.user });
    }
    await next();
  };
}

