// Worker-thread entry: inspects the RT-DC file named in workerData and posts the result.
// A fresh thread per file: h5wasm's heap never shrinks, so the thread's end frees it.
import { parentPort, workerData } from 'node:worker_threads';
import { inspectRtdcFile } from './rtdc-inspection.js';

const { path, batchSize } = workerData as { path: string; batchSize: number };
inspectRtdcFile(path, { batchSize }).then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (error: Error) => parentPort!.postMessage({ ok: false, error: error.message }),
);
