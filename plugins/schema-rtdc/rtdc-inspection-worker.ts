// Worker-thread entry: inspects the RT-DC file named in workerData and posts one reply.
// Started fresh per file by run-rtdc-inspection.ts: h5wasm's heap never shrinks, so the
// thread's end is what frees it.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { inspectRtdcFile, type RtdcInspection } from './rtdc-inspection.js';

/** What the thread is started with (its workerData). */
export interface RtdcInspectionRequest {
  /** The file on the local file system. */
  path: string;
  /** Events read at once for statistics; the inspection's default when absent. */
  batchSize?: number | undefined;
}

/** The one message the thread posts back. */
export type RtdcInspectionReply = { ok: true; result: RtdcInspection } | { ok: false; error: string };

if (!isMainThread && parentPort) {
  const port = parentPort;
  const { path, batchSize } = workerData as RtdcInspectionRequest;
  inspectRtdcFile(path, batchSize === undefined ? {} : { batchSize }).then(
    (result) => port.postMessage({ ok: true, result } satisfies RtdcInspectionReply),
    (error: unknown) => port.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) } satisfies RtdcInspectionReply),
  );
}
