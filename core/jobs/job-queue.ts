// The durable job queue in the database. Workers claim with a lease (FOR UPDATE SKIP
// LOCKED on PostgreSQL; an IMMEDIATE transaction, the single writer, on SQLite); a job
// whose lease lapses is claimed again, so delivery is at least once. Retries back off
// exponentially with jitter; after the last attempt a job is dead with its last error.
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import { NotFoundError, ValidationError } from '../errors.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'dead' | 'cancelled';

/** A job as the queue reports it. */
export interface Job {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  state: JobState;
  priority: number;
  runAfter: Date;
  attempts: number;
  maxAttempts: number;
  timeoutMs: number | undefined;
  dedupeKey: string | undefined;
  leaseOwner: string | undefined;
  leaseUntil: Date | undefined;
  cancelRequested: boolean;
  lastError: string | undefined;
  lastStack: string | undefined;
  result: unknown;
  dependsOn: string[];
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | undefined;
  finishedAt: Date | undefined;
}

/** Options of `enqueue`. */
export interface EnqueueOptions {
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this time (delayed jobs). */
  runAfter?: Date;
  maxAttempts?: number;
  timeoutMs?: number;
  /** While a job with this key is queued or running, enqueueing returns it instead of a new one. */
  dedupeKey?: string;
  /** Run only after these jobs succeeded; die if one of them dies. */
  dependsOn?: string[];
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
  created_at: Date | string;
  updated_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null): Date | undefined => (v === null ? undefined : date(v));
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** Backoff before attempt `attempt + 1`: exponential from 1 s, capped at 1 h, with ±25% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The queue. */
export class JobQueue {
  constructor(
    private readonly db: Database,
    private readonly defaults: { maxAttempts: number },
  ) {}

  /** Adds a job, or returns the live job with the same dedupe key. */
  async enqueue(type: string, payload: Record<string, unknown>, options: EnqueueOptions = {}): Promise<Job> {
    if (!/^[a-z0-9][a-z0-9._:-]{0,99}$/.test(type)) throw new ValidationError(`job type "${type}" is not valid; use lowercase letters, digits and . _ : -`);
    if (options.dedupeKey) {
      const existing = await this.liveByKey(options.dedupeKey);
      if (existing) return existing;
    }
    const id = randomUUID();
    try {
      await this.db.transaction(async (transaction) => {
        await this.db.sequelize.query(
          `INSERT INTO jobs (id, type, payload, state, priority, run_after, attempts, max_attempts, timeout_ms, dedupe_key, cancel_requested, created_at, updated_at)
           VALUES (:id, :type, :payload, 'queued', :priority, :runAfter, 0, :maxAttempts, :timeoutMs, :dedupeKey, :no, :now, :now)`,
          {
            replacements: {
              id, type, payload: JSON.stringify(payload), priority: options.priority ?? 0, runAfter: options.runAfter ?? new Date(),
              maxAttempts: options.maxAttempts ?? this.defaults.maxAttempts, timeoutMs: options.timeoutMs ?? null, dedupeKey: options.dedupeKey ?? null, no: false, now: new Date(),
            },
            transaction,
          },
        );
        for (const dependency of options.dependsOn ?? []) {
          const [found] = await this.db.sequelize.query<{ id: string }>('SELECT id FROM jobs WHERE id = :dependency', { replacements: { dependency }, type: QueryTypes.SELECT, transaction });
          if (!found) throw new ValidationError(`job ${dependency} named in dependsOn does not exist`);
          await this.db.sequelize.query('INSERT INTO job_dependencies (job_id, depends_on) VALUES (:id, :dependency)', { replacements: { id, dependency }, transaction });
        }
      });
    } catch (error) {
      // Another process enqueued the same key between our check and insert.
      if (options.dedupeKey && (error as Error).name === 'SequelizeUniqueConstraintError') {
        const existing = await this.liveByKey(options.dedupeKey);
        if (existing) return existing;
      }
      throw error;
    }
    await this.notify();
    return this.get(id);
  }

