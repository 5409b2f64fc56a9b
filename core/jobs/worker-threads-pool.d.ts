// Types of worker-threads-pool 2 (the package ships none). Only what core/jobs/thread-pool.ts uses.
declare module 'worker-threads-pool' {
  import type { Worker, WorkerOptions } from 'node:worker_threads';

  /** Caps how many Workers run at once; starts a fresh Worker per `acquire`. */
  export default class Pool {
    constructor(options?: { max?: number; maxWaiting?: number });
    /** Workers alive now (a Worker leaves the pool on its `exit` or `error` event). */
    readonly size: number;
    acquire(filename: string | URL, options: WorkerOptions | undefined, callback: (error: Error | null, worker: Worker) => void): void;
  }
}
