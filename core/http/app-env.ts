// Typed hono context variables shared by every route and middleware.
import type { Actor } from '../auth/actor.js';
import type { Services } from '../services/services.js';

/** Variables set on every request by core middleware. */
export interface AppVariables {
  /** Unique id of this request, echoed in `X-Request-Id` and in 500 answers. */
  requestId: string;
  /** The authenticated caller (anonymous when no credentials were sent). */
  actor: Actor;
  /** The client address (from X-Forwarded-For only when `[http] trust_proxy`). */
  address: string;
  services: Services;
  /** The web pages' CSRF cookie value chosen during this request (set by the web front). */
  csrfSeed?: string;
  /** The web session behind the actor, when it came from a session cookie. */
  webSession?: { id: string; user: import('../auth/actor.js').UserIdentity };
}

/** The hono environment type of the platform's app. */
export interface AppEnv {
  Variables: AppVariables;
}
