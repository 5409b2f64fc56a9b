// JobHandlers: work that runs in the background on the durable job queue.
import { hookId } from '../hook-id.js';
import type { Services } from '../../services/services.js';
import type { Logger } from '../../logger.js';

/** What a running job sees. */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Aborted when the job is cancelled, times out, loses its lease or the worker shuts down. */
  readonly signal: AbortSignal;
  readonly services: Services;
  readonly logger: Logger;
  /**
   * Reports how far the job has got (`platform jobs show` prints it): cheap to call often, it is
   * written at most once a second and when `done` reaches `total`. `detail` is a short phrase
   * (no secrets or identifiers: it is shown to operators).
   */
  progress(done: number, total?: number, detail?: string): void;
}

/** What a {@link CpuJobFunction} sees on its thread (no services there: a thread shares no objects with the process). */
export interface ThreadJobContext {
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  readonly type: string;
}

/**
 * The function a CPU-heavy handler names: it runs on a pool thread with the (validated)
 * payload and returns a structured-cloneable result, which becomes the job's result. It may
 * be async. It cannot be interrupted by a signal: cancellation, the time limit and shutdown
 * terminate its thread.
 */
export type CpuJobFunction = (payload: Record<string, unknown>, ctx: ThreadJobContext) => unknown;

/** Where a CPU-heavy handler's work lives: an exported {@link CpuJobFunction} of an ES module. */
export interface CpuJobModule {
  /** The module, e.g. `new URL('./thumbnail-thread.js', import.meta.url)`, or an absolute path. */
  readonly module: string | URL;
  /** The exported function's name (default `default`). */
  readonly export?: string;
}

/**
 * Runs jobs of one type. Dispatch: **registry** keyed by `type` (a second handler for a type
 * is a start-up error naming both plugins).
 *
 * Give exactly one of `run` (runs on the worker's event loop: for I/O, database work and
 * short computations) and `cpu` (runs on the thread pool, `[jobs] pool_size` threads, with a
 * heap limit: for parsing, hashing, anonymising, anything that would block the event loop for
 * more than a few milliseconds).
 *
 * Delivery is at least once: a job whose worker died (or lost its lease) runs again, so a
 * handler must be idempotent: check the state you are about to set before setting it.
 *
 * @example
 * ctx.contribute(JobHandlers, {
 *   type: 'thumbnail.make',
 *   payloadSchema: { type: 'object', required: ['resourceId'], properties: { resourceId: { type: 'string' } } },
 *   timeoutMs: 60_000,
 *   cpu: { module: new URL('./thumbnail-thread.js', import.meta.url), export: 'makeThumbnail' },
 * });
 */
export interface JobHandler {
  /** e.g. `rtdc.inspect`: lowercase letters, digits and `. _ : -`. */
  readonly type: string;
  /** JSON Schema of the payload; checked before every attempt. A payload that fails it makes the job dead at once. */
  readonly payloadSchema: object;
  /** Time limit per attempt in milliseconds (default `[jobs] timeout_seconds`); an enqueue option may override it per job. */
  readonly timeoutMs?: number;
  /** Attempts before the job is dead (default `[jobs] max_attempts`); an enqueue option may override it per job. */
  readonly maxAttempts?: number;
  /** For `cpu` handlers: heap limit of the thread in MB (default `[jobs] thread_memory_mb`). */
  readonly memoryLimitMb?: number;
  /** Runs one attempt on the event loop; resolves with the job's result (JSON), rejects to fail the attempt. */
  run?(payload: Record<string, unknown>, ctx: JobContext): Promise<unknown>;
  /** Runs one attempt on a pool thread instead of `run`. */
  readonly cpu?: CpuJobModule;
}

/** Service identifier of the {@link JobHandler} hook. */
export const JobHandlers = hookId<JobHandler>('JobHandlers');
