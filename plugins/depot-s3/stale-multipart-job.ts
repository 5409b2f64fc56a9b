// The periodic abort of unfinished multipart uploads (a node that died mid-write leaves one
// behind, and S3 keeps its parts, billed, for ever). A job of type `depot-s3.abort-stale`
// runs every hour; its dedupe key names the time slot, so several nodes starting at once
// leave one job per slot.
import { JobSchedulerId, type JobHandler, type PluginLifecycle, type Services } from '../../core/api.js';
import type { S3Depot } from './s3-depot.js';
import { staleMultipartUploads } from './stale-multipart-check.js';

export const ABORT_STALE_JOB = 'depot-s3.abort-stale';

async function scheduleNext(services: Services, intervalMs: number, now = Date.now()): Promise<void> {
  const slot = Math.floor(now / intervalMs) + 1;
  await services.get(JobSchedulerId).enqueue(ABORT_STALE_JOB, {}, { runAfter: new Date(slot * intervalMs), dedupeKey: `${ABORT_STALE_JOB}:${slot}`, maxAttempts: 3 });
}

/** The job handler: aborts what is stale, then schedules the next run. */
export function staleMultipartJob(depot: S3Depot, staleHours: number, intervalMs: number): JobHandler {
  return {
    type: ABORT_STALE_JOB,
    payloadSchema: { type: 'object', additionalProperties: false },
    async run(_payload, ctx) {
      const stale = await staleMultipartUploads(depot, staleHours);
      for (const upload of stale) await depot.client.abortMultipartUpload(upload.bucket, upload.key, upload.uploadId);
      if (stale.length) ctx.logger.info('aborted stale multipart uploads', { count: stale.length });
      await scheduleNext(ctx.services, intervalMs);
      return { aborted: stale.length };
    },
  };
}

/** Starts the cycle when a server or worker starts. */
export function staleMultipartLifecycle(intervalMs: number): PluginLifecycle {
  return { onStart: (services) => scheduleNext(services, intervalMs) };
}
