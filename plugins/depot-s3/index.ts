// depot-s3: resources as private objects in S3-compatible object storage (Ceph RADOS Gateway,
// AWS S3, MinIO), one bucket per organisation, in DCOR's key layout.
import { DatabaseId, definePlugin, Depot, InspectChecks, JobHandlers, Lifecycle } from '../../core/api.js';
import { organisationLookup, s3DepotFromConfig, type S3Settings } from './s3-depot-config.js';
import { staleMultipartCheck } from './stale-multipart-check.js';
import { staleMultipartJob, staleMultipartLifecycle } from './stale-multipart-job.js';

export default definePlugin({
  name: 'depot-s3',
  version: '0.1.0',
  description: 'S3 depot: <bucket_prefix><organisation>/resource/<rid[0:3]>/<rid[3:6]>/<rid[6:]>, multipart writes, presigned downloads',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      endpoint: { type: 'string', default: 'http://127.0.0.1:18500', pattern: '^https?://', description: 'S3 endpoint URL (path-style addressing).' },
      region: { type: 'string', default: 'default', description: 'SigV4 region (the RADOS Gateway accepts its zonegroup name, "default").' },
      bucket_prefix: { type: 'string', default: 'platform-', pattern: '^[a-z0-9][a-z0-9-]{0,39}$', description: 'Buckets are <prefix><organisation name>, created on demand; partial uploads live in <prefix>incoming.' },
      access_key_file: { type: 'string', default: './data/secrets/s3-access-key', 'x-path': true, 'x-secret-file': true, description: 'File holding the S3 access key.' },
      secret_key_file: { type: 'string', default: './data/secrets/s3-secret-key', 'x-path': true, 'x-secret-file': true, description: 'File holding the S3 secret key.' },
      part_size_mb: { type: 'integer', minimum: 5, maximum: 512, default: 8, description: 'Multipart part size; memory per upload is about (upload_concurrency + 1) parts.' },
      upload_concurrency: { type: 'integer', minimum: 1, maximum: 16, default: 2, description: 'Parts of one upload sent at once.' },
      downloads: { type: 'string', enum: ['redirect', 'stream'], default: 'redirect', description: 'Public datasets: redirect to a presigned URL, or stream through the platform. Private datasets are always streamed.' },
      presign_seconds: { type: 'integer', minimum: 10, maximum: 3600, default: 300, description: 'How long a download redirect stays valid.' },
      stale_upload_hours: { type: 'integer', minimum: 1, maximum: 720, default: 24, description: 'Unfinished multipart uploads older than this are aborted by a periodic job.' },
    },
  },
  register(ctx) {
    const settings = ctx.config as unknown as S3Settings;
    const depot = s3DepotFromConfig(settings, (path) => ctx.resolvePath(path), organisationLookup(() => ctx.services.get(DatabaseId)));
    ctx.contribute(Depot, depot);
    ctx.contribute(InspectChecks, staleMultipartCheck(depot, settings.stale_upload_hours));
    const intervalMs = 3_600_000;
    ctx.contribute(JobHandlers, staleMultipartJob(depot, settings.stale_upload_hours, intervalMs));
    ctx.contribute(Lifecycle, staleMultipartLifecycle(intervalMs));
  },
});
