// Uploads into datasets of the configured types enter distribution: an observer of
// `resource.stored` queues this job, which copies the stored file into intake.
import type { EventObserver, JobHandler, JobScheduler, Services } from '../../core/api.js';
import { DatasetServiceId, JobSchedulerId } from '../../core/api.js';
import type { DistributionRuntime } from './distribution-runtime.js';

export const TAKE_RESOURCE_JOB = 'distribution.take-resource';

/** The job handler. */
export function takeResourceJobHandler(runtime: () => DistributionRuntime): JobHandler {
  return {
    type: TAKE_RESOURCE_JOB,
    maxAttempts: 5,
    payloadSchema: { type: 'object', required: ['resourceId'], additionalProperties: false, properties: { resourceId: { type: 'string' }, actor: { type: 'string' } } },
    async run(payload) {
      const result = await runtime().takeResource(String(payload.resourceId), typeof payload.actor === 'string' ? payload.actor : undefined);
      return result ? { outcome: result.outcome, ...('reason' in result ? { reason: result.reason } : {}) } : { skipped: 'no stored file' };
    },
  };
}

/** Observes stored files; those in datasets of the configured types (and not put there by distribution itself) are queued. */
export function uploadObserver(types: readonly string[], services: () => Services): EventObserver {
  return {
    on: {
      'resource.stored': async ({ resource, actor }) => {
        if (!types.length || (actor.kind === 'system' && actor.name === 'distribution')) return;
        const s = services();
        const { dataset } = await s.get(DatasetServiceId).showResource(resource.id, { action: 'distribution', actor: { kind: 'system', name: 'distribution' }, address: '', requestId: 'distribution', transaction: undefined, services: s, emit: () => undefined });
        if (!types.includes(dataset.type)) return;
        const jobs: JobScheduler = s.get(JobSchedulerId);
        await jobs.enqueue(TAKE_RESOURCE_JOB, { resourceId: resource.id, ...(actor.kind === 'user' ? { actor: actor.user.name } : {}) }, { dedupeKey: `${TAKE_RESOURCE_JOB}:${resource.id}` });
      },
    },
  };
}
