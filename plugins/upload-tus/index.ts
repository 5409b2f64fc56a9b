// upload-tus: resumable large-file uploads with the tus 1.0 protocol under /upload/tus/.
import { definePlugin, InspectChecks, Migrations, UploadProtocol } from '../../core/api.js';
import { TusUploadProtocol } from './tus-upload-protocol.js';
import { createTusUploads } from './tus-uploads-migration.js';
import { staleUploadsCheck } from './stale-uploads-check.js';

export default definePlugin({
  name: 'upload-tus',
  version: '0.1.0',
  description: 'Resumable uploads with tus 1.0 (creation, termination, checksum, expiration)',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      lock_seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 15, description: 'Lease of a PATCH on its upload; after a crash the upload is writable again once it lapses.' },
    },
  },
  register(ctx) {
    const protocol = new TusUploadProtocol(ctx.services, Number(ctx.config.lock_seconds));
    ctx.contribute(UploadProtocol, protocol);
    ctx.contribute(Migrations, { migrations: [createTusUploads] });
    ctx.contribute(InspectChecks, staleUploadsCheck(protocol));
  },
});
