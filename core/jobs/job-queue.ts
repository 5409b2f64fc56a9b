// The durable job queue in the database, for core and plugins (`JobQueueId`): adding jobs,
// reading them, cancelling and retrying them. The parts behind it have files of their own:
// the insert statements (job-inserts.ts), the lease protocol workers speak (job-leases.ts,
// its per-dialect SQL in job-lease-statements.ts), maintenance (job-maintenance.ts) and the
// wake-ups by event and NOTIFY (job-signals.ts); the queue keeps their methods on its own
// surface so that callers need one service. Delivery is at least once: a running job whose
// lease lapsed (its worker died) is claimed again.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { Disposable } from '../plugins/hook-id.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { EnqueueOptions, Job, JobOutcome, JobProgress, JobSpec, JobState } from './job-types.js';
import { INSERT_CHUNK, insertChunk, insertedJob, prepareJob, type PreparedJob } from './job-inserts.js';
import { JobLeases } from './job-leases.js';
import { JobMaintenance } from './job-maintenance.js';
import { toJob, type JobRow } from './job-rows.js';
import { JobSignals } from './job-signals.js';

export { JOB_STATES } from './job-types.js';
export type { EnqueueOptions, Job, JobOutcome, JobProgress, JobSpec, JobState } from './job-types.js';
export { JOBS_CANCEL_CHANNEL, JOBS_CHANNEL } from './job-signals.js';
export { backoffMs } from './job-leases.js';

/** Filter of `list`. */
export interface JobFilter {
  state?: JobState;
  type?: string;
  /** At most this many (default 100). */
  limit?: number;
  offset?: number;
}

/** Handler defaults the queue applies when enqueue options set none. */
export interface JobDefaults {
  maxAttempts: number;
  /** Per-type defaults (the handler's `maxAttempts`), looked up at enqueue. */
  maxAttemptsOf?: (type: string) => number | undefined;
}

/** The queue. */
export class JobQueue {
  private readonly signals: JobSignals;
  private readonly maintenance: JobMaintenance;
  private readonly leases: JobLeases;

  constructor(
    private readonly db: Database,
    private readonly defaults: JobDefaults,
  ) {
    this.signals = new JobSignals(db);
    this.maintenance = new JobMaintenance(db, this.signals);
    this.leases = new JobLeases(db, this.signals, this.maintenance);
  }

