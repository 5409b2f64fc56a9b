// JobHandlers: work that runs in the background on the durable job queue.
import { hookId } from '../hook-id.js';
import type { Services } from '../../services/services.js';
import type { Logger } from '../../logger.js';

/** What a running job sees. */
export interface JobContext {
  readonly jobId: string;
  /** 1 on the first try. */
  readonly attempt: number;
  /** Aborted when the job is cancelled, times out or the worker shuts down. */
  readonly signal: AbortSignal;
  readonly services: Services;
  readonly logger: Logger;
}

/**
 * Runs jobs of one type. Dispatch: **registry** keyed by `type`. Delivery is at least
 * once: a handler must be idempotent (a job whose worker died runs again).
 */
export interface JobHandler {
  /** e.g. `rtdc.inspect`. */
  readonly type: string;
  /** JSON Schema of the payload; checked before `run`. */
  readonly payloadSchema: object;
  /** Time limit per attempt in milliseconds. */
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  run(payload: Record<string, unknown>, ctx: JobContext): Promise<unknown>;
}

/** Service identifier of the {@link JobHandler} hook. */
export const JobHandlers = hookId<JobHandler>('JobHandlers');
