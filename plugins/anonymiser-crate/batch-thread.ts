// Entry of a pool thread: runs one batch task with connections of its own and closes them.
// Loaded by core's thread pool from the compiled plugin; it imports nothing from core.
import { BatchProcessor, type BatchResult, type BatchSettings, type BatchTask } from './batch-processor.js';

/** Runs `task` of a run described by `settings`. */
export async function runAnonymiserBatch(settings: BatchSettings, task: BatchTask): Promise<BatchResult> {
  const processor = await BatchProcessor.open(settings);
  try {
    return await processor.run(task);
  } finally {
    await processor.close();
  }
}