  /**
   * Adds a job, or returns the live (queued or running) job with the same dedupe key.
   * @throws ValidationError for a bad type or options, or a dependency that does not exist.
   */
  async enqueue(type: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<Job> {
    const prepared = prepareJob(type, payload, options, this.maxAttemptsFor(type, options));
    for (const dependency of options.dependsOn ?? []) {
      if (typeof dependency !== 'string' || !/^[0-9a-f-]{36}$/i.test(dependency)) throw new ValidationError(`dependsOn holds "${String(dependency)}", which is not a job id`);
    }
    if (!options.dependsOn?.length && !options.transaction && this.db.dialect === 'postgres') {
      // The common case in one round trip.
      return (await this.insertRows([prepared], undefined)).jobs[0]!;
    }
    const run = async (transaction: Transaction): Promise<Job> => {
      const { jobs: [job], inserted } = await this.insertRows([prepared], transaction);
      if (!options.dependsOn?.length || !inserted.has(job!.id)) return job!;
      const deps = [...new Set(options.dependsOn)];
      const found = await this.db.sequelize.query<{ id: string; state: JobState }>('SELECT id, state FROM jobs WHERE id IN (:deps)', { replacements: { deps }, type: QueryTypes.SELECT, transaction });
      const missing = deps.filter((d) => !found.some((f) => f.id === d));
      if (missing.length) throw new ValidationError(`job ${missing.join(', ')} named in dependsOn does not exist`);
      await this.db.sequelize.query(`INSERT INTO job_dependencies (job_id, depends_on) VALUES ${deps.map(() => '(?, ?)').join(', ')}`, { replacements: deps.flatMap((d) => [job!.id, d]), transaction });
      const ended = found.find((f) => f.state === 'dead' || f.state === 'cancelled');
      if (ended) {
        await this.db.sequelize.query(`UPDATE jobs SET state = 'dead', last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id`, {
          replacements: { id: job!.id, error: `dependency ${ended.id} ended ${ended.state}; this job cannot run`, now: new Date() },
          transaction,
        });
      }
      return this.get(job!.id, transaction);
    };
    return options.transaction ? run(options.transaction) : this.db.transaction(run);
  }

  /**
   * Adds many jobs at once, each with its own options: one statement per thousand jobs, all in
   * one transaction, so the batch is added whole or not at all. A job whose dedupe key is live
   * (or repeats a key earlier in the batch) is not added; that live job is returned in its place.
   * @param options.transaction enqueue inside this transaction: the jobs exist only if it commits.
   * @returns the jobs in the order given.
   * @throws ValidationError naming the first bad spec; then nothing is added.
   */
  async enqueueMany(specs: readonly JobSpec[], options: { transaction?: Transaction } = {}): Promise<Job[]> {
    if (!Array.isArray(specs)) throw new ValidationError('enqueueMany takes an array of job specs');
    const prepared = specs.map((spec, i) => {
      const where = `job ${i + 1} of ${specs.length}: `;
      if (!spec || typeof spec !== 'object') throw new ValidationError(`${where}a job spec is an object with type, payload and options`);
      return prepareJob(spec.type, spec.payload, spec.options ?? {}, this.maxAttemptsFor(spec.type, spec.options ?? {}), where);
    });
    if (!prepared.length) return [];
    const run = async (transaction: Transaction | undefined): Promise<Job[]> => {
      const out: Job[] = [];
      for (let i = 0; i < prepared.length; i += INSERT_CHUNK) out.push(...(await this.insertRows(prepared.slice(i, i + INSERT_CHUNK), transaction)).jobs);
      return out;
    };
    if (options.transaction) return run(options.transaction);
    // One PostgreSQL statement is atomic on its own; more need a transaction around them.
    if (this.db.dialect === 'postgres' && prepared.length <= INSERT_CHUNK) return run(undefined);
    return this.db.transaction(run);
  }

  /** A job by id, with its dependencies. @throws NotFoundError */
  async get(id: string, transaction?: Transaction): Promise<Job> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundError(`job ${id} not found: a job id is a UUID`);
    const [row] = await this.db.sequelize.query<JobRow>('SELECT * FROM jobs WHERE id = :id', { replacements: { id }, type: QueryTypes.SELECT, ...(transaction ? { transaction } : {}) });
    if (!row) throw new NotFoundError(`job ${id} not found`);
    const deps = await this.db.sequelize.query<{ depends_on: string }>('SELECT depends_on FROM job_dependencies WHERE job_id = :id', { replacements: { id }, type: QueryTypes.SELECT, ...(transaction ? { transaction } : {}) });
    return toJob(row, deps.map((d) => d.depends_on));
  }

  /** Jobs, newest first, filtered by state and type. */
  async list(filter: JobFilter = {}): Promise<Job[]> {
    const where: string[] = [];
    if (filter.state) where.push('state = :state');
    if (filter.type) where.push('type = :type');
    const rows = await this.db.sequelize.query<JobRow>(`SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset`, {
      replacements: { state: filter.state ?? null, type: filter.type ?? null, limit: filter.limit ?? 100, offset: filter.offset ?? 0 },
      type: QueryTypes.SELECT,
    });
    return rows.map((r) => toJob(r, []));
  }

