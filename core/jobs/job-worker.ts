// A job worker: claims jobs with a lease, runs their handlers with an AbortSignal and a time
// limit, renews the lease while they run, records the outcome, and on shutdown stops
// claiming, lets running jobs finish within a grace period and releases the rest.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Services } from '../services/services.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { Database } from '../db/database.js';
import { JsonSchemaValidator } from '../validation/json-schema-validator.js';
import type { Job, JobQueue } from './job-queue.js';

/** How a worker runs. */
export interface JobWorkerOptions {
  /** Jobs run at once by this worker. */
  concurrency: number;
  leaseMs: number;
  /** How long an idle worker waits before looking again (PostgreSQL also wakes it by NOTIFY). */
  pollMs: number;
  /** Time limit of a job whose handler and job set none. */
  defaultTimeoutMs: number;
}

/** Runs jobs until stopped. */
export class JobWorker {
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private stopping = false;
  private wake: (() => void) | undefined;
  private loops: Promise<void>[] = [];
  private listener: pg.Client | undefined;
  private readonly validator = new JsonSchemaValidator();

  constructor(
    private readonly queue: JobQueue,
    private readonly registries: HookRegistries,
    private readonly services: Services,
    private readonly db: Database,
    private readonly logger: Logger,
    private readonly options: JobWorkerOptions,
  ) {}

  /** Starts claiming. */
  async start(): Promise<void> {
    if (this.db.dialect === 'postgres' && this.db.connection) {
      const client = new pg.Client({ connectionString: this.db.connection.url, ...(this.db.connection.password ? { password: this.db.connection.password } : {}) });
      client.on('notification', () => this.wake?.());
      client.on('error', () => (this.listener = undefined));
      await client.connect();
      await client.query('LISTEN platform_jobs');
      this.listener = client;
    }
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
    this.logger.info('job worker started', { worker: this.id, concurrency: this.options.concurrency });
  }

  /** Stops claiming, waits up to `graceMs` for running jobs, then aborts and releases them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const all = Promise.all([...this.running.values()].map((r) => r.done));
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref())]);
    if (timedOut) {
      for (const [id, r] of this.running) {
        r.controller.abort(new Error('worker shutting down'));
        await this.queue.release(id, this.id);
      }
    }
    await Promise.all(this.loops);
    await this.listener?.end().catch(() => undefined);
    this.logger.info('job worker stopped', { worker: this.id });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let job: Job | undefined;
      try {
        job = await this.queue.claim(this.id, this.options.leaseMs, this.registries.jobHandlers.names());
      } catch (error) {
        this.logger.warn('claiming a job failed', { error: (error as Error).message });
      }
      if (!job) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.options.pollMs);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        continue;
      }
      const controller = new AbortController();
      const done = this.run(job, controller);
      this.running.set(job.id, { controller, done });
      await done;
      this.running.delete(job.id);
    }
  }

  private async run(job: Job, controller: AbortController): Promise<void> {
    const handler = this.registries.jobHandlers.get(job.type);
    if (!handler) {
      await this.queue.fail(job.id, this.id, { message: `no handler for job type "${job.type}" is registered` });
      return;
    }
    const problems = this.validator.problems(handler.payloadSchema, job.payload);
    if (Object.keys(problems).length) {
      await this.queue.fail(job.id, this.id, { message: `payload does not fit the schema of "${job.type}": ${Object.entries(problems).map(([k, v]) => `${k}: ${v.join('; ')}`).join(', ')}` }, true);
      return;
    }
    const timeoutMs = job.timeoutMs ?? handler.timeoutMs ?? this.options.defaultTimeoutMs;
    let cancelled = false;
    const renew = setInterval(() => {
      void this.queue.renew(job.id, this.id, this.options.leaseMs).then((state) => {
        if (state === 'cancel') {
          cancelled = true;
          controller.abort(new Error('cancelled'));
        } else if (state === 'lost') controller.abort(new Error('lease lost'));
      }, () => undefined);
    }, Math.max(50, this.options.leaseMs / 3));
    const timer = setTimeout(() => controller.abort(new Error(`job exceeded its time limit of ${timeoutMs} ms`)), timeoutMs);
    try {
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
      const result = await Promise.race([
        handler.run(job.payload, { jobId: job.id, attempt: job.attempts, signal: controller.signal, services: this.services, logger: this.logger.child(job.type) }),
        aborted,
      ]);
      await this.queue.complete(job.id, this.id, result ?? null);
    } catch (error) {
      if (cancelled) await this.queue.markCancelled(job.id, this.id);
      else if (!this.stopping || !controller.signal.aborted) {
        const err = error instanceof Error ? error : new Error(String(error));
        const state = await this.queue.fail(job.id, this.id, { message: err.message, ...(err.stack ? { stack: err.stack } : {}) });
        this.logger.warn('job failed', { job: job.id, type: job.type, attempt: job.attempts, next: state ?? 'lease lost', error: err.message });
      }
    } finally {
      clearInterval(renew);
      clearTimeout(timer);
    }
  }
}
