// The per-dialect SQL of the lease protocol (claim, complete, renew). On PostgreSQL these are
// the functions of migration 0002 (plans that do not depend on a churning table's
// statistics), called as prepared statements on a pooled connection; on SQLite, plain
// statements inside an IMMEDIATE transaction (the single writer).
import { QueryTypes } from 'sequelize';
import type pg from 'pg';
import type { Database } from '../db/database.js';
import type { JobRow } from './job-rows.js';
import type { JobOutcome } from './job-types.js';
import { runPooled } from './pooled-statement.js';

/** What a claim takes. */
export interface ClaimStatement {
  owner: string;
  now: Date;
  until: Date;
  types: readonly string[];
  limit: number;
  /**
   * Successes to record in the same statement (PostgreSQL only: on SQLite the caller records
   * them first).
   */
  complete: readonly JobOutcome[];
}

/** A job recorded as succeeded, and whether other jobs depend on it. */
export interface CompletedRow {
  id: string;
  has_dependants: boolean | number;
}

/** A lease renewed, and whether a cancel was asked for its job. */
export interface RenewedRow {
  id: string;
  cancel_requested: boolean | number;
}

const results = (outcomes: readonly JobOutcome[]): string => JSON.stringify(outcomes.map((o) => (o.result === undefined ? null : o.result)));

/** Claims runnable jobs (recording `complete` first on PostgreSQL). @returns the claimed rows. */
export async function claimRows(db: Database, c: ClaimStatement): Promise<JobRow[]> {
  if (db.dialect === 'postgres' && c.complete.length) {
    // One round trip and one commit for both.
    return runPooled<JobRow>(db, 'platform_jobs_complete_and_claim', 'SELECT * FROM platform_jobs_complete_and_claim($1, $2, $3, $4, $5, $6, $7)', [
      c.owner, c.now, c.complete.map((o) => o.id), results(c.complete), c.until, c.types, c.limit,
    ]);
  }
  if (db.dialect === 'postgres') return runPooled<JobRow>(db, 'platform_jobs_claim', 'SELECT * FROM platform_jobs_claim($1, $2, $3, $4, $5)', [c.owner, c.until, c.now, c.types, c.limit]);
  return db.transaction((transaction) =>
    db.sequelize.query<JobRow>(
      `UPDATE jobs SET state = 'running', lease_owner = :owner, lease_until = :until, attempts = attempts + 1, started_at = :now, updated_at = :now, cancel_requested = 0
       WHERE id IN (
         SELECT j.id FROM jobs j
         WHERE j.state = 'queued' AND j.run_after <= :now AND j.type IN (:types)
           AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = j.id AND p.state <> 'succeeded')
         ORDER BY j.priority DESC, j.run_after, j.id
         LIMIT :limit)
       RETURNING *`,
      { replacements: { owner: c.owner, until: c.until, now: c.now, types: [...c.types], limit: c.limit }, type: QueryTypes.SELECT, transaction },
    ),
  );
}

/** Records successes of jobs whose lease `owner` still holds. @returns those recorded. */
export async function completeRows(db: Database, owner: string, now: Date, outcomes: readonly JobOutcome[]): Promise<CompletedRow[]> {
  if (db.dialect === 'postgres') {
    const rows = await runPooled<{ job_id: string; has_dependants: boolean }>(db, 'platform_jobs_complete', 'SELECT * FROM platform_jobs_complete($1, $2, $3, $4)', [owner, now, outcomes.map((o) => o.id), results(outcomes)]);
    return rows.map((r) => ({ id: r.job_id, has_dependants: r.has_dependants }));
  }
  return db.transaction(async (transaction) => {
    const rows: CompletedRow[] = [];
    for (const outcome of outcomes) {
      rows.push(
        ...(await db.sequelize.query<{ id: string; has_dependants: number }>(
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

/**
 * Extends to `until` the leases of `ids` that `owner` still holds; on PostgreSQL on
 * `connection` when given (a worker's own), else on a pooled one. @returns those renewed.
 */
export async function renewRows(db: Database, owner: string, ids: readonly string[], until: Date, connection?: pg.Client): Promise<RenewedRow[]> {
  if (db.dialect === 'postgres') {
    const statement = { name: 'platform_jobs_renew', text: 'SELECT * FROM platform_jobs_renew($1, $2, $3)', values: [owner, ids, until] };
    const rows = connection
      ? (await connection.query<{ job_id: string; cancel_requested: boolean }>(statement)).rows
      : await runPooled<{ job_id: string; cancel_requested: boolean }>(db, statement.name, statement.text, statement.values);
    return rows.map((r) => ({ id: r.job_id, cancel_requested: r.cancel_requested }));
  }
  return db.transaction((transaction) =>
    db.sequelize.query<RenewedRow>(`UPDATE jobs SET lease_until = :until WHERE id IN (:ids) AND lease_owner = :owner AND state = 'running' RETURNING id, cancel_requested`, {
      replacements: { owner, ids: [...ids], until },
      type: QueryTypes.SELECT,
      transaction,
    }),
  );
}
