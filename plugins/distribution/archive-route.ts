// GET /distribution/archive/<file id>: an archived file, fetched again by a sysadmin (the only
// role that may read the trail, which names recipients). Served from the archive folder only:
// a recorded path that resolves outside it is refused. Byte ranges (and If-Range against the
// sha256 ETag) work as for dataset downloads, so a large file's fetch can be resumed. Every
// fetch that serves bytes is audited, with its range when it has one.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { AuditLogId, NotFoundError, contentDisposition, PermissionServiceId, requestedRange, sendByteRange, type RouteContribution, type Services } from '../../core/api.js';
import type { DistributionStore } from './distribution-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The route serving archived files. */
export function archiveRoute(store: () => DistributionStore, archiveDir: string, services: () => Services): RouteContribution {
  return {
    path: '/distribution',
    mount(app) {
      app.get('/archive/:id', async (c) => {
        const id = c.req.param('id');
        const actor = c.get('actor');
        await services().get(PermissionServiceId).require({ actor, action: 'distribution_archive_fetch', target: {}, input: { id } }, 'sysadmin');
        const file = UUID.test(id) ? await store().get(id) : undefined;
        if (!file || file.state !== 'archived' || !file.localPath) throw new NotFoundError(`no archived file ${id}; find archived files with distribution_history?state=archived`);
        let path: string;
        try {
          const [real, root] = await Promise.all([realpath(file.localPath), realpath(archiveDir)]);
          if (!real.startsWith(root + sep)) throw new NotFoundError(`archived file ${id} is not in the archive folder`);
          path = real;
        } catch (error) {
          if (error instanceof NotFoundError) throw error;
          throw new NotFoundError(`archived file ${id} (${file.name}) is no longer in the archive folder`);
        }
        const { size } = await stat(path);
        const etag = file.sha256 ? `"${file.sha256}"` : undefined;
        const range = requestedRange({ range: c.req.header('range'), ifRange: c.req.header('if-range') }, size, etag);
        if (range !== 'unsatisfiable') {
          await services().get(AuditLogId).record({ actor, action: 'distribution.archive.fetch', objectType: 'distribution_file', objectId: file.id, address: c.get('address'), details: { name: file.name, ...(range ? { range: `${range.start}-${range.end}` } : {}) } });
        }
        return sendByteRange(c, {
          size,
          range,
          headers: {
            'Content-Type': file.mimeType ?? 'application/octet-stream',
            'Content-Disposition': contentDisposition(file.name),
            ...(etag ? { ETag: etag } : {}),
          },
          open: ({ start, end }) => createReadStream(path, { start, end, highWaterMark: 1024 * 1024 }),
        });
      });
    },
  };
}
