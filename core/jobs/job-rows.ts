// A row of the `jobs` table and the `Job` it becomes: shared by the queue's reads, its lease
// protocol and its maintenance, which all select whole rows.
import type { Job, JobProgress, JobState } from './job-types.js';

/** A `jobs` row as the drivers return it (dates as Date or text, JSON as object or text, booleans as 0/1 on SQLite). */
export interface JobRow {
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

/** A timestamp column as a Date. */
export const date = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));
const maybeDate = (v: Date | string | null): Date | undefined => (v === null || v === undefined ? undefined : date(v));
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** The job a row holds, with the dependencies given (rows do not carry them). */
export function toJob(row: JobRow, dependsOn: string[]): Job {
  return {
    id: row.id, type: row.type, payload: json(row.payload) as Record<string, unknown>, state: row.state, priority: Number(row.priority), runAfter: date(row.run_after),
    attempts: Number(row.attempts), maxAttempts: Number(row.max_attempts), timeoutMs: row.timeout_ms ?? undefined, dedupeKey: row.dedupe_key ?? undefined,
    leaseOwner: row.lease_owner ?? undefined, leaseUntil: maybeDate(row.lease_until), cancelRequested: Boolean(row.cancel_requested),
    lastError: row.last_error ?? undefined, lastStack: row.last_stack ?? undefined, result: row.result === null || row.result === undefined ? undefined : json(row.result), dependsOn,
    progress: row.progress === null || row.progress === undefined ? undefined : (json(row.progress) as JobProgress),
    createdAt: date(row.created_at), updatedAt: date(row.updated_at), startedAt: maybeDate(row.started_at), finishedAt: maybeDate(row.finished_at),
  };
}
