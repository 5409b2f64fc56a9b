// Runs an RT-DC inspection in a fresh worker thread with a time limit and a memory limit,
// so a hostile or broken file can neither crash nor stall the process: a runaway thread is
// terminated and the file reported invalid with the reason.
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RtdcInspection } from './rtdc-inspection.js';

/** Limits of one inspection. */
export interface InspectionLimits {
  timeoutMs: number;
  maxOldGenerationSizeMb: number;
  batchSize?: number;
  signal?: AbortSignal;
}

/** Inspects `path` in a worker thread; never rejects for a bad file, only for cancellation. */
export function runRtdcInspection(path: string, limits: InspectionLimits): Promise<RtdcInspection> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./rtdc-inspection-worker.js', import.meta.url), {
      workerData: { path, batchSize: limits.batchSize ?? 100_000 },
      resourceLimits: { maxOldGenerationSizeMb: limits.maxOldGenerationSizeMb },
      stderr: true,
    });
    worker.stderr.resume();
    let settled = false;
    const finish = (outcome: { result?: RtdcInspection; error?: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (outcome.error) reject(outcome.error);
      else resolve(outcome.result!);
    };
    const invalid = (reason: string): void => finish({ result: { problems: [reason], metadata: {} } });
    const timer = setTimeout(() => invalid(`reading ${basename(path)} took longer than ${limits.timeoutMs} ms; the file is too large or malformed`), limits.timeoutMs);
    const onAbort = (): void => finish({ error: limits.signal!.reason instanceof Error ? limits.signal!.reason : new Error('cancelled') });
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (message: { ok: boolean; result?: RtdcInspection; error?: string }) => {
      if (message.ok) finish({ result: message.result! });
      else invalid(`the file cannot be read as RT-DC: ${message.error}`);
    });
    worker.once('error', (error) => invalid(/memory|heap/i.test(error.message) ? `reading ${basename(path)} needed more than ${limits.maxOldGenerationSizeMb} MB of memory` : `the file cannot be read as RT-DC: ${error.message}`));
    worker.once('exit', (code) => invalid(`the reader stopped unexpectedly (exit code ${code})`));
  });
}
