// Downloads: GET /dataset/<id>/resource/<rid>/download/<name> streams a stored file from
// its depot with Range (single ranges), ETag (the sha256), If-None-Match, If-Range,
// Content-Length and Content-Disposition. Visibility follows the dataset; every download
// (a request that starts at byte 0) writes an audit event. Behind nginx, with
// `[http] x_accel_redirect` set and the request marked `X-Sendfile-Type: X-Accel-Redirect`
// (nginx sets it; see nginx/platform.conf), a file the depot keeps on the local disk is
// handed to nginx after these checks, which sends it with sendfile (and answers Range itself).
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { contentDisposition } from './content-disposition.js';
import { requestedRange, sendByteRange } from './byte-ranges.js';
import { AuditLogId, DatasetServiceId, ResourceIntakeId } from '../services/service-ids.js';
import { NotFoundError } from '../errors.js';
import type { ActionContext } from '../plugins/hooks/actions.js';

/** Where nginx serves depot files from: its internal location and the directory it maps. */
export interface AccelRedirect {
  /** URL prefix of the internal location, ending in `/`. */
  prefix: string;
  /** The directory that location aliases. */
  root: string;
}

/** Adds the download route. */
export function mountDownloads(app: Hono<AppEnv>, accel?: AccelRedirect): void {
  // Depots report real paths (symbolic links resolved): compare with the real root.
  let accelRoot: string | undefined;
  const realRoot = (root: string): string => {
    try {
      return (accelRoot ??= realpathSync(root));
    } catch {
      return root;
    }
  };
  app.get('/dataset/:id/resource/:rid/download/:name', async (c) => {
    const services = c.get('services');
    const ctx: ActionContext = {
      action: 'resource_show', actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId'), transaction: undefined, services,
      emit: () => undefined,
    };
    const { resource, dataset } = await services.get(DatasetServiceId).showResource(c.req.param('rid'), ctx);
    const id = c.req.param('id');
    if ((dataset.id !== id.toLowerCase() && dataset.name !== id) || resource.name !== c.req.param('name')) {
      throw new NotFoundError(`no resource "${c.req.param('name')}" in dataset "${id}"; its download URL is /dataset/${dataset.name}/resource/${resource.id}/download/${encodeURIComponent(resource.name)}`);
    }
    if (!resource.depot || !resource.location || resource.size === undefined) throw new NotFoundError(`resource "${resource.name}" has no stored file yet (state ${resource.state})`);
    const depot = services.get(ResourceIntakeId).depot(resource.depot);
    if (!depot) throw new NotFoundError(`resource "${resource.name}" is stored in depot "${resource.depot}", which is not enabled`);
    const { size, location } = resource;
    const etag = resource.sha256 ? `"${resource.sha256}"` : undefined;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': contentDisposition(resource.name),
      'Last-Modified': resource.modifiedAt.toUTCString(),
      ...(etag ? { ETag: etag } : {}),
    };
    if (etag && c.req.header('if-none-match')?.split(',').map((s) => s.trim()).includes(etag)) return c.body(null, 304, headers);
    const range = requestedRange({ range: c.req.header('range'), ifRange: c.req.header('if-range') }, size, etag);
    if (range !== 'unsatisfiable' && (!range || range.start === 0)) {
      await services.get(AuditLogId).record({ actor: c.get('actor'), action: 'resource.download', objectType: 'resource', objectId: resource.id, address: c.get('address'), details: { dataset: dataset.name, name: resource.name, ...(range ? { range: `${range.start}-${range.end}` } : {}) } });
    }
    // A public file the depot can hand out itself (S3 presigned GET): a redirect after the
    // checks above, so the bytes never pass through this node.
    if (range !== 'unsatisfiable' && !dataset.private && depot.downloadUrl) {
      const url = await depot.downloadUrl(location, { filename: resource.name, contentType: headers['Content-Type']! });
      if (url) return c.body(null, 302, { Location: url, 'Cache-Control': 'private, no-store' });
    }
    // nginx compares If-Range with its own validators, not the sha256: such requests stay here.
    if (accel && range !== 'unsatisfiable' && c.req.header('x-sendfile-type') === 'X-Accel-Redirect' && !c.req.header('if-range') && depot.localPath) {
      const file = await depot.localPath(location);
      const inside = file === undefined ? undefined : relative(realRoot(accel.root), file);
      if (inside && !inside.startsWith('..') && !isAbsolute(inside)) {
        return c.body(null, 200, { ...headers, 'X-Accel-Redirect': accel.prefix + inside.split(sep).map(encodeURIComponent).join('/') });
      }
    }
    return sendByteRange(c, { size, range, headers, open: (r) => depot.open(location, r) });
  });
}
