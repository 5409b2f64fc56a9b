// Lists a large depot-fs tree on several threads at once. The walk is syscall-bound (a
// readdir per directory, an lstat per file); one thread leaves the other cores idle, and
// awaited calls through libuv were slower still. The top-level directories are split into
// contiguous runs, one thread each; the first run's objects are yielded as they arrive and the
// others' are held until their turn, so the order stays the location order.
import { Worker } from 'node:worker_threads';
import type { WalkedObject } from './depot-walk.js';
import type { WalkThreadData, WalkThreadMessage } from './depot-walk-thread.js';

/** The objects one thread has posted, and a way to wait for more. */
class ThreadOutput {
  readonly batches: WalkedObject[][] = [];
  done = false;
  error: Error | undefined;
  private wake: (() => void) | undefined;

  push(message: WalkThreadMessage): void {
    if ('done' in message) this.done = true;
    else this.batches.push(message.objects);
    this.notify();
  }

  fail(error: Error): void {
    this.error = error;
    this.notify();
  }

  private notify(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** Resolves once something more has arrived (or the thread ended or failed). */
  changed(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** Every object under `resources`, walking `names` on `threads` threads. */
export async function* walkOnThreads(resources: string, names: string[], threads: number): AsyncGenerator<WalkedObject> {
  const per = Math.ceil(names.length / threads);
  const workers: Worker[] = [];
  const outputs: ThreadOutput[] = [];
  try {
    for (let i = 0; i < names.length; i += per) {
      const output = new ThreadOutput();
      const worker = new Worker(new URL('./depot-walk-thread.js', import.meta.url), { workerData: { resources, names: names.slice(i, i + per) } satisfies WalkThreadData });
      worker.on('message', (message: WalkThreadMessage) => output.push(message));
      worker.on('error', (error) => output.fail(error));
      worker.on('exit', (code) => {
        if (!output.done && !output.error) output.fail(new Error(`a depot walk thread exited with code ${code} before it finished`));
      });
      workers.push(worker);
      outputs.push(output);
    }
    for (const output of outputs) {
      for (;;) {
        while (output.batches.length) yield* output.batches.shift()!;
        if (output.error) throw output.error;
        if (output.done) break;
        await output.changed();
      }
    }
  } finally {
    // Also when the caller stops early: no thread is left walking.
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
