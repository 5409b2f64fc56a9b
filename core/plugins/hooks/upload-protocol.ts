// UploadProtocol: how data arrives (tus, CamCOPS tablets, ...).
import type { Hono } from 'hono';
import { hookId } from '../hook-id.js';
import type { AppEnv } from '../../http/app-env.js';

/**
 * A protocol through which files or records arrive. Dispatch: **registry** keyed by
 * `name`; core mounts `mount(app)` under `/upload/<name>/`. Finished files go to core's
 * resource intake; records go to the plugin's own tables.
 *
 * @example
 * ctx.contribute(UploadProtocol, { name: 'tus', mount: (app) => app.post('/', handler) });
 */
export interface UploadProtocol {
  /** Registry key and path segment: `/upload/<name>/`. */
  readonly name: string;
  /** Adds the protocol's routes to a sub-app that core mounts under `/upload/<name>`. */
  mount(app: Hono<AppEnv>): void;
}

/** Service identifier of the {@link UploadProtocol} hook. */
export const UploadProtocol = hookId<UploadProtocol>('UploadProtocol');
