// The durable job queue in the database, for core and plugins (`JobQueueId`).
// Workers claim jobs in batches with a lease: on PostgreSQL one UPDATE over a
// `FOR UPDATE SKIP LOCKED` sub-select, so concurrent workers never wait for each other nor
// take the same job; on SQLite one UPDATE inside an IMMEDIATE transaction (the single
// writer). A worker renews the leases of all its running jobs in one statement and records
// completions in batches. A running job whose lease lapsed (its worker died) is put back by
// any worker's maintenance and claimed again, so delivery is at least once. Failures back
// off exponentially with jitter; after the last attempt a job is dead with its last error and
// stack. On PostgreSQL, enqueueing NOTIFYs `platform_jobs` so idle workers start at once.
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import type pg from 'pg';
import type { Database } from '../db/database.js';
import type { Disposable } from '../plugins/hook-id.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { JOB_STATES, type EnqueueOptions, type Job, type JobProgress, type JobSpec, type JobState } from './job-types.js';
import { INSERT_CHUNK, JOBS_CHANNEL, insertChunk, insertedJob, prepareJob, type PreparedJob } from './job-inserts.js';

export { JOB_STATES } from './job-types.js';
export type { EnqueueOptions, Job, JobProgress, JobSpec, JobState } from './job-types.js';

/** Filter of `list`. */
export interface JobFilter {
  state?: JobState;
  type?: string;
  /** At most this many (default 100). */
  limit?: number;
  offset?: number;
}

/** A finished attempt, for `completeMany`. */
export interface JobOutcome {
  id: string;
  result: unknown;
}

/** Handler defaults the queue applies when enqueue options set none. */
export interface JobDefaults {
  maxAttempts: number;
  /** Per-type defaults (the handler's `maxAttempts`), looked up at enqueue. */
  maxAttemptsOf?: (type: string) => number | undefined;
}

interface JobRow {
  id: string;
  type: string;
  payload: unknown;
  state: JobState;
  priority: number;
  run_after: Date | string;
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  dedupe_key: string | null;
  lease_owner: string | null;
  lease_until: Date | string | null;
  cancel_requested: boolean | number;
  last_error: string | null;
  last_stack: string | null;
  result: unknown;
  progress?: unknown;
  created_at: Date | string;
  updated_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

/** The NOTIFY channels workers LISTEN on (PostgreSQL). */
export { JOBS_CHANNEL };
export const JOBS_CANCEL_CHANNEL = 'platform_jobs_cancel';


const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null): Date | undefined => (v === null || v === undefined ? undefined : date(v));
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** Backoff before attempt `attempt + 1`: exponential from 1 s, capped at 1 h, with ±25% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The queue. */
export class JobQueue {
  private readonly events = new EventEmitter();

