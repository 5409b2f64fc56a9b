// The thread pool for CPU-heavy work (HDF5 parsing, anonymisation, hashing): keeps it off the
// event loop so the HTTP server and the job worker stay responsive. worker-threads-pool caps
// how many threads run at once and starts a fresh Worker per task (a fresh thread frees
// everything the last task held, e.g. h5wasm's heap, which never shrinks). It has no results
// channel, time limit, cancellation or orderly shutdown, so this wraps it once for all of core
// and the plugins: results come back by message, a task that runs too long or is cancelled has
// its thread terminated, `resourceLimits` bound each thread's heap, and `shutdown()` drops the
// queue without starting the threads waiting in it. The queue is ours rather than the
// package's so that a cancelled or dropped task never starts a thread at all.
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Pool from 'worker-threads-pool';
import type { Logger } from '../logger.js';

/** How long a thread that answered may take to end by itself before it is terminated. */
const EXIT_GRACE_MS = 1000;

/** One unit of work for a thread: a function exported by an ES module. */
export interface ThreadTask {
  /** The module: an absolute path or a `file:` URL (`new URL('./my-task.js', import.meta.url)`). */
  module: string | URL;
  /** Name of the exported function (default `default`). It may be async. */
  export?: string;
  /** Arguments, copied to the thread with the structured clone algorithm. */
  args?: unknown[];
  /** The thread is terminated after this long (default: the pool's). */
  timeoutMs?: number;
  /** Old-generation heap limit of the thread in MB (default: the pool's); a thread that exceeds it ends, the process does not. */
  memoryLimitMb?: number;
  /** Aborting it drops a queued task, or terminates its running thread. */
  signal?: AbortSignal;
}

/** Why a task did not produce a result. */
export type ThreadErrorCode =
  | 'PLATFORM_THREAD_TIMEOUT'
  | 'PLATFORM_THREAD_MEMORY'
  | 'PLATFORM_THREAD_CANCELLED'
  | 'PLATFORM_THREAD_CLOSED'
  | 'PLATFORM_THREAD_QUEUE_FULL'
  | 'PLATFORM_THREAD_FAILED';

/** A task failed, ran out of time or memory, or was cancelled; `code` says which. */
export class ThreadError extends Error {
  constructor(
    readonly code: ThreadErrorCode,
    message: string,
    options?: { cause?: unknown; stack?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ThreadError';
    if (options?.stack) this.stack = options.stack;
  }
}

/** Size and default limits of a pool. */
export interface ThreadPoolOptions {
  /** Threads running at once (`[jobs] pool_size`). */
  size: number;
  /** Default heap limit per thread in MB (`[jobs] thread_memory_mb`). */
  memoryLimitMb: number;
  /** Default time limit per task (none when absent). */
  timeoutMs?: number;
  /** Tasks that may wait for a thread; more are refused at once (default: no limit). */
  maxQueued?: number;
}

/** Counters since the pool was created. */
export interface ThreadPoolStats {
  started: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  outOfMemory: number;
  cancelled: number;
}

interface Pending {
  task: ThreadTask;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onAbort?: () => void;
}

interface Running {
  worker: Worker;
  exited: Promise<void>;
  /** Ends the task with an error and terminates its thread (no-op once settled). */
  end(error: ThreadError): void;
}

const ENTRY = new URL('./thread-entry.js', import.meta.url);

/** Runs functions of ES modules on a bounded number of fresh threads. */
export class ThreadPool {
  private readonly pool: Pool;
  private readonly waiting: Pending[] = [];
  private readonly running = new Set<Running>();
  private closed = false;
  readonly stats: ThreadPoolStats = { started: 0, succeeded: 0, failed: 0, timedOut: 0, outOfMemory: 0, cancelled: 0 };

