// Inspect: unfinished multipart uploads in the depot's buckets older than `stale_upload_hours`.
// They hold bytes nobody can read; `--repair` aborts them (the object they were writing never
// existed, so nothing readable is lost). Orphaned objects are core's depot check, which moves
// them under `quarantine/` through the depot.
import type { InspectCheck } from '../../core/api.js';
import type { S3Depot } from './s3-depot.js';

/** One unfinished multipart upload. */
export interface StaleUpload {
  bucket: string;
  key: string;
  uploadId: string;
  initiated: Date;
}

/** Unfinished multipart uploads begun more than `hours` ago, in every bucket of the depot. */
export async function staleMultipartUploads(depot: S3Depot, hours: number, now = Date.now()): Promise<StaleUpload[]> {
  const out: StaleUpload[] = [];
  // A tus upload writes its multipart upload for as long as it lasts: its expiry, not this check, ends it.
  const writing = await depot.partials.multipartIds();
  const buckets = (await depot.client.listBuckets()).filter((b) => b.startsWith(depot.options.bucketPrefix));
  for (const bucket of buckets) {
    for await (const upload of depot.client.listMultipartUploads(bucket)) {
      if (now - upload.initiated.getTime() > hours * 3_600_000 && !writing.has(upload.uploadId)) out.push({ bucket, ...upload });
    }
  }
  return out;
}

/** The stale multipart uploads check of depot-s3. */
export function staleMultipartCheck(depot: S3Depot, hours: number, now: () => number = Date.now): InspectCheck {
  return {
    area: 'depot',
    name: 'depot-s3 unfinished multipart uploads',
    async run() {
      const stale = await staleMultipartUploads(depot, hours, now());
      if (!stale.length) return [{ severity: 'ok', title: `no multipart uploads older than ${hours} h in the depot's buckets` }];
      return [
        {
          severity: 'problem',
          title: `${stale.length} multipart upload(s) older than ${hours} h were never completed`,
          why: 'their parts take space in the store and belong to no object',
          fix: 'platform inspect --only depot --repair aborts them (the periodic depot-s3.abort-stale job does the same)',
          details: stale.slice(0, 100).map((u) => `${u.bucket}/${u.key} (upload ${u.uploadId}, begun ${u.initiated.toISOString()})`),
          repair: {
            description: `abort ${stale.length} unfinished multipart upload(s)`,
            apply: async () => {
              for (const u of stale) await depot.client.abortMultipartUpload(u.bucket, u.key, u.uploadId);
              return `aborted ${stale.length} multipart upload(s)`;
            },
          },
        },
      ];
    },
  };
}