  constructor(
    private readonly db: Database,
    private readonly defaults: JobDefaults,
  ) {
    this.events.setMaxListeners(0);
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
   * Claims up to `limit` runnable jobs for worker `owner` with a lease of `leaseMs`: queued
   * jobs of the given types whose time has come and whose dependencies succeeded, highest
   * priority first. Each claim counts an attempt. `complete` records successes first, in the
   * same round trip (a busy worker's completions ride on its next claim).
   */
  async claim(owner: string, options: { leaseMs: number; types: readonly string[]; limit?: number; complete?: readonly JobOutcome[] }): Promise<Job[]> {
    const limit = options.limit ?? 1;
    const complete = options.complete ?? [];
    if (!options.types.length || limit < 1) {
      if (complete.length) await this.completeMany(owner, complete);
      return [];
    }
    const now = new Date();
    const until = new Date(now.getTime() + options.leaseMs);
    let rows: JobRow[];
    if (this.db.dialect === 'postgres' && complete.length) {
      // One round trip and one commit for both.
      rows = await this.raw<JobRow>('platform_jobs_complete_and_claim', 'SELECT * FROM platform_jobs_complete_and_claim($1, $2, $3, $4, $5, $6, $7)', [
        owner, now, complete.map((o) => o.id), JSON.stringify(complete.map((o) => (o.result === undefined ? null : o.result))), until, options.types, limit,
      ]);
    } else if (this.db.dialect === 'postgres') {
      rows = await this.raw<JobRow>('platform_jobs_claim', 'SELECT * FROM platform_jobs_claim($1, $2, $3, $4, $5)', [owner, until, now, options.types, limit]);
    } else {
      if (complete.length) await this.completeMany(owner, complete);
      rows = await this.db.transaction((transaction) =>
        this.db.sequelize.query<JobRow>(
          `UPDATE jobs SET state = 'running', lease_owner = :owner, lease_until = :until, attempts = attempts + 1, started_at = :now, updated_at = :now, cancel_requested = 0
           WHERE id IN (
             SELECT j.id FROM jobs j
             WHERE j.state = 'queued' AND j.run_after <= :now AND j.type IN (:types)
               AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = j.id AND p.state <> 'succeeded')
             ORDER BY j.priority DESC, j.run_after, j.id
             LIMIT :limit)
           RETURNING *`,
          { replacements: { owner, until, now, types: [...options.types], limit }, type: QueryTypes.SELECT, transaction },
        ),
      );
    }
    return rows.map((r) => toJob(r, [])).sort((a, b) => b.priority - a.priority || a.runAfter.getTime() - b.runAfter.getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * Extends the leases of `ids` held by `owner`.
   * @returns which of them were lost (no longer running under this owner) and which were asked to stop.
   */
  async renew(owner: string, ids: readonly string[], leaseMs: number): Promise<{ lost: string[]; cancel: string[] }> {
    if (!ids.length) return { lost: [], cancel: [] };
    const until = new Date(Date.now() + leaseMs);
    const rows =
      this.db.dialect === 'postgres'
        ? (await this.raw<{ job_id: string; cancel_requested: boolean }>('platform_jobs_renew', 'SELECT * FROM platform_jobs_renew($1, $2, $3)', [owner, ids, until])).map((r) => ({ id: r.job_id, cancel_requested: r.cancel_requested }))
        : await this.db.transaction((transaction) =>
            this.db.sequelize.query<{ id: string; cancel_requested: number }>(
              `UPDATE jobs SET lease_until = :until WHERE id IN (:ids) AND lease_owner = :owner AND state = 'running' RETURNING id, cancel_requested`,
              { replacements: { owner, ids: [...ids], until }, type: QueryTypes.SELECT, transaction },
            ),
          );
    const held = new Set(rows.map((r) => r.id));
    return { lost: ids.filter((id) => !held.has(id)), cancel: rows.filter((r) => Boolean(r.cancel_requested)).map((r) => r.id) };
  }

  /** Records one success, if `owner` still holds the lease. */
  async complete(id: string, owner: string, result: unknown): Promise<boolean> {
    return (await this.completeMany(owner, [{ id, result }])).has(id);
  }

  /**
   * Records successes in one statement; a job whose lease `owner` no longer holds is left alone.
   * @returns the ids recorded.
   */
  async completeMany(owner: string, outcomes: readonly JobOutcome[]): Promise<Set<string>> {
    if (!outcomes.length) return new Set();
    const now = new Date();
    let done: Array<{ id: string; has_dependants: boolean | number }>;
    if (this.db.dialect === 'postgres') {
      const rows = await this.raw<{ job_id: string; has_dependants: boolean }>('platform_jobs_complete', 'SELECT * FROM platform_jobs_complete($1, $2, $3, $4)', [
        owner,
        now,
        outcomes.map((o) => o.id),
        JSON.stringify(outcomes.map((o) => (o.result === undefined ? null : o.result))),
      ]);
      done = rows.map((r) => ({ id: r.job_id, has_dependants: r.has_dependants }));
    } else {
      done = await this.db.transaction(async (transaction) => {
        const rows: Array<{ id: string; has_dependants: number }> = [];
        for (const outcome of outcomes) {
          rows.push(
            ...(await this.db.sequelize.query<{ id: string; has_dependants: number }>(
              `UPDATE jobs SET state = 'succeeded', lease_until = NULL, result = :result, finished_at = :now, updated_at = :now
               WHERE id = :id AND lease_owner = :owner AND state = 'running'
               RETURNING id, EXISTS (SELECT 1 FROM job_dependencies d WHERE d.depends_on = jobs.id) AS has_dependants`,
              { replacements: { id: outcome.id, owner, now, result: JSON.stringify(outcome.result === undefined ? null : outcome.result) }, type: QueryTypes.SELECT, transaction },
            )),
          );
        }
        return rows;
      });
    }
    if (done.some((d) => Boolean(d.has_dependants))) {
      // PostgreSQL's function NOTIFYs other processes itself.
      if (this.db.dialect === 'postgres') this.events.emit('queued', undefined);
      else await this.wake();
    }
    return new Set(done.map((d) => d.id));
  }

  /**
   * Records a failed attempt: queued again after a backoff while attempts remain (unless
   * `final`), dead otherwise, with the error and stack kept; dependants of a dead job die too.
   * @returns the new state, or undefined when `owner` no longer held the lease.
   */
  async fail(id: string, owner: string, error: { message: string; stack?: string }, final = false): Promise<'queued' | 'dead' | undefined> {
    const [row] = await this.db.sequelize.query<{ attempts: number; max_attempts: number }>(`SELECT attempts, max_attempts FROM jobs WHERE id = :id AND lease_owner = :owner AND state = 'running'`, {
      replacements: { id, owner },
      type: QueryTypes.SELECT,
    });
    if (!row) return undefined;
    const now = new Date();
    const dead = final || row.attempts >= row.max_attempts;
    const updated = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = :state, lease_until = NULL, run_after = :runAfter, last_error = :error, last_stack = :stack, finished_at = :finished, updated_at = :now
       WHERE id = :id AND lease_owner = :owner AND state = 'running' RETURNING id`,
      {
        replacements: {
          id, owner, now, state: dead ? 'dead' : 'queued', error: error.message.slice(0, 10_000), stack: error.stack?.slice(0, 20_000) ?? null,
          runAfter: dead ? now : new Date(now.getTime() + backoffMs(row.attempts)), finished: dead ? now : null,
        },
        type: QueryTypes.SELECT,
      },
    );
    if (!updated.length) return undefined;
    if (dead) await this.failDependantsOf([id]);
    return dead ? 'dead' : 'queued';
  }

  /** Marks a running job cancelled once its handler stopped. */
  async markCancelled(id: string, owner: string): Promise<boolean> {
    const now = new Date();
    const rows = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = 'cancelled', lease_until = NULL, last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id AND lease_owner = :owner AND state = 'running' RETURNING id`,
      { replacements: { id, owner, now, error: 'cancelled while running' }, type: QueryTypes.SELECT },
    );
    if (rows.length) await this.failDependantsOf([id]);
    return rows.length > 0;
  }

  /** Gives running jobs back to the queue without counting their attempt (graceful shutdown). */
  async release(owner: string, ids: readonly string[]): Promise<number> {
    if (!ids.length) return 0;
    const now = new Date();
    const rows = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = 'queued', lease_until = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, run_after = :now, last_error = :error, updated_at = :now
       WHERE id IN (:ids) AND lease_owner = :owner AND state = 'running' RETURNING id`,
      { replacements: { ids: [...ids], owner, now, error: `released by worker ${owner} at shutdown; not counted as an attempt` }, type: QueryTypes.SELECT },
    );
    if (rows.length) await this.wake();
    return rows.length;
  }

  /**
   * Cancels a queued job at once, or asks a running job's handler to stop (its AbortSignal
   * fires; the job is `cancelled` once the handler has stopped).
   * @throws ValidationError for a job that has already ended; NotFoundError
   */
  /**
   * Records the progress of a running job; only its lease holder may (a worker that lost the
   * lease changes nothing). @returns whether it was recorded.
   */
  async setProgress(id: string, owner: string, progress: Omit<JobProgress, 'at'>): Promise<boolean> {
    const value = JSON.stringify({ ...progress, at: new Date().toISOString() });
    const rows = await this.db.sequelize.query<{ id: string }>(`UPDATE jobs SET progress = :value WHERE id = :id AND state = 'running' AND lease_owner = :owner RETURNING id`, {
      replacements: { id, owner, value },
      type: QueryTypes.SELECT,
    });
    return rows.length > 0;
  }

  async cancel(id: string): Promise<Job> {
    const now = new Date();
    const cancelled = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = 'cancelled', last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id AND state = 'queued' RETURNING id`,
      { replacements: { id, now, error: 'cancelled before it ran' }, type: QueryTypes.SELECT },
    );
    if (cancelled.length) {
      await this.failDependantsOf([id]);
      return this.get(id);
    }
    const asked = await this.db.sequelize.query<{ id: string }>(`UPDATE jobs SET cancel_requested = :yes, updated_at = :now WHERE id = :id AND state = 'running' RETURNING id`, {
      replacements: { id, now, yes: true },
      type: QueryTypes.SELECT,
    });
    if (asked.length) {
      this.events.emit('cancel', id);
      if (this.db.dialect === 'postgres') await this.db.sequelize.query('SELECT pg_notify(:channel, :id)', { replacements: { channel: JOBS_CANCEL_CHANNEL, id }, type: QueryTypes.SELECT });
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
    await this.wake();
    return this.get(id);
  }

  /** Deletes finished jobs last changed before `before`; @returns how many. */
  async purge(before: Date, states: readonly JobState[] = ['succeeded', 'dead', 'cancelled']): Promise<number> {
    const finished = states.filter((s) => s !== 'queued' && s !== 'running');
    if (!finished.length) return 0;
    let removed = 0;
    for (;;) {
      const rows = await this.db.sequelize.query<{ id: string }>(
        `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN (:states) AND updated_at < :before LIMIT 5000) RETURNING id`,
        { replacements: { states: finished, before }, type: QueryTypes.SELECT },
      );
      removed += rows.length;
      if (rows.length < 5000) return removed;
    }
  }

  /** Running jobs whose lease lapsed more than `graceMs` ago (their worker died). */
  async stuck(graceMs = 0): Promise<Job[]> {
    const rows = await this.db.sequelize.query<JobRow>(`SELECT * FROM jobs WHERE state = 'running' AND lease_until < :cutoff ORDER BY lease_until LIMIT 1000`, {
      replacements: { cutoff: new Date(Date.now() - graceMs) },
      type: QueryTypes.SELECT,
    });
    return rows.map((r) => toJob(r, []));
  }

  /** Queued jobs that are runnable but no one started for `olderThanMs` (no worker handles their type, or none runs). */
  async waiting(olderThanMs: number): Promise<Array<{ type: string; count: number; oldest: Date }>> {
    const rows = await this.db.sequelize.query<{ type: string; n: string | number; oldest: Date | string }>(
      `SELECT type, COUNT(*) AS n, MIN(run_after) AS oldest FROM jobs WHERE state = 'queued' AND run_after < :cutoff GROUP BY type ORDER BY type`,
      { replacements: { cutoff: new Date(Date.now() - olderThanMs) }, type: QueryTypes.SELECT },
    );
    return rows.map((r) => ({ type: r.type, count: Number(r.n), oldest: date(r.oldest) }));
  }

  /**
   * Puts running jobs whose lease lapsed back in the queue (dead when that was their last
   * attempt), saying which worker stopped renewing. Workers call it periodically.
   * @returns how many were queued again and how many died.
   */
  async reapLapsedLeases(): Promise<{ requeued: number; dead: number }> {
    const now = new Date();
    const rows = await this.db.sequelize.query<{ id: string; state: JobState }>(
      `UPDATE jobs SET
         state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
         last_error = 'worker ' || COALESCE(lease_owner, '?') || ' stopped renewing the lease during attempt ' || attempts || ' of ' || max_attempts
           || CASE WHEN attempts >= max_attempts THEN ', the last one' ELSE '; queued again' END,
         last_stack = NULL,
         finished_at = CASE WHEN attempts >= max_attempts THEN ${this.db.dialect === 'postgres' ? 'CAST(:now AS timestamptz)' : ':now'} ELSE NULL END,
         lease_until = NULL, run_after = :now, updated_at = :now
       WHERE state = 'running' AND lease_until < :now
       RETURNING id, state`,
      { replacements: { now }, type: QueryTypes.SELECT },
    );
    const dead = rows.filter((r) => r.state === 'dead').map((r) => r.id);
    if (dead.length) await this.failDependantsOf(dead);
    if (rows.length > dead.length) await this.wake();
    return { requeued: rows.length - dead.length, dead: dead.length };
  }

  /** Makes running jobs whose lease lapsed claimable at once; @returns how many were requeued or died. */
  async requeueStuck(): Promise<number> {
    const { requeued, dead } = await this.reapLapsedLeases();
    return requeued + dead;
  }

  /**
   * Queued jobs whose dependency died or was cancelled die too, saying which (also those
   * enqueued while their dependency was dying). @returns how many.
   */
  async failOrphans(): Promise<number> {
    return this.failDependantsOf(undefined);
  }

  /** Calls `listener` when jobs may have become runnable in this process (enqueue, retry, release, a dependency done). */
  onDidQueueJobs(listener: (type: string | undefined) => void): Disposable {
    this.events.on('queued', listener);
    return { dispose: () => void this.events.off('queued', listener) };
  }

  /** Calls `listener` with a job id when a cancel of a running job was requested in this process. */
  onDidRequestCancel(listener: (id: string) => void): Disposable {
    this.events.on('cancel', listener);
    return { dispose: () => void this.events.off('cancel', listener) };
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
      const added = await insertChunk(this.db, pending.map((x) => x.p), now, transaction);
      const conflicted = [];
      for (const x of pending) {
        if (added.has(x.p.id)) {
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
    if (inserted.size) {
      const type = prepared.length === 1 ? prepared[0]!.type : undefined;
      if (transaction) transaction.afterCommit(() => void this.events.emit('queued', type));
      else this.events.emit('queued', type);
    }
    return { jobs: jobs as Job[], inserted };
  }

  private maxAttemptsFor(type: string, options: Pick<EnqueueOptions, 'maxAttempts'>): number {
    return options.maxAttempts ?? this.defaults.maxAttemptsOf?.(type) ?? this.defaults.maxAttempts;
  }

  private async failDependantsOf(ids: string[] | undefined): Promise<number> {
    let total = 0;
    let frontier = ids;
    // Each round kills the dependants of the jobs that died in the round before (chains).
    for (let round = 0; round < 100 && (frontier === undefined || frontier.length); round++) {
      const rows = await this.db.sequelize.query<{ job_id: string; depends_on: string; state: string }>(
        `SELECT d.job_id, d.depends_on, p.state FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on JOIN jobs j ON j.id = d.job_id
         WHERE j.state = 'queued' AND p.state IN ('dead', 'cancelled') ${frontier ? 'AND p.id IN (:frontier)' : ''}`,
        { replacements: { frontier: frontier ?? [] }, type: QueryTypes.SELECT },
      );
      const killed: string[] = [];
      const now = new Date();
      for (const row of rows) {
        const done = await this.db.sequelize.query<{ id: string }>(
          `UPDATE jobs SET state = 'dead', last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id AND state = 'queued' RETURNING id`,
          { replacements: { id: row.job_id, now, error: `dependency ${row.depends_on} ended ${row.state}; this job cannot run` }, type: QueryTypes.SELECT },
        );
        if (done.length) killed.push(row.job_id);
      }
      total += killed.length;
      frontier = killed;
    }
    return total;
  }

  /** Wakes idle workers: this process's at once, other processes' by NOTIFY (PostgreSQL). */
  private async wake(): Promise<void> {
    this.events.emit('queued', undefined);
    if (this.db.dialect === 'postgres') await this.db.sequelize.query(`SELECT pg_notify('${JOBS_CHANNEL}', '')`, { type: QueryTypes.SELECT }).catch(() => undefined);
  }

  /** A hot-path statement on a pooled connection, prepared once per connection. */
  private async raw<T>(name: string, text: string, values: unknown[]): Promise<T[]> {
    const manager = this.db.sequelize.connectionManager as unknown as {
      getConnection(options: { type: 'write' }): Promise<pg.Client>;
      releaseConnection(connection: pg.Client): Promise<void>;
    };
    const connection = await manager.getConnection({ type: 'write' });
    try {
      return (await connection.query({ name, text, values })).rows as T[];
    } finally {
      await manager.releaseConnection(connection);
    }
  }
}

function toJob(row: JobRow, dependsOn: string[]): Job {
  return {
    id: row.id, type: row.type, payload: json(row.payload) as Record<string, unknown>, state: row.state, priority: Number(row.priority), runAfter: date(row.run_after),
    attempts: Number(row.attempts), maxAttempts: Number(row.max_attempts), timeoutMs: row.timeout_ms ?? undefined, dedupeKey: row.dedupe_key ?? undefined,
    leaseOwner: row.lease_owner ?? undefined, leaseUntil: maybeDate(row.lease_until), cancelRequested: Boolean(row.cancel_requested),
    lastError: row.last_error ?? undefined, lastStack: row.last_stack ?? undefined, result: row.result === null || row.result === undefined ? undefined : json(row.result), dependsOn,
    progress: row.progress === null || row.progress === undefined ? undefined : (json(row.progress) as JobProgress),
    createdAt: date(row.created_at), updatedAt: date(row.updated_at), startedAt: maybeDate(row.started_at), finishedAt: maybeDate(row.finished_at),
  };
}
