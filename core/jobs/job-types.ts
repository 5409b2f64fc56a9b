// The shapes of jobs and of what enqueueing takes: shared by the queue (job-queue.ts) and its
// insert statements (job-inserts.ts), which would otherwise import each other.
import type { Transaction } from 'sequelize';

/** Where a job is in its life. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'dead' | 'cancelled';

/** Every state, in life order. */
export const JOB_STATES: readonly JobState[] = ['queued', 'running', 'succeeded', 'dead', 'cancelled'];

/** A job as the queue reports it. */
export interface Job {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  state: JobState;
  /** Higher runs first. */
  priority: number;
  /** Not claimed before this time (delayed jobs, and the backoff after a failure). */
  runAfter: Date;
  /** Attempts started so far (the running one included). */
  attempts: number;
  maxAttempts: number;
  /** Time limit of an attempt set when enqueued (else the handler's, else `[jobs] timeout_seconds`). */
  timeoutMs: number | undefined;
  dedupeKey: string | undefined;
  /** The worker holding the lease while running; afterwards the worker that ran it last. */
  leaseOwner: string | undefined;
  /** While running: when the lease lapses unless renewed. */
  leaseUntil: Date | undefined;
  cancelRequested: boolean;
  lastError: string | undefined;
  lastStack: string | undefined;
  /** What the handler returned (succeeded jobs). */
  result: unknown;
  /** The last progress the handler reported (kept after the job ends). */
  progress: JobProgress | undefined;
  /** Jobs that must succeed before this one runs (filled by `get`, empty in lists). */
  dependsOn: string[];
  createdAt: Date;
  updatedAt: Date;
  /** When the last attempt started. */
  startedAt: Date | undefined;
  /** When it succeeded, died or was cancelled. */
  finishedAt: Date | undefined;
}

/** Options of `enqueue`. */
export interface EnqueueOptions {
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this time (delayed jobs). */
  runAfter?: Date;
  /** Attempts before the job is dead (default: the handler's, else `[jobs] max_attempts`). */
  maxAttempts?: number;
  /** Time limit of one attempt (default: the handler's, else `[jobs] timeout_seconds`). */
  timeoutMs?: number;
  /** While a job with this key is queued or running, enqueueing returns that job instead of adding one. */
  dedupeKey?: string;
  /** Run only after these jobs succeeded; die (saying which) if one of them dies or is cancelled. */
  dependsOn?: string[];
  /** Enqueue inside this transaction: the job exists only if it commits. */
  transaction?: Transaction;
}

/** One job for `enqueueMany`. */
export interface JobSpec {
  type: string;
  payload: Record<string, unknown>;
  options?: Omit<EnqueueOptions, 'dependsOn' | 'transaction'>;
}

/** How far a running job has got, as its handler reported it. */
export interface JobProgress {
  done: number;
  total?: number;
  /** A short phrase, e.g. `patients 400 of 1000`; never secrets or identifiers. */
  detail?: string;
  at: string;
}


/** A finished attempt, for `completeMany`. */
export interface JobOutcome {
  id: string;
  result: unknown;
}
