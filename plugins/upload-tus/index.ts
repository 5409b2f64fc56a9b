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
  register(ctx) {
    const protocol = new TusUploadProtocol(ctx.services);
    ctx.contribute(UploadProtocol, protocol);
    ctx.contribute(Migrations, { migrations: [createTusUploads] });
    ctx.contribute(InspectChecks, staleUploadsCheck(protocol));
  },
});
