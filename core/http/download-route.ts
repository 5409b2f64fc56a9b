// Downloads: GET /dataset/<id>/resource/<rid>/download/<name> streams a stored file from
// its depot with Range (single ranges), ETag (the sha256), If-None-Match, If-Range,
// Content-Length and Content-Disposition. Visibility follows the dataset; every download
// (a request that starts at byte 0) writes an audit event.
import { Readable } from 'node:stream';
import type { Hono } from 'hono';
import type { AppEnv } from './app-env.js';
import { contentDisposition } from './content-disposition.js';
import { AuditLogId, DatasetServiceId, ResourceIntakeId } from '../services/service-ids.js';
import { NotFoundError } from '../errors.js';
import type { ActionContext } from '../plugins/hooks/actions.js';

/** A parsed single byte range, or `unsatisfiable`, or undefined for "whole file". */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return undefined; // multi-range or malformed: serve the whole file
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Adds the download route. */
export function mountDownloads(app: Hono<AppEnv>): void {
  app.get('/dataset/:id/resource/:rid/download/:name', async (c) => {
    const services = c.get('services');
    const ctx: ActionContext = {
      action: 'resource_show', actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId'), transaction: undefined, services,
      emit: () => undefined,
    };
    const { resource, dataset } = await services.get(DatasetServiceId).showResource(c.req.param('rid'), ctx);
    const id = c.req.param('id');
    if ((dataset.id !== id && dataset.name !== id) || resource.name !== c.req.param('name')) {
      throw new NotFoundError(`no resource "${c.req.param('name')}" in dataset "${id}"; its download URL is /dataset/${dataset.name}/resource/${resource.id}/download/${encodeURIComponent(resource.name)}`);
    }
    if (!resource.depot || !resource.location || resource.size === undefined) throw new NotFoundError(`resource "${resource.name}" has no stored file yet (state ${resource.state})`);
    const depot = services.get(ResourceIntakeId).depot(resource.depot);
    if (!depot) throw new NotFoundError(`resource "${resource.name}" is stored in depot "${resource.depot}", which is not enabled`);
    const size = resource.size;
    const etag = resource.sha256 ? `"${resource.sha256}"` : undefined;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': contentDisposition(resource.name),
      'Last-Modified': resource.modifiedAt.toUTCString(),
      ...(etag ? { ETag: etag } : {}),
    };
    if (etag && c.req.header('if-none-match')?.split(',').map((s) => s.trim()).includes(etag)) return c.body(null, 304, headers);
    const ifRange = c.req.header('if-range');
    const range = ifRange && ifRange !== etag ? undefined : parseRange(c.req.header('range'), size);
    if (range === 'unsatisfiable') return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${size}` });
    if (!range || range.start === 0) {
      await services.get(AuditLogId).record({ actor: c.get('actor'), action: 'resource.download', objectType: 'resource', objectId: resource.id, address: c.get('address'), details: { dataset: dataset.name, name: resource.name, ...(range ? { range: `${range.start}-${range.end}` } : {}) } });
    }
    if (size === 0) return c.body(null, 200, { ...headers, 'Content-Length': '0' });
    const stream = await depot.open(resource.location, range ?? { start: 0, end: size - 1 });
    const body = Readable.toWeb(stream) as ReadableStream<Uint8Array>;
    if (range) return c.body(body, 206, { ...headers, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${size}` });
    return c.body(body, 200, { ...headers, 'Content-Length': String(size) });
  });
}
