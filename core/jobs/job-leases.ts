// The lease protocol between workers and the queue. A worker claims jobs in batches with a
// lease (on PostgreSQL one UPDATE over a `FOR UPDATE SKIP LOCKED` sub-select, so concurrent
// workers never wait for each other nor take the same job), renews the leases of all its
// running jobs in one statement, and records successes in batches; only the holder of a lease
// may record an outcome, so a worker that lost one changes nothing. Failures back off
// exponentially with jitter; after the last attempt a job is dead with its last error and stack.
import { QueryTypes } from 'sequelize';
import type pg from 'pg';
import type { Database } from '../db/database.js';
import { claimRows, completeRows, renewRows } from './job-lease-statements.js';
import type { JobMaintenance } from './job-maintenance.js';
import { toJob } from './job-rows.js';
import type { JobSignals } from './job-signals.js';
import type { Job, JobOutcome, JobProgress } from './job-types.js';

/** Backoff before attempt `attempt + 1`: exponential from 1 s, capped at 1 h, with ±25% jitter. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** The worker's side of the queue. */
export class JobLeases {
  constructor(
    private readonly db: Database,
    private readonly signals: JobSignals,
    private readonly maintenance: JobMaintenance,
  ) {}

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
    const together = this.db.dialect === 'postgres';
    if (!together && complete.length) await this.completeMany(owner, complete);
    const rows = await claimRows(this.db, { owner, now, until, types: options.types, limit, complete: together ? complete : [] });
    return rows.map((r) => toJob(r, [])).sort((a, b) => b.priority - a.priority || a.runAfter.getTime() - b.runAfter.getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * Extends the leases of `ids` held by `owner`.
   * @param connection a connection of the worker's own (PostgreSQL), so that renewals never
   *   wait behind other work for a pooled one while leases run out.
   * @returns which of them were lost (no longer running under this owner) and which were asked to stop.
   */
  async renew(owner: string, ids: readonly string[], leaseMs: number, connection?: pg.Client): Promise<{ lost: string[]; cancel: string[] }> {
    if (!ids.length) return { lost: [], cancel: [] };
    const rows = await renewRows(this.db, owner, ids, new Date(Date.now() + leaseMs), connection);
    const held = new Set(rows.map((r) => r.id));
    return { lost: ids.filter((id) => !held.has(id)), cancel: rows.filter((r) => Boolean(r.cancel_requested)).map((r) => r.id) };
  }

  /**
   * Records successes in one statement; a job whose lease `owner` no longer holds is left alone.
   * @returns the ids recorded.
   */
  async completeMany(owner: string, outcomes: readonly JobOutcome[]): Promise<Set<string>> {
    if (!outcomes.length) return new Set();
    const done = await completeRows(this.db, owner, new Date(), outcomes);
    if (done.some((d) => Boolean(d.has_dependants))) {
      // PostgreSQL's function NOTIFYs other processes itself.
      if (this.db.dialect === 'postgres') this.signals.queuedHere(undefined);
      else await this.signals.wake();
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
    if (dead) await this.maintenance.failDependantsOf([id]);
    return dead ? 'dead' : 'queued';
  }

  /** Marks a running job cancelled once its handler stopped. */
  async markCancelled(id: string, owner: string): Promise<boolean> {
    const now = new Date();
    const rows = await this.db.sequelize.query<{ id: string }>(
      `UPDATE jobs SET state = 'cancelled', lease_until = NULL, last_error = :error, finished_at = :now, updated_at = :now WHERE id = :id AND lease_owner = :owner AND state = 'running' RETURNING id`,
      { replacements: { id, owner, now, error: 'cancelled while running' }, type: QueryTypes.SELECT },
    );
    if (rows.length) await this.maintenance.failDependantsOf([id]);
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
    if (rows.length) await this.signals.wake();
    return rows.length;
  }

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
}
