// Entry of every pool thread: imports the task's module, calls its exported function with the
// task's arguments and posts `{ ok, result }` or `{ ok: false, error }` back to the pool.
// The thread then ends; the pool starts a fresh one for the next task.
import { parentPort, workerData } from 'node:worker_threads';

interface TaskData {
  module: string;
  exportName: string;
  args: unknown[];
}

const { module, exportName, args } = workerData as TaskData;

try {
  const loaded = (await import(module)) as Record<string, unknown>;
  const fn = loaded[exportName];
  if (typeof fn !== 'function') throw new TypeError(`${module} has no exported function "${exportName}"`);
  const result: unknown = await (fn as (...a: unknown[]) => unknown)(...args);
  parentPort!.postMessage({ ok: true, result: result === undefined ? null : result });
} catch (caught) {
  const error = caught instanceof Error ? caught : new Error(String(caught));
  const code = (error as { code?: unknown }).code;
  parentPort!.postMessage({ ok: false, error: { name: error.name, message: error.message, stack: error.stack, ...(typeof code === 'string' ? { code } : {}) } });
}
