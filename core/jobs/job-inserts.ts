// Adding jobs to the queue's table, one statement for many: the per-dialect SQL of `enqueue`
// and `enqueueMany`. Every spec is checked and serialised before the first write, so a bad
// spec refuses the whole batch with nothing written; the caller runs the chunks in one
// transaction, so a batch is added whole or not at all.
//
// On PostgreSQL a chunk travels as one JSON parameter unpacked by `json_to_recordset` (one
// parse, no thousands of placeholders for the driver to escape and the server to plan), the
// statement answers one row naming only the jobs it did not add (none, unless a dedupe key was
// live), and it NOTIFYs once per job type rather than per row. Outside a transaction it is a
// prepared statement on a pooled connection. On SQLite a chunk is one multi-row VALUES statement in the caller's IMMEDIATE
// transaction (the single writer).
import { randomUUID } from 'node:crypto';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import { ValidationError } from '../errors.js';
import type { EnqueueOptions, Job } from './job-types.js';
import { runPooled } from './pooled-statement.js';

/** The NOTIFY channel workers LISTEN on for new jobs (PostgreSQL); the payload is the job type. */
export const JOBS_CHANNEL = 'platform_jobs';

/** Jobs per statement: 1,000 keeps a SQLite statement under its placeholder limit. */
export const INSERT_CHUNK = 1000;

const TYPE_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,99}$/;
const INT32_MAX = 2_147_483_647;
const LIVE_KEY_CONFLICT = `ON CONFLICT (dedupe_key) WHERE state IN ('queued', 'running') AND dedupe_key IS NOT NULL DO NOTHING`;
const INSERT_COLUMNS = 'id, type, payload, state, priority, run_after, attempts, max_attempts, timeout_ms, dedupe_key, cancel_requested, created_at, updated_at';

const PG_INSERT = `
  WITH input AS (
    SELECT * FROM json_to_recordset($1::json)
      AS x(id uuid, type text, payload jsonb, priority integer, run_after timestamptz, max_attempts integer, timeout_ms integer, dedupe_key text)
  ), added AS (
    INSERT INTO jobs (${INSERT_COLUMNS})
    SELECT id, type, payload, 'queued', priority, run_after, 0, max_attempts, timeout_ms, dedupe_key, false, $2::timestamptz, $2::timestamptz FROM input
    ${LIVE_KEY_CONFLICT}
    RETURNING id, type
  ), notified AS (
    SELECT pg_notify('${JOBS_CHANNEL}', t.type) FROM (SELECT DISTINCT type FROM added) t
  )
  SELECT (SELECT COUNT(*) FROM notified) AS notified,
    ARRAY(SELECT input.id::text FROM input WHERE NOT EXISTS (SELECT 1 FROM added WHERE added.id = input.id)) AS skipped`;

/** One job ready to be written: checked, with its defaults applied and its payload serialised. */
export interface PreparedJob {
  id: string;
  type: string;
  /** The payload as JSON text. */
  payload: string;
  priority: number;
  runAfter: Date | undefined;
  maxAttempts: number;
  timeoutMs: number | undefined;
  dedupeKey: string | undefined;
}

/**
 * Checks one job's type, payload and options and serialises its payload.
 * @throws ValidationError saying what is wrong, prefixed by `where` (e.g. `job 3 of 10: `).
 */
