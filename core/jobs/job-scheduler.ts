// The job queue as plugins use it: putting work on the queue. Claiming, renewing and
// releasing leases is the workers' protocol and stays with the queue itself.
import type { ServiceIdentifier } from 'inversify';
import type { EnqueueOptions, Job, JobSpec } from './job-types.js';
import type { JobQueue } from './job-queue.js';

/** Puts jobs on the queue; a worker with a handler for the type runs them. */
export interface JobScheduler {
  /**
   * Queues one job.
   * @returns the job, or the waiting or running one with the same `dedupeKey`.
   * @throws ValidationError when the payload or options are malformed.
   */
  enqueue(type: string, payload: Record<string, unknown>, options?: EnqueueOptions): Promise<Job>;
  /** Queues many jobs in one statement (in one transaction when given). */
  enqueueMany(specs: readonly JobSpec[], options?: { transaction?: EnqueueOptions['transaction'] }): Promise<Job[]>;
  /**
   * Queues a job to run at `at`, once per `key`: scheduling the same key again while its job
   * waits or runs returns that job (so several servers starting at once leave one).
   */
  schedule(type: string, payload: Record<string, unknown>, at: Date, key: string, options?: Omit<EnqueueOptions, 'runAfter' | 'dedupeKey'>): Promise<Job>;
  /** A job by id. @throws NotFoundError for unknown ids. */
  get(id: string): Promise<Job>;
}

/** A scheduler over the queue: only the queue's plugin-facing half. */
export function jobSchedulerOver(queue: JobQueue): JobScheduler {
  return {
    enqueue: (type, payload, options) => queue.enqueue(type, payload, options),
    enqueueMany: (specs, options) => queue.enqueueMany(specs, options),
    schedule: (type, payload, at, key, options) => queue.enqueue(type, payload, { ...options, runAfter: at, dedupeKey: key }),
    get: (id) => queue.get(id),
  };
}

/** The job scheduler service. */
export const JobSchedulerId: ServiceIdentifier<JobScheduler> = Symbol.for('platform.JobScheduler');
