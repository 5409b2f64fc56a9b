// The delivery job: a batch of routed files, sent by the deliverer. A batch with files that
// failed and may succeed later fails the attempt, so the queue retries it with backoff; files
// already delivered are skipped on the retry.
import type { Transaction } from 'sequelize';
import type { JobHandler, JobScheduler } from '../../core/api.js';
import type { FileDeliverer } from './file-deliverer.js';

export const DELIVER_JOB = 'distribution.deliver';

/** The job handler. */
export function deliveryJobHandler(deliverer: () => FileDeliverer, maxAttempts: number): JobHandler {
  return {
    type: DELIVER_JOB,
    maxAttempts,
    timeoutMs: 30 * 60_000,
    payloadSchema: {
      type: 'object',
      required: ['fileIds'],
      additionalProperties: false,
      properties: { fileIds: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', format: 'uuid' } } },
    },
    async run(payload, job) {
      const outcome = await deliverer().deliverBatch(payload.fileIds as string[], job.signal);
      const retry = outcome.failed.filter((f) => f.retryable);
      if (retry.length) {
        throw new Error(`${retry.length} of ${(payload.fileIds as string[]).length} file(s) not delivered yet: ${retry.slice(0, 5).map((f) => `${f.name}: ${f.reason}`).join('; ')}${retry.length > 5 ? '; …' : ''}`);
      }
      return outcome;
    },
  };
}

/** Queues delivery of files in batches of `batchSize` (inside `transaction` when given: the jobs exist only if it commits). */
export async function scheduleDelivery(jobs: JobScheduler, fileIds: readonly string[], batchSize: number, maxAttempts: number, transaction?: Transaction): Promise<void> {
  const specs = [];
  for (let i = 0; i < fileIds.length; i += batchSize) specs.push({ type: DELIVER_JOB, payload: { fileIds: fileIds.slice(i, i + batchSize) }, options: { maxAttempts } });
  if (specs.length) await jobs.enqueueMany(specs, transaction ? { transaction } : {});
}
