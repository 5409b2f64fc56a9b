// A job worker: claims jobs in batches with a lease, runs their handlers (on the event loop
// with an AbortSignal and a time limit, or on the thread pool for CPU-heavy handlers),
// renews the leases of all its running jobs (and of successes not yet recorded) in one
// statement on its own connection, records successes in batches,
// and puts back jobs whose worker died. On PostgreSQL it LISTENs on a dedicated connection
// and starts at once when a job is enqueued; otherwise (and as a fallback) it polls. On
// shutdown it stops claiming, lets running jobs finish within a grace period and gives the
// rest back to the queue without counting their attempt.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { Logger } from '../logger.js';
import type { Services } from '../services/services.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { Disposable } from '../plugins/hook-id.js';
import type { JobContext, JobHandler } from '../plugins/hooks/job-handlers.js';
import type { Database } from '../db/database.js';
import { PluginError } from '../errors.js';
import { JsonSchemaValidator } from '../validation/json-schema-validator.js';
import { JOBS_CANCEL_CHANNEL, JOBS_CHANNEL, type Job, type JobOutcome, type JobQueue } from './job-queue.js';
import { ThreadError, type ThreadPool } from './thread-pool.js';

/** A job's progress is written at most this often. */
const PROGRESS_INTERVAL_MS = 1000;

/** How a worker runs. */
export interface JobWorkerOptions {
  /** Jobs run at once by this worker (`[jobs] concurrency`). */
  concurrency: number;
  /** A job not renewed for this long is claimed again (`[jobs] lease_seconds`). */
  leaseMs: number;
  /** How long an idle worker waits before looking again; PostgreSQL also wakes it by NOTIFY (`[jobs] poll_ms`). */
  pollMs: number;
  /** Time limit of a job whose handler and job set none (`[jobs] timeout_seconds`). */
  defaultTimeoutMs: number;
  /** Only these job types (default: every registered handler's). */
  types?: string[];
}

/** Why a running job's signal was aborted. */
type StopReason = 'cancel' | 'timeout' | 'lost' | 'shutdown';

interface ActiveJob {
  job: Job;
  controller: AbortController;
  reason: StopReason | undefined;
  done: Promise<void>;
}