  constructor(
    private readonly options: ThreadPoolOptions,
    private readonly logger?: Logger,
  ) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`thread pool size must be a whole number of at least 1, not ${options.size}`);
    this.pool = new Pool({ max: options.size });
  }

  /** Threads the pool runs at most. */
  get size(): number {
    return this.options.size;
  }

  /** Tasks running on a thread now. */
  get busy(): number {
    return this.running.size;
  }

  /** Tasks waiting for a thread. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` on a fresh thread once one is free.
   * @returns what the task's function returned (structured-cloned).
   * @throws ThreadError with a `code` for time-outs, memory, cancellation, shutdown and a full
   *   queue; for an error the function threw, `PLATFORM_THREAD_FAILED` with its message and stack.
   */
  run<T = unknown>(task: ThreadTask): Promise<T> {
    if (this.closed) return Promise.reject(new ThreadError('PLATFORM_THREAD_CLOSED', 'the thread pool is shut down'));
    if (task.signal?.aborted) return Promise.reject(cancelledError(task.signal));
    if (this.options.maxQueued !== undefined && this.waiting.length >= this.options.maxQueued && this.pool.size >= this.options.size) {
      return Promise.reject(new ThreadError('PLATFORM_THREAD_QUEUE_FULL', `the thread pool's queue is full (${this.options.maxQueued} tasks wait already)`));
    }
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { task, resolve: resolve as (value: unknown) => void, reject };
      if (task.signal) {
        pending.onAbort = () => {
          const index = this.waiting.indexOf(pending);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          this.stats.cancelled += 1;
          reject(cancelledError(task.signal!));
        };
        task.signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.waiting.push(pending);
      this.pump();
    });
  }

  /** Refuses new tasks, drops the queued ones and terminates running threads; settles when every thread has exited. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const pending of this.waiting.splice(0)) {
      if (pending.onAbort) pending.task.signal?.removeEventListener('abort', pending.onAbort);
      pending.reject(new ThreadError('PLATFORM_THREAD_CLOSED', 'the thread pool shut down before the task started'));
    }
    const exits = [...this.running].map((r) => {
      r.end(new ThreadError('PLATFORM_THREAD_CLOSED', 'the thread pool shut down while the task ran'));
      return r.exited;
    });
    await Promise.all(exits);
  }

  private pump(): void {
    // The package's own queue stays empty: we only acquire while it has room.
    while (!this.closed && this.waiting.length && this.pool.size < this.options.size) {
      const pending = this.waiting.shift()!;
      if (pending.onAbort) pending.task.signal?.removeEventListener('abort', pending.onAbort);
      this.start(pending);
    }
  }

  private start(pending: Pending): void {
    const { task } = pending;
    const memoryLimitMb = task.memoryLimitMb ?? this.options.memoryLimitMb;
    const timeoutMs = task.timeoutMs ?? this.options.timeoutMs;
    const module = task.module instanceof URL ? task.module.href : isAbsolute(task.module) ? pathToFileURL(task.module).href : task.module;
    const exportName = task.export ?? 'default';
    this.stats.started += 1;
    this.pool.acquire(
      ENTRY,
      { workerData: { module, exportName, args: task.args ?? [] }, resourceLimits: { maxOldGenerationSizeMb: memoryLimitMb } },
      (error, worker) => {
        if (error) {
          this.stats.failed += 1;
          pending.reject(new ThreadError('PLATFORM_THREAD_FAILED', `a thread could not be started: ${error.message}`, { cause: error }));
          return;
        }
        this.supervise(worker, pending, { module, exportName, memoryLimitMb, timeoutMs });
      },
    );
  }

  private supervise(worker: Worker, pending: Pending, what: { module: string; exportName: string; memoryLimitMb: number; timeoutMs: number | undefined }): void {
    const { task } = pending;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let markExited: () => void = () => undefined;
    const running: Running = {
      worker,
      exited: new Promise<void>((resolve) => (markExited = resolve)),
      end: (error) => finish(error),
    };
    const onAbort = (): void => finish(cancelledError(task.signal!));
    const finish = (error: ThreadError | undefined, result?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      task.signal?.removeEventListener('abort', onAbort);
      if (error) {
        const counter = ({ PLATFORM_THREAD_TIMEOUT: 'timedOut', PLATFORM_THREAD_MEMORY: 'outOfMemory', PLATFORM_THREAD_CANCELLED: 'cancelled', PLATFORM_THREAD_CLOSED: 'cancelled' } as const)[error.code as 'PLATFORM_THREAD_TIMEOUT'] ?? 'failed';
        this.stats[counter] += 1;
        pending.reject(error);
      } else {
        this.stats.succeeded += 1;
        pending.resolve(result);
      }
      if (error) {
        void worker.terminate().catch(() => undefined);
        return;
      }
      // A thread that answered ends by itself once its event loop drains. It is terminated only
      // if it has not ended shortly after: terminating it at once could cut off native work
      // still finishing (sqlite3 closing a connection aborted the whole process that way).
      const grace = setTimeout(() => void worker.terminate().catch(() => undefined), EXIT_GRACE_MS);
      grace.unref();
      worker.once('exit', () => clearTimeout(grace));
    };
    this.running.add(running);
    worker.on('message', (message: { ok: boolean; result?: unknown; error?: { name: string; message: string; stack?: string; code?: string } }) => {
      if (message.ok) finish(undefined, message.result);
      else {
        const e = message.error!;
        finish(new ThreadError('PLATFORM_THREAD_FAILED', e.message, { ...(e.stack ? { stack: e.stack } : {}) }));
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        finish(new ThreadError('PLATFORM_THREAD_MEMORY', `the thread ran out of memory: it needed more than its limit of ${what.memoryLimitMb} MB and was ended`, { cause: error }));
      } else {
        finish(new ThreadError('PLATFORM_THREAD_FAILED', error.message, { cause: error, ...(error.stack ? { stack: error.stack } : {}) }));
      }
    });
    worker.once('exit', (code) => {
      finish(new ThreadError('PLATFORM_THREAD_FAILED', `the thread exited (code ${code}) before it answered`));
      this.running.delete(running);
      markExited();
      // worker-threads-pool's own exit listener ran first, so the slot is free again.
      this.pump();
    });
    if (what.timeoutMs !== undefined) {
      timer = setTimeout(() => finish(new ThreadError('PLATFORM_THREAD_TIMEOUT', `the thread ran longer than its time limit of ${what.timeoutMs} ms and was ended`)), what.timeoutMs);
    }
    if (task.signal) {
      if (task.signal.aborted) onAbort();
      else task.signal.addEventListener('abort', onAbort, { once: true });
    }
    this.logger?.debug('thread started', { module: what.module, export: what.exportName, busy: this.running.size, queued: this.waiting.length });
  }
}

function cancelledError(signal: AbortSignal): ThreadError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'cancelled';
  return new ThreadError('PLATFORM_THREAD_CANCELLED', `the task was cancelled: ${reason}`, { cause: signal.reason });
}