export function prepareJob(type: string, payload: unknown, options: Omit<EnqueueOptions, 'transaction' | 'dependsOn'>, maxAttempts: number, where = ''): PreparedJob {
  const refuse = (message: string): never => {
    throw new ValidationError(`${where}${message}`);
  };
  if (typeof type !== 'string' || !TYPE_PATTERN.test(type)) refuse(`job type "${String(type)}" is not valid; use lowercase letters, digits and . _ : - (at most 100)`);
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) refuse(`the payload of a "${type}" job must be a JSON object`);
  const o = options ?? {};
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || Math.abs(o.priority) > INT32_MAX)) refuse(`priority must be a whole number between -${INT32_MAX} and ${INT32_MAX}, not ${o.priority}`);
  if (o.maxAttempts !== undefined && (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1 || o.maxAttempts > INT32_MAX)) refuse(`maxAttempts must be a whole number of at least 1, not ${o.maxAttempts}`);
  if (o.timeoutMs !== undefined && (!Number.isInteger(o.timeoutMs) || o.timeoutMs < 1 || o.timeoutMs > INT32_MAX)) refuse(`timeoutMs must be a whole number of milliseconds from 1 to ${INT32_MAX}, not ${o.timeoutMs}`);
  if (o.runAfter !== undefined && (!(o.runAfter instanceof Date) || Number.isNaN(o.runAfter.getTime()))) refuse('runAfter must be a valid Date');
  if (o.dedupeKey !== undefined && (typeof o.dedupeKey !== 'string' || !o.dedupeKey.length || o.dedupeKey.length > 300)) refuse('dedupeKey must be a string of 1 to 300 characters');
  let text: string;
  try {
    text = JSON.stringify(payload);
  } catch (error) {
    return refuse(`the payload of a "${type}" job cannot be stored as JSON: ${(error as Error).message}`);
  }
  // PostgreSQL's jsonb cannot hold NUL; refuse it on every database so a job is portable.
  if (text.includes('\\u0000')) refuse(`the payload of a "${type}" job contains a NUL character, which the database cannot store`);
  return { id: randomUUID(), type, payload: text, priority: o.priority ?? 0, runAfter: o.runAfter, maxAttempts: o.maxAttempts ?? maxAttempts, timeoutMs: o.timeoutMs, dedupeKey: o.dedupeKey };
}

/** The job a prepared job became when it was inserted at `now`. */
export function insertedJob(p: PreparedJob, now: Date): Job {
  return {
    id: p.id, type: p.type, payload: JSON.parse(p.payload) as Record<string, unknown>, state: 'queued', priority: p.priority, runAfter: p.runAfter ?? now, attempts: 0, maxAttempts: p.maxAttempts,
    timeoutMs: p.timeoutMs, dedupeKey: p.dedupeKey, leaseOwner: undefined, leaseUntil: undefined, cancelRequested: false, lastError: undefined, lastStack: undefined,
    result: undefined, progress: undefined, dependsOn: [], createdAt: now, updatedAt: now, startedAt: undefined, finishedAt: undefined,
  };
}

/**
 * Inserts one chunk (at most `INSERT_CHUNK` jobs) in `transaction` (or on its own, PostgreSQL
 * only), skipping those whose dedupe key is live.
 * @returns the ids not inserted (their dedupe key was live).
 */
export async function insertChunk(db: Database, jobs: readonly PreparedJob[], now: Date, transaction: Transaction | undefined): Promise<Set<string>> {
  const inTx = transaction ? { transaction } : {};
  if (db.dialect === 'postgres') {
    const nowText = now.toISOString();
    // Built by hand around the already serialised payloads, so each payload is stringified once.
    const input = `[${jobs
      .map((j) => `{"id":"${j.id}","type":${JSON.stringify(j.type)},"payload":${j.payload},"priority":${j.priority},"run_after":"${(j.runAfter ?? now).toISOString()}","max_attempts":${j.maxAttempts},"timeout_ms":${j.timeoutMs ?? 'null'},"dedupe_key":${j.dedupeKey === undefined ? 'null' : JSON.stringify(j.dedupeKey)}}`)
      .join(',')}]`;
    const [row] = transaction
      ? await db.sequelize.query<{ skipped: string[] }>(PG_INSERT, { bind: [input, nowText], type: QueryTypes.SELECT, transaction })
      : await runPooled<{ skipped: string[] }>(db, 'platform_jobs_insert', PG_INSERT, [input, nowText]);
    return new Set(row?.skipped ?? []);
  }
  const values = jobs.map(() => `(?, ?, ?, 'queued', ?, ?, 0, ?, ?, ?, ?, ?, ?)`).join(', ');
  const replacements = jobs.flatMap((j) => [j.id, j.type, j.payload, j.priority, j.runAfter ?? now, j.maxAttempts, j.timeoutMs ?? null, j.dedupeKey ?? null, false, now, now]);
  // Sequelize runs an INSERT on SQLite without fetching rows, so RETURNING would be lost: look the ids up.
  await db.sequelize.query(`INSERT INTO jobs (${INSERT_COLUMNS}) VALUES ${values} ${LIVE_KEY_CONFLICT}`, { replacements, ...inTx });
  const rows = await db.sequelize.query<{ id: string }>('SELECT id FROM jobs WHERE id IN (:ids)', { replacements: { ids: jobs.map((j) => j.id) }, type: QueryTypes.SELECT, ...inTx });
  const added = new Set(rows.map((r) => r.id));
  return new Set(jobs.filter((j) => !added.has(j.id)).map((j) => j.id));
}
