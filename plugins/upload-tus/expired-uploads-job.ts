// The periodic clean-up of unfinished uploads past their expiry (their partial bytes, rows
// and waiting resources). A job of type `tus.remove-expired` runs every `cleanup_minutes`;
// each run schedules the next. Its dedupe key names the time slot, so several servers
// starting at once, or a run that is retried, still leave one job per slot.
import { JobSchedulerId, type JobHandler, type PluginLifecycle, type Services } from '../../core/api.js';
import type { TusUploadProtocol } from './tus-upload-protocol.js';

export const REMOVE_EXPIRED_JOB = 'tus.remove-expired';

/** Queues the run of the slot after `now` (a no-op when that slot already has its job). */
export async function scheduleNextCleanup(services: Services, intervalMs: number, now = Date.now()): Promise<void> {
  const slot = Math.floor(now / intervalMs) + 1;
  await services.get(JobSchedulerId).schedule(REMOVE_EXPIRED_JOB, {}, new Date(slot * intervalMs), `${REMOVE_EXPIRED_JOB}:${slot}`, { maxAttempts: 3 });
}

/** The job handler: removes what has expired, then schedules the next run. */
export function expiredUploadsJob(protocol: TusUploadProtocol, intervalMs: number): JobHandler {
  return {
    type: REMOVE_EXPIRED_JOB,
    payloadSchema: { type: 'object', additionalProperties: false },
    async run(_payload, ctx) {
      const removed = await protocol.removeExpired();
      if (removed.length) ctx.logger.info('removed expired uploads', { count: removed.length });
      await scheduleNextCleanup(ctx.services, intervalMs);
      return { removed: removed.length };
    },
  };
}

/** Starts the cycle when a server or worker starts. */
export function expiredUploadsLifecycle(intervalMs: number): PluginLifecycle {
  return { onStart: (services) => scheduleNextCleanup(services, intervalMs) };
}
