// The queue's maintenance: what workers run periodically and operators ask for. Jobs whose
// worker died (their lease lapsed) go back in the queue or die on their last attempt; queued
// jobs whose dependency died or was cancelled die too; finished jobs are purged; stuck and
// waiting jobs are reported.
import { QueryTypes } from 'sequelize';
import type { Database } from '../db/database.js';
import { date, toJob, type JobRow } from './job-rows.js';
import type { JobSignals } from './job-signals.js';
import type { Job, JobState } from './job-types.js';

/** Maintenance of the `jobs` table. */
export class JobMaintenance {
  constructor(
    private readonly db: Database,
    private readonly signals: JobSignals,
  ) {}

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
    if (rows.length > dead.length) await this.signals.wake();
    return { requeued: rows.length - dead.length, dead: dead.length };
  }

  /**
   * Queued jobs whose dependency (one of `ids`, or any job when undefined) died or was
   * cancelled die too, saying which; so do their own dependants, chain by chain.
   * @returns how many.
   */
  async failDependantsOf(ids: string[] | undefined): Promise<number> {
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
}