  /** How many jobs are in each state (of one type, when given). */
  async counts(filter: { type?: string } = {}): Promise<Record<JobState, number>> {
    const rows = await this.db.sequelize.query<{ state: JobState; n: string | number }>(`SELECT state, COUNT(*) AS n FROM jobs ${filter.type ? 'WHERE type = :type' : ''} GROUP BY state`, {
      replacements: { type: filter.type ?? null },
      type: QueryTypes.SELECT,
    });
    const out: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  /**
   * Cancels a queued job at once, or asks a running job's handler to stop (its AbortSignal
   * fires; the job is `cancelled` once the handler has stopped).
   * @throws ValidationError for a job that has already ended; NotFoundError
   */
  async cancel(id: string): Promise<Job> {
    const now = new Date();
    const cancelled = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = 'cancelled', last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id AND state = 'queued' RETURNING id`,
      { replacements: { id, now, error: 'cancelled before it ran' }, type: QueryTypes.SELECT },
    );
    if (cancelled.length) {
      await this.maintenance.failDependantsOf([id]);
      return this.get(id);
    }
    const asked = await this.db.sequelize.query<{ id: string }>(`UPDATE jobs SET cancel_requested = :yes, updated_at = :now WHERE id = :id AND state = 'running' RETURNING id`, {
      replacements: { id, now, yes: true },
      type: QueryTypes.SELECT,
    });
    if (asked.length) {
      await this.signals.requestCancel(id);
      return this.get(id);
    }
    const job = await this.get(id);
    throw new ValidationError(`job ${id} is ${job.state}; only queued or running jobs can be cancelled`);
  }

  /**
   * Queues a dead or cancelled job again with fresh attempts (its dependants that died with it
   * are not retried: retry them too).
   * @throws ValidationError unless the job is dead or cancelled; ConflictError when another
   *   job with its dedupe key is live; NotFoundError
   */
  async retry(id: string): Promise<Job> {
    const job = await this.get(id);
    if (job.state !== 'dead' && job.state !== 'cancelled') throw new ValidationError(`job ${id} is ${job.state}; only dead or cancelled jobs can be retried`);
    try {
      const now = new Date();
      await this.db.sequelize.query(`UPDATE jobs SET state = 'queued', attempts = 0, run_after = :now, cancel_requested = :no, finished_at = NULL, updated_at = :now WHERE id = :id AND state IN ('dead', 'cancelled')`, {
        replacements: { id, now, no: false },
      });
    } catch (error) {
      if ((error as Error).name === 'SequelizeUniqueConstraintError') {
        throw new ConflictError(`job ${id} has the dedupe key "${job.dedupeKey}", and another job with that key is queued or running; it need not be retried`);
      }
      throw error;
    }
    await this.signals.wake();
    return this.get(id);
  }

  // The lease protocol (job-leases.ts).

  /** Claims runnable jobs for a worker; see `JobLeases.claim`. */
  claim(owner: string, options: { leaseMs: number; types: readonly string[]; limit?: number; complete?: readonly JobOutcome[] }): Promise<Job[]> {
    return this.leases.claim(owner, options);
  }

  /** Extends a worker's leases; see `JobLeases.renew`. @returns the ids lost and those asked to stop. */
  renew(owner: string, ids: readonly string[], leaseMs: number, connection?: pg.Client): Promise<{ lost: string[]; cancel: string[] }> {
    return this.leases.renew(owner, ids, leaseMs, connection);
  }

  /** Records one success, if `owner` still holds the lease. */
  async complete(id: string, owner: string, result: unknown): Promise<boolean> {
    return (await this.leases.completeMany(owner, [{ id, result }])).has(id);
  }

  /** Records successes in one statement; see `JobLeases.completeMany`. @returns the ids recorded. */
  completeMany(owner: string, outcomes: readonly JobOutcome[]): Promise<Set<string>> {
    return this.leases.completeMany(owner, outcomes);
  }

  /** Records a failed attempt; see `JobLeases.fail`. @returns the new state, or undefined when the lease was lost. */
  fail(id: string, owner: string, error: { message: string; stack?: string }, final = false): Promise<'queued' | 'dead' | undefined> {
    return this.leases.fail(id, owner, error, final);
  }

  /** Marks a running job cancelled once its handler stopped. */
  markCancelled(id: string, owner: string): Promise<boolean> {
    return this.leases.markCancelled(id, owner);
  }

  /** Gives running jobs back to the queue without counting their attempt (graceful shutdown). */
  release(owner: string, ids: readonly string[]): Promise<number> {
    return this.leases.release(owner, ids);
  }

  /** Records the progress of a running job, by its lease holder only. @returns whether it was recorded. */
  setProgress(id: string, owner: string, progress: Omit<JobProgress, 'at'>): Promise<boolean> {
    return this.leases.setProgress(id, owner, progress);
  }

  // Maintenance (job-maintenance.ts).

  /** Deletes finished jobs last changed before `before`; @returns how many. */
  purge(before: Date, states?: readonly JobState[]): Promise<number> {
    return this.maintenance.purge(before, states);
  }

  /** Running jobs whose lease lapsed more than `graceMs` ago (their worker died). */
  stuck(graceMs = 0): Promise<Job[]> {
    return this.maintenance.stuck(graceMs);
  }

  /** Queued jobs that are runnable but no one started for `olderThanMs`, by type. */
  waiting(olderThanMs: number): Promise<Array<{ type: string; count: number; oldest: Date }>> {
    return this.maintenance.waiting(olderThanMs);
  }

  /** Puts running jobs whose lease lapsed back in the queue (dead after their last attempt). @returns how many of each. */
  reapLapsedLeases(): Promise<{ requeued: number; dead: number }> {
    return this.maintenance.reapLapsedLeases();
  }

  /** Makes running jobs whose lease lapsed claimable at once; @returns how many were requeued or died. */
  async requeueStuck(): Promise<number> {
    const { requeued, dead } = await this.maintenance.reapLapsedLeases();
    return requeued + dead;
  }

  /**
   * Queued jobs whose dependency died or was cancelled die too, saying which (also those
   * enqueued while their dependency was dying). @returns how many.
   */
  failOrphans(): Promise<number> {
    return this.maintenance.failDependantsOf(undefined);
  }

  // Wake-ups (job-signals.ts).

  /** Calls `listener` when jobs may have become runnable in this process (enqueue, retry, release, a dependency done). */
  onDidQueueJobs(listener: (type: string | undefined) => void): Disposable {
    return this.signals.onDidQueueJobs(listener);
  }

  /** Calls `listener` with a job id when a cancel of a running job was requested in this process. */
  onDidRequestCancel(listener: (id: string) => void): Disposable {
    return this.signals.onDidRequestCancel(listener);
  }

  /**
   * Inserts jobs; a job whose dedupe key is live gets that live job instead.
   * @returns the jobs in the order of `prepared`, and the ids that were inserted.
   */
  private async insertRows(prepared: readonly PreparedJob[], transaction: Transaction | undefined): Promise<{ jobs: Job[]; inserted: Set<string> }> {
    const jobs: Array<Job | undefined> = new Array(prepared.length);
    const inserted = new Set<string>();
    let pending = prepared.map((p, index) => ({ p, index }));
    const inTx = transaction ? { transaction } : {};
    // A second round only when a live job with the key ended between our insert and our look-up.
    for (let round = 0; pending.length && round < 5; round++) {
      const now = new Date();
      const skipped = await insertChunk(this.db, pending.map((x) => x.p), now, transaction);
      const conflicted = [];
      for (const x of pending) {
        if (!skipped.has(x.p.id)) {
          jobs[x.index] = insertedJob(x.p, now);
          inserted.add(x.p.id);
        } else conflicted.push(x);
      }
      pending = [];
      if (!conflicted.length) break;
      const live = await this.db.sequelize.query<JobRow>(`SELECT * FROM jobs WHERE dedupe_key IN (:keys) AND state IN ('queued', 'running')`, {
        replacements: { keys: [...new Set(conflicted.map((x) => x.p.dedupeKey ?? ''))] },
        type: QueryTypes.SELECT,
        ...inTx,
      });
      const liveByKey = new Map(live.map((row) => [row.dedupe_key!, row]));
      for (const x of conflicted) {
        const row = x.p.dedupeKey === undefined ? undefined : liveByKey.get(x.p.dedupeKey);
        if (row) jobs[x.index] = toJob(row, []);
        else pending.push({ p: { ...x.p, id: randomUUID() }, index: x.index });
      }
    }
    if (pending.length) throw new Error(`could not enqueue ${pending.length} job(s): their dedupe keys kept changing hands`);
    if (inserted.size) this.signals.queuedHere(prepared.length === 1 ? prepared[0]!.type : undefined, transaction);
    return { jobs: jobs as Job[], inserted };
  }

  private maxAttemptsFor(type: string, options: Pick<EnqueueOptions, 'maxAttempts'>): number {
    return options.maxAttempts ?? this.defaults.maxAttemptsOf?.(type) ?? this.defaults.maxAttempts;
  }
}
