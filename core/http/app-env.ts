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
}

/** The hono environment type of the platform's app. */
export interface AppEnv {
  Variables: AppVariables;
}