/** Runs jobs until stopped. */
export class JobWorker {
  /** Recorded as the lease owner of the jobs it runs: host, process and a random part. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, ActiveJob>();
  private readonly validator = new JsonSchemaValidator();
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private types: string[] = [];
  private loopDone: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  // Wake-ups: a NOTIFY (or a local enqueue) sets the flag; `poke` ends the current sleep.
  private wakeRequested = true;
  private nextPollAt = 0;
  private endSleep: (() => void) | undefined;
  private completions: JobOutcome[] = [];
  // Successes not yet recorded (buffered or in flight): their leases are renewed like those of
  // running jobs, or a lease could lapse while the success waits and the job would run again.
  private readonly unrecorded = new Set<string>();
  private flushing: Promise<void> | undefined;
  private renewing = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private listener: pg.Client | undefined;
  private readonly disposables: Disposable[] = [];
  private readonly loggers = new Map<string, Logger>();

  constructor(
    private readonly queue: JobQueue,
    private readonly registries: HookRegistries,
    private readonly services: Services,
    private readonly db: Database,
    private readonly pool: ThreadPool,
    private readonly logger: Logger,
    private readonly options: JobWorkerOptions,
  ) {}

  /** Jobs this worker runs now. */
  get running(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Starts claiming.
   * @throws PluginError when a handler has neither or both of `run` and `cpu`.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`job worker ${this.id} was started already`);
    for (const { plugin, value } of this.registries.jobHandlers.contributions()) {
      if (Boolean(value.run) === Boolean(value.cpu)) throw new PluginError(plugin, `job handler "${value.type}" must have exactly one of run and cpu`);
    }
    this.types = this.options.types ?? this.registries.jobHandlers.names();
    this.state = 'running';
    this.disposables.push(
      this.queue.onDidQueueJobs((type) => {
        if (type === undefined || this.types.includes(type)) this.wake();
      }),
      this.queue.onDidRequestCancel((id) => this.stopJob(id, 'cancel')),
    );
    await this.listen();
    await this.maintain();
    this.loopDone = this.loop();
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.options.leaseMs / 3)));
    // Lapsed leases are found within half a lease (at least every 5 s with long leases: a
    // reaped job is claimed again quickly after its worker died).
    this.maintenanceTimer = setInterval(() => void this.maintain(), Math.max(100, Math.min(5_000, Math.floor(this.options.leaseMs / 2))));
    this.logger.info('job worker started', { worker: this.id, concurrency: this.options.concurrency, types: this.types.length, listen: Boolean(this.listener) });
  }

  /**
   * Stops claiming, waits up to `graceMs` for running jobs, then aborts the rest and gives them
   * back to the queue (not counted as an attempt). Safe to call twice.
   */
  stop(graceMs: number): Promise<void> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private async shutdown(graceMs: number): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopping';
    this.poke();
    await this.loopDone;
    const all = Promise.all([...this.active.values()].map((a) => a.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([all.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      this.logger.warn('releasing jobs still running after the grace period', { worker: this.id, jobs: this.running });
      for (const id of this.running) this.stopJob(id, 'shutdown');
      await Promise.all([...this.active.values()].map((a) => a.done));
    }
    await this.flush();
    clearInterval(this.renewTimer);
    clearInterval(this.maintenanceTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    this.state = 'stopped';
    this.logger.info('job worker stopped', { worker: this.id });
  }

  private async loop(): Promise<void> {
    let lastClaimShort = false;
    while (this.state === 'running') {
      const free = this.options.concurrency - this.active.size;
      // After a claim found fewer jobs than it could take, claim again on a wake-up or at the next poll.
      const claimDue = !lastClaimShort || this.wakeRequested || Date.now() >= this.nextPollAt;
      if (free <= 0 || !claimDue) {
        // Idle or full: record finished jobs on their own rather than with the next claim.
        if (this.completions.length) await this.flush();
        else await this.sleep(free <= 0 ? undefined : this.nextPollAt - Date.now());
        continue;
      }
      this.wakeRequested = false;
      this.nextPollAt = Date.now() + this.options.pollMs;
      // Finished jobs ride along with the claim: one round trip and one commit for both.
      const complete = this.completions.splice(0, 1000);
      let jobs: Job[] = [];
      const leasedAt = Date.now();
      try {
        jobs = await this.queue.claim(this.id, { leaseMs: this.options.leaseMs, types: this.types, limit: free, complete });
        for (const outcome of complete) this.unrecorded.delete(outcome.id);
      } catch (error) {
        this.completions.unshift(...complete);
        this.logger.warn('claiming jobs failed; trying again', { worker: this.id, error: (error as Error).message });
        lastClaimShort = true;
        continue;
      }
      lastClaimShort = jobs.length < free;
      try {
        jobs = await this.stillHeld(jobs, leasedAt);
      } catch (error) {
        // Not started: their leases lapse and maintenance puts them back.
        this.logger.warn('could not confirm the leases of claimed jobs; leaving them to lapse', { worker: this.id, jobs: jobs.length, error: (error as Error).message });
        jobs = [];
      }
      for (const job of jobs) this.begin(job);
    }
  }

  /**
   * The claimed jobs whose leases this worker still holds. When the claim's answer took long
   * (a starved process, a cold connection), a lease may have lapsed on the way and the job been
   * put back and claimed by another worker: such jobs are renewed before they start, and those
   * already lost are left to their new holder. Jobs still slow to renew are given back.
   * @param leasedAt when the claim was sent (its leases run from no earlier than this).
   */
  private async stillHeld(jobs: Job[], leasedAt: number): Promise<Job[]> {
    let since = leasedAt;
    for (let round = 0; jobs.length && Date.now() - since > this.options.leaseMs / 3; round++) {
      if (round === 3) {
        await this.queue.release(this.id, jobs.map((j) => j.id));
        this.logger.warn('gave back claimed jobs whose leases could not be renewed in time', { worker: this.id, jobs: jobs.length });
        return [];
      }
      since = Date.now();
      const { lost } = await this.queue.renew(this.id, jobs.map((j) => j.id), this.options.leaseMs, this.listener);
      if (lost.length) {
        this.logger.warn('claimed jobs lost their lease before they started; not running them', { worker: this.id, jobs: lost.length });
        jobs = jobs.filter((j) => !lost.includes(j.id));
      }
    }
    return jobs;
  }

  /** Sleeps until poked, or `ms` (for ever when undefined). */
  private sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.endSleep = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private poke(): void {
    const end = this.endSleep;
    this.endSleep = undefined;
    end?.();
  }

  private wake(): void {
    this.wakeRequested = true;
    this.poke();
  }

  private begin(job: Job): void {
    const entry: ActiveJob = { job, controller: new AbortController(), reason: undefined, done: Promise.resolve() };
    this.active.set(job.id, entry);
    entry.done = this.execute(entry)
      .catch((error: unknown) => this.logger.error('recording a job outcome failed; the job runs again after its lease', { job: job.id, error: (error as Error).message }))
      .finally(() => {
        this.active.delete(job.id);
        this.poke();
      });
  }

  private loggerOf(type: string): Logger {
    let logger = this.loggers.get(type);
    if (!logger) this.loggers.set(type, (logger = this.logger.child(type)));
    return logger;
  }

  private stopJob(id: string, reason: StopReason): void {
    const entry = this.active.get(id);
    if (!entry || entry.controller.signal.aborted) return;
    entry.reason = reason;
    const message = {
      cancel: 'the job was cancelled',
      timeout: 'the job exceeded its time limit',
      lost: `worker ${this.id} lost the lease of the job; another worker may run it`,
      shutdown: `worker ${this.id} is shutting down`,
    }[reason];
    entry.controller.abort(new Error(message));
  }

  private async execute(entry: ActiveJob): Promise<void> {
    const { job, controller } = entry;
    const handler = this.registries.jobHandlers.get(job.type);
    if (!handler) {
      // Claimed by type, so only if the handler was unregistered meanwhile: give it back.
      await this.queue.release(this.id, [job.id]);
      return;
    }
    const problems = this.validator.problems(handler.payloadSchema, job.payload);
    if (Object.keys(problems).length) {
      const detail = Object.entries(problems).map(([k, v]) => `${k}: ${v.join('; ')}`).join(', ');
      await this.queue.fail(job.id, this.id, { message: `payload does not fit the schema of "${job.type}": ${detail}` }, true);
      return;
    }
    const timeoutMs = job.timeoutMs ?? handler.timeoutMs ?? this.options.defaultTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      let result: unknown;
      if (handler.cpu) {
        result = await this.runOnThread(handler, job, timeoutMs, controller.signal);
      } else {
        timer = setTimeout(() => this.stopJob(job.id, 'timeout'), timeoutMs);
        result = await raceAbort(
          handler.run!(job.payload, { jobId: job.id, attempt: job.attempts, signal: controller.signal, services: this.services, logger: this.loggerOf(job.type), progress: this.progressReporter(job) }),
          controller.signal,
        );
      }
      if (entry.reason === 'lost') return;
      // Recorded with the next claim, or by the loop when it idles (see loop), or now when stopping.
      this.completions.push({ id: job.id, result: result ?? null });
      this.unrecorded.add(job.id);
      if (this.state !== 'running') void this.flush();
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      switch (entry.reason) {
        case 'cancel':
          await this.queue.markCancelled(job.id, this.id);
          return;
        case 'lost':
          this.logger.warn('stopped a job whose lease was lost', { job: job.id, type: job.type });
          return;
        case 'shutdown':
          await this.queue.release(this.id, [job.id]);
          return;
        default: {
          const message = entry.reason === 'timeout' ? `job exceeded its time limit of ${timeoutMs} ms` : error.message;
          const next = await this.queue.fail(job.id, this.id, { message, ...(error.stack ? { stack: error.stack } : {}) });
          this.logger.warn('job failed', { job: job.id, type: job.type, attempt: job.attempts, of: job.maxAttempts, next: next ?? 'lease lost', error: message });
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The job's `progress(done, total, detail)`: written at most once a second (and always when
   * done reaches total), never awaited by the handler, a failed write only logged.
   */
  private progressReporter(job: Job): JobContext['progress'] {
    let last = 0;
    // Writes one after another, so that a later report never lands before an earlier one.
    let writing: Promise<unknown> = Promise.resolve();
    return (done, total, detail) => {
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS && !(total !== undefined && done >= total)) return;
      last = now;
      const progress = { done, ...(total === undefined ? {} : { total }), ...(detail === undefined ? {} : { detail: String(detail).slice(0, 200) }) };
      writing = writing
        .then(() => this.queue.setProgress(job.id, this.id, progress))
        .catch((error: unknown) => this.logger.warn('could not record job progress', { job: job.id, error: String(error) }));
    };
  }

  private async runOnThread(handler: JobHandler, job: Job, timeoutMs: number, signal: AbortSignal): Promise<unknown> {
    try {
      return await this.pool.run({
        module: handler.cpu!.module,
        export: handler.cpu!.export ?? 'default',
        args: [job.payload, { jobId: job.id, attempt: job.attempts, type: job.type }],
        timeoutMs,
        ...(handler.memoryLimitMb ? { memoryLimitMb: handler.memoryLimitMb } : {}),
        signal,
      });
    } catch (error) {
      if (error instanceof ThreadError && error.code === 'PLATFORM_THREAD_TIMEOUT') throw new Error(`job exceeded its time limit of ${timeoutMs} ms; its thread was ended`);
      throw error;
    }
  }

  /** Records buffered successes; successes that arrive meanwhile go in the next batch. */
  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.completions.length) return Promise.resolve();
    this.flushing = (async () => {
      while (this.completions.length) {
        const batch = this.completions.splice(0, 1000);
        try {
          await this.queue.completeMany(this.id, batch);
        } catch (error) {
          this.logger.error('recording finished jobs failed; they run again after their lease', { jobs: batch.length, error: (error as Error).message });
        } finally {
          for (const outcome of batch) this.unrecorded.delete(outcome.id);
        }
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.completions.length) void this.flush();
    });
    return this.flushing;
  }

  private async renew(): Promise<void> {
    const ids = [...this.running.filter((id) => !this.active.get(id)!.controller.signal.aborted), ...this.unrecorded];
    if (this.renewing || !ids.length) return;
    this.renewing = true;
    try {
      // On the LISTEN connection when there is one: a pooled connection may be long in coming
      // when handlers hold the pool and new connections open slowly under load.
      const { lost, cancel } = await this.queue.renew(this.id, ids, this.options.leaseMs, this.listener);
      for (const id of lost) this.stopJob(id, 'lost');
      for (const id of cancel) this.stopJob(id, 'cancel');
    } catch (error) {
      this.logger.warn('renewing leases failed', { worker: this.id, error: (error as Error).message });
    } finally {
      this.renewing = false;
    }
  }

  /** Puts back jobs of dead workers, kills jobs whose dependency died, and reconnects LISTEN. */
  private async maintain(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      const { requeued, dead } = await this.queue.reapLapsedLeases();
      if (requeued || dead) this.logger.warn('found jobs whose worker stopped renewing their lease', { requeued, dead });
      await this.queue.failOrphans();
    } catch (error) {
      this.logger.warn('job maintenance failed', { error: (error as Error).message });
    }
    if (!this.listener && this.db.dialect === 'postgres') await this.listen();
  }

  private async listen(): Promise<void> {
    if (this.db.dialect !== 'postgres' || !this.db.connection || this.state !== 'running') return;
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({
      connectionString: this.db.connection.url,
      ...(this.db.connection.password ? { password: this.db.connection.password } : {}),
    });
    client.on('notification', (message) => {
      if (message.channel === JOBS_CANCEL_CHANNEL) {
        if (message.payload) this.stopJob(message.payload, 'cancel');
      } else if (!message.payload || this.types.includes(message.payload)) this.wake();
    });
    client.on('error', (error) => {
      this.logger.warn('lost the LISTEN connection; polling until it is back', { error: error.message });
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${JOBS_CHANNEL}`);
      await client.query(`LISTEN ${JOBS_CANCEL_CHANNEL}`);
      this.listener = client;
      // Something may have been enqueued while we were not listening.
      this.wake();
    } catch (error) {
      this.logger.warn('cannot LISTEN for new jobs; polling instead', { error: (error as Error).message });
      await client.end().catch(() => undefined);
    }
  }
}

/** Resolves or rejects with `work`, or rejects with the signal's reason once it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
