// GET /distribution/archive/<file id>: an archived file, fetched again by a sysadmin (the only
// role that may read the trail, which names recipients). Served from the archive folder only:
// a recorded path that resolves outside it is refused. Every fetch is audited.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { AuditLogId, NotFoundError, contentDisposition, PermissionServiceId, type RouteContribution, type Services } from '../../core/api.js';
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
        const info = await stat(path);
        await services().get(AuditLogId).record({ actor, action: 'distribution.archive.fetch', objectType: 'distribution_file', objectId: file.id, address: c.get('address'), details: { name: file.name } });
        const body = Readable.toWeb(createReadStream(path, { highWaterMark: 1024 * 1024 })) as WebReadableStream<Uint8Array>;
        return c.body(body as unknown as ReadableStream, 200, {
          'Content-Type': file.mimeType ?? 'application/octet-stream',
          'Content-Length': String(info.size),
          'Content-Disposition': contentDisposition(file.name),
          ...(file.sha256 ? { ETag: `"${file.sha256}"` } : {}),
        });
      });
    },
  };
}
