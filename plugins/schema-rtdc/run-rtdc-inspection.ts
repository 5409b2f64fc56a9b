// Runs an RT-DC inspection in a fresh worker thread with a time limit and a heap limit, so
// a hostile or broken file can neither stall nor crash the process that asked. Kept small
// on purpose: core's worker pool will take over starting threads, and this stays the
// adapter between that and the inspection.
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RtdcInspection } from './rtdc-inspection.js';
import type { RtdcInspectionReply, RtdcInspectionRequest } from './rtdc-inspection-worker.js';

/** Limits of one inspection in a worker thread. */
export interface RtdcWorkerLimits {
  /** The thread is terminated after this long. */
  timeoutMs: number;
  /** V8 heap limit of the thread (h5wasm's own WebAssembly memory is not counted by V8). */
  maxOldGenerationSizeMb: number;
  /** Events read at once for statistics; the inspection's default when absent. */
  batchSize?: number;
  /** Terminates the thread when aborted. */
  signal?: AbortSignal;
}

/** Why an inspection in a worker thread ended without an answer. */
export type RtdcWorkerFailure = 'timeout' | 'aborted' | 'out-of-memory' | 'crashed' | 'failed';

/** An inspection in a worker thread that ended without an answer; `reason` says how. */
export class RtdcInspectionError extends Error {
  constructor(message: string, readonly reason: RtdcWorkerFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RtdcInspectionError';
  }
}

/**
 * Inspects `path` in a fresh worker thread (a new thread per file frees h5wasm's heap,
 * which never shrinks, when it ends).
 * @param path - the file on the local file system
 * @param limits - time and heap limits, batch size and an optional abort signal
 * @returns the inspection, exactly as {@link inspectRtdcFile} returns it
 * @throws RtdcInspectionError when the time limit passes ("RT-DC inspection of x.rtdc
 *   exceeded 30000 ms"), the signal aborts, the thread runs out of memory, dies, or the
 *   inspection throws
 */
export function runRtdcInspectionInWorker(path: string, limits: RtdcWorkerLimits): Promise<RtdcInspection> {
  const name = basename(path);
  const { signal } = limits;
  if (signal?.aborted) return Promise.reject(new RtdcInspectionError(`RT-DC inspection of ${name} was cancelled`, 'aborted', { cause: signal.reason }));
  return new Promise((resolve, reject) => {
    const request: RtdcInspectionRequest = { path, batchSize: limits.batchSize };
    const worker = new Worker(new URL('./rtdc-inspection-worker.js', import.meta.url), {
      workerData: request,
      resourceLimits: { maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb },
      // HDF5 prints its error stack for damaged files; that is not the server's log.
      stderr: true,
    });
    worker.stderr.resume();
    let settled = false;
    const finish = (outcome: { result: RtdcInspection } | { error: RtdcInspectionError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const timer = setTimeout(() => finish({ error: new RtdcInspectionError(`RT-DC inspection of ${name} exceeded ${limits.timeoutMs} ms`, 'timeout') }), limits.timeoutMs);
    const onAbort = (): void => finish({ error: new RtdcInspectionError(`RT-DC inspection of ${name} was cancelled`, 'aborted', { cause: signal!.reason }) });
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: RtdcInspectionReply) => {
      if (reply.ok) finish({ result: reply.result });
      else finish({ error: new RtdcInspectionError(`RT-DC inspection of ${name} failed: ${reply.error}`, 'failed') });
    });
    worker.once('error', (error: Error & { code?: string }) => {
      finish({
        error: error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new RtdcInspectionError(`RT-DC inspection of ${name} needed more than ${limits.maxOldGenerationSizeMb} MB of heap`, 'out-of-memory', { cause: error })
          : new RtdcInspectionError(`RT-DC inspection of ${name} crashed: ${error.message}`, 'crashed', { cause: error }),
      });
    });
    worker.once('exit', (code) => finish({ error: new RtdcInspectionError(`RT-DC inspection of ${name} stopped without an answer (exit code ${code})`, 'crashed') }));
  });
}

/** Limits of {@link runRtdcInspection} (the same as {@link RtdcWorkerLimits}). */
export type InspectionLimits = RtdcWorkerLimits;

/**
 * The schema's view of {@link runRtdcInspectionInWorker}: a file that cannot be inspected
 * within the limits (too slow, too large, crashing the reader) is an invalid file with
 * that reason, and only cancellation rejects, so the job can stop.
 * @param path - the file on the local file system
 * @param limits - time and heap limits, batch size and an optional abort signal
 * @returns the inspection, or an invalid result naming why there is none
 * @throws RtdcInspectionError with reason `aborted` when the signal aborts
 */
export async function runRtdcInspection(path: string, limits: InspectionLimits): Promise<RtdcInspection> {
  try {
    return await runRtdcInspectionInWorker(path, limits);
  } catch (error) {
    if (!(error instanceof RtdcInspectionError) || error.reason === 'aborted') throw error;
    return { valid: false, problems: [error.message], metadata: {} };
  }
}
