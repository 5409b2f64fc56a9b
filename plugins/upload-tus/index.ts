// upload-tus: resumable large-file uploads with the tus 1.0 protocol under /upload/tus/.
import { definePlugin, InspectChecks, JobHandlers, Lifecycle, Migrations, UploadProtocol } from '../../core/api.js';
import { expiredUploadsJob, expiredUploadsLifecycle } from './expired-uploads-job.js';
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
      cleanup_minutes: { type: 'integer', minimum: 1, maximum: 10080, default: 60, description: 'How often a job removes unfinished uploads past their expiry ([upload] expiry_hours).' },
    },
  },
  register(ctx) {
    const protocol = new TusUploadProtocol(ctx.services, ctx.config.lock_seconds);
    ctx.contribute(UploadProtocol, protocol);
    ctx.contribute(Migrations, { migrations: [createTusUploads] });
    ctx.contribute(InspectChecks, staleUploadsCheck(protocol));
    const cleanupMs = ctx.config.cleanup_minutes * 60_000;
    ctx.contribute(JobHandlers, expiredUploadsJob(protocol, cleanupMs));
    ctx.contribute(Lifecycle, expiredUploadsLifecycle(cleanupMs));
  },
});