  /** A job by id. @throws NotFoundError */
  async get(id: string, transaction?: Transaction): Promise<Job> {
    const [row] = await this.db.sequelize.query<JobRow>('SELECT * FROM jobs WHERE id = :id', { replacements: { id }, type: QueryTypes.SELECT, transaction });
    if (!row) throw new NotFoundError(`job ${id} not found`);
    const deps = await this.db.sequelize.query<{ depends_on: string }>('SELECT depends_on FROM job_dependencies WHERE job_id = :id', { replacements: { id }, type: QueryTypes.SELECT, transaction });
    return this.toJob(row, deps.map((d) => d.depends_on));
  }

  /** Jobs, newest first, filtered by state and type. */
  async list(filter: { state?: JobState; type?: string; limit?: number } = {}): Promise<Job[]> {
    const where: string[] = [];
    if (filter.state) where.push('state = :state');
    if (filter.type) where.push('type = :type');
    const rows = await this.db.sequelize.query<JobRow>(`SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT :limit`, {
      replacements: { state: filter.state ?? null, type: filter.type ?? null, limit: filter.limit ?? 100 },
      type: QueryTypes.SELECT,
    });
    return rows.map((r) => this.toJob(r, []));
  }

  /** Counts per state. */
  async counts(): Promise<Record<JobState, number>> {
    const rows = await this.db.sequelize.query<{ state: JobState; n: string | number }>('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state', { type: QueryTypes.SELECT });
    const out: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  /**
   * Claims the next runnable job for `owner` with a lease of `leaseMs`: a queued job whose
   * time has come and whose dependencies succeeded, or a running job whose lease lapsed.
   */
  async claim(owner: string, leaseMs: number, types?: string[]): Promise<Job | undefined> {
    await this.failJobsWithDeadDependencies();
    for (let tries = 0; tries < 10; tries++) {
      const now = new Date();
      const typeFilter = types?.length ? 'AND j.type IN (:types)' : '';
      const candidate = `SELECT j.id FROM jobs j
        WHERE ((j.state = 'queued' AND j.run_after <= :now) OR (j.state = 'running' AND j.lease_until < :now)) ${typeFilter}
          AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = j.id AND p.state <> 'succeeded')
        ORDER BY j.priority DESC, j.run_after ASC, j.id ASC LIMIT 1`;
      const replacements = { now, types: types ?? [], owner, until: new Date(now.getTime() + leaseMs) };
      const claimed = await this.db.transaction(async (transaction) => {
        const [row] = await this.db.sequelize.query<{ id: string }>(this.db.dialect === 'postgres' ? `${candidate} FOR UPDATE OF j SKIP LOCKED` : candidate, { replacements, type: QueryTypes.SELECT, transaction });
        if (!row) return undefined;
        const job = await this.get(row.id, transaction);
        if (job.state === 'running' && job.attempts >= job.maxAttempts) {
          await this.finish(job.id, 'dead', { error: `its worker stopped renewing the lease during the last attempt (${job.attempts} of ${job.maxAttempts})` }, transaction);
          return 'again' as const;
        }
        await this.db.sequelize.query(
          `UPDATE jobs SET state = 'running', lease_owner = :owner, lease_until = :until, attempts = attempts + 1, started_at = :now, updated_at = :now WHERE id = :id`,
          { replacements: { ...replacements, id: row.id }, transaction },
        );
        return this.get(row.id, transaction);
      });
      if (claimed !== 'again') return claimed;
    }
    return undefined;
  }

  /** Extends a lease. @returns false when the lease was lost; `cancel` when a cancel was requested. */
  async renew(id: string, owner: string, leaseMs: number): Promise<'ok' | 'lost' | 'cancel'> {
    const now = new Date();
    const [row] = await this.db.sequelize.query<{ cancel_requested: boolean | number }>('SELECT cancel_requested FROM jobs WHERE id = :id AND lease_owner = :owner AND state = :running', { replacements: { id, owner, running: 'running' }, type: QueryTypes.SELECT });
    if (!row) return 'lost';
    await this.db.sequelize.query('UPDATE jobs SET lease_until = :until, updated_at = :now WHERE id = :id AND lease_owner = :owner AND state = :running', { replacements: { id, owner, running: 'running', until: new Date(now.getTime() + leaseMs), now } });
    return row.cancel_requested ? 'cancel' : 'ok';
  }

  /** Records success, if `owner` still holds the lease. */
  async complete(id: string, owner: string, result: unknown): Promise<boolean> {
    return this.settle(id, owner, 'succeeded', { result });
  }

  /**
   * Records a failure: queued again after a backoff while attempts remain (unless `final`),
   * dead otherwise, with the error and stack kept.
   */
  async fail(id: string, owner: string, error: { message: string; stack?: string }, final = false): Promise<JobState | undefined> {
    const job = await this.get(id);
    if (job.leaseOwner !== owner || job.state !== 'running') return undefined;
    if (!final && job.attempts < job.maxAttempts) {
      const now = new Date();
      await this.db.sequelize.query(
        `UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, run_after = :runAfter, last_error = :error, last_stack = :stack, updated_at = :now WHERE id = :id AND lease_owner = :owner`,
        { replacements: { id, owner, runAfter: new Date(now.getTime() + backoffMs(job.attempts)), error: error.message, stack: error.stack ?? null, now } },
      );
      return 'queued';
    }
    await this.settle(id, owner, 'dead', { error: error.message, ...(error.stack ? { stack: error.stack } : {}) });
    return 'dead';
  }

  /** Marks a running job cancelled after its handler stopped. */
  async markCancelled(id: string, owner: string): Promise<void> {
    await this.settle(id, owner, 'cancelled', { error: 'cancelled' });
  }

  /** Gives a running job back to the queue without counting the attempt (graceful shutdown). */
  async release(id: string, owner: string): Promise<void> {
    await this.db.sequelize.query(`UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1, updated_at = :now WHERE id = :id AND lease_owner = :owner AND state = 'running'`, { replacements: { id, owner, now: new Date() } });
  }

  /** Cancels a queued job at once, or asks a running job's handler to stop. */
  async cancel(id: string): Promise<Job> {
    const job = await this.get(id);
    if (job.state === 'queued') await this.finish(id, 'cancelled', { error: 'cancelled before it ran' });
    else if (job.state === 'running') await this.db.sequelize.query('UPDATE jobs SET cancel_requested = :yes, updated_at = :now WHERE id = :id', { replacements: { id, yes: true, now: new Date() } });
    else throw new ValidationError(`job ${id} is ${job.state}; only queued or running jobs can be cancelled`);
    return this.get(id);
  }

  /** Queues a dead or cancelled job again with fresh attempts. */
  async retry(id: string): Promise<Job> {
    const job = await this.get(id);
    if (job.state !== 'dead' && job.state !== 'cancelled') throw new ValidationError(`job ${id} is ${job.state}; only dead or cancelled jobs can be retried`);
    await this.db.sequelize.query(`UPDATE jobs SET state = 'queued', attempts = 0, run_after = :now, cancel_requested = :no, finished_at = NULL, updated_at = :now WHERE id = :id`, { replacements: { id, now: new Date(), no: false } });
    await this.notify();
    return this.get(id);
  }

  /** Deletes finished jobs older than `before`; @returns how many. */
  async purge(before: Date, states: JobState[] = ['succeeded', 'dead', 'cancelled']): Promise<number> {
    const rows = await this.db.sequelize.query<{ id: string }>(`SELECT id FROM jobs WHERE state IN (:states) AND updated_at < :before`, { replacements: { states, before }, type: QueryTypes.SELECT });
    if (!rows.length) return 0;
    await this.db.sequelize.query('DELETE FROM jobs WHERE id IN (:ids)', { replacements: { ids: rows.map((r) => r.id) } });
    return rows.length;
  }

  /** Running jobs whose lease lapsed more than `graceMs` ago (their worker died). */
  async stuck(graceMs = 0): Promise<Job[]> {
    const rows = await this.db.sequelize.query<JobRow>(`SELECT * FROM jobs WHERE state = 'running' AND lease_until < :cutoff`, { replacements: { cutoff: new Date(Date.now() - graceMs) }, type: QueryTypes.SELECT });
    return rows.map((r) => this.toJob(r, []));
  }

  /** Makes stuck jobs claimable at once; @returns how many. */
  async requeueStuck(): Promise<number> {
    const stuck = await this.stuck();
    for (const job of stuck) await this.db.sequelize.query(`UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, run_after = :now, updated_at = :now WHERE id = :id AND state = 'running'`, { replacements: { id: job.id, now: new Date() } });
    return stuck.length;
  }

  private async liveByKey(key: string): Promise<Job | undefined> {
    const [row] = await this.db.sequelize.query<{ id: string }>(`SELECT id FROM jobs WHERE dedupe_key = :key AND state IN ('queued', 'running')`, { replacements: { key }, type: QueryTypes.SELECT });
    return row ? this.get(row.id) : undefined;
  }

  private async settle(id: string, owner: string, state: 'succeeded' | 'dead' | 'cancelled', outcome: { result?: unknown; error?: string; stack?: string }): Promise<boolean> {
    const now = new Date();
    const [, meta] = await this.db.sequelize.query(
      `UPDATE jobs SET state = :state, lease_owner = NULL, lease_until = NULL, result = :result, last_error = COALESCE(:error, last_error), last_stack = COALESCE(:stack, last_stack), finished_at = :now, updated_at = :now
       WHERE id = :id AND lease_owner = :owner AND state = 'running'`,
      { replacements: { id, owner, state, result: outcome.result === undefined ? null : JSON.stringify(outcome.result), error: outcome.error ?? null, stack: outcome.stack ?? null, now }, type: QueryTypes.UPDATE },
    );
    return affected(meta) > 0;
  }

  private async finish(id: string, state: 'dead' | 'cancelled', outcome: { error: string }, transaction?: Transaction): Promise<void> {
    await this.db.sequelize.query(`UPDATE jobs SET state = :state, lease_owner = NULL, lease_until = NULL, last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id`, {
      replacements: { id, state, error: outcome.error, now: new Date() },
      transaction,
    });
  }

  /** Queued jobs whose dependency died or was cancelled die too, saying which. */
  private async failJobsWithDeadDependencies(): Promise<void> {
    const rows = await this.db.sequelize.query<{ job_id: string; depends_on: string; state: string }>(
      `SELECT d.job_id, d.depends_on, p.state FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on JOIN jobs j ON j.id = d.job_id WHERE j.state = 'queued' AND p.state IN ('dead', 'cancelled')`,
      { type: QueryTypes.SELECT },
    );
    for (const row of rows) await this.finish(row.job_id, 'dead', { error: `dependency ${row.depends_on} ended ${row.state}; this job cannot run` });
  }

  private async notify(): Promise<void> {
    if (this.db.dialect === 'postgres') await this.db.sequelize.query('NOTIFY platform_jobs').catch(() => undefined);
  }

  private toJob(row: JobRow, dependsOn: string[]): Job {
    return {
      id: row.id, type: row.type, payload: json(row.payload) as Record<string, unknown>, state: row.state, priority: row.priority, runAfter: date(row.run_after),
      attempts: row.attempts, maxAttempts: row.max_attempts, timeoutMs: row.timeout_ms ?? undefined, dedupeKey: row.dedupe_key ?? undefined,
      leaseOwner: row.lease_owner ?? undefined, leaseUntil: maybeDate(row.lease_until), cancelRequested: Boolean(row.cancel_requested),
      lastError: row.last_error ?? undefined, lastStack: row.last_stack ?? undefined, result: row.result === null ? undefined : json(row.result), dependsOn,
      createdAt: date(row.created_at), updatedAt: date(row.updated_at), startedAt: maybeDate(row.started_at), finishedAt: maybeDate(row.finished_at),
    };
  }
}

function affected(meta: unknown): number {
  if (typeof meta === 'number') return meta;
  const m = meta as { rowCount?: number; changes?: number } | undefined;
  return m?.rowCount ?? m?.changes ?? 0;
}
