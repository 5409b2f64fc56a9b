// Routes: extra HTTP routes a plugin serves (pages, downloads, webhooks).
import type { Hono } from 'hono';
import { hookId } from '../hook-id.js';
import type { AppEnv } from '../../http/app-env.js';

/**
 * HTTP routes. Dispatch: **registry** keyed by `path`; core mounts each sub-app at `path`
 * (e.g. `/ext/hello`), after its own middleware (request id, actor, error mapping), so a
 * route sees `c.get('actor')` and may throw PlatformErrors.
 */
export interface RouteContribution {
  /** Mount point, beginning with `/`; may not shadow `/api` or `/upload`. */
  readonly path: string;
  mount(app: Hono<AppEnv>): void;
}

/** Service identifier of the {@link RouteContribution} hook. */
export const Routes = hookId<RouteContribution>('Routes');
