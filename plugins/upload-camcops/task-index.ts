// The server's task index, as CamCOPS keeps one (_task_index): a row per current task
// record (table, server PK, patient, creation time, device, era, group, completeness), so
// that tasks can be listed and found by patient without reading every task table. Uploads
// and force-finalising maintain it in their own transaction; inspect finds and rebuilds an
// index that disagrees with the tables.
import { DatabaseId, type ActionDefinition, type InspectCheck, type InspectFinding } from '../../core/api.js';
import type { ClientTableDefinition } from './client-table-definition.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { organizationOf, rowId, sqlOf, shortText } from './camcops-action-support.js';
import { findDevice } from './device-store.js';
import { quoteIdentifier, SqlRunner, type SqlValue } from './sql-runner.js';

const INDEX_COLUMNS = [
  'task_table_name', 'task_pk', 'patient_pk', 'device_id', 'era', 'group_id', 'when_created_iso', 'when_created_utc',
  'when_added_batch_utc', 'adding_user_id', 'task_is_complete', 'indexed_at_utc',
] as const;

/** An index row as stored. */
interface IndexRow {
  task_table_name: string;
  task_pk: number;
  patient_pk: number | null;
  device_id: number;
  era: string;
  group_id: string;
  when_created_iso: string | null;
  when_created_utc: string | null;
  when_added_batch_utc: string | null;
  adding_user_id: string | null;
  task_is_complete: number;
}

/** UTC ISO time of a client's when_created text (which may carry any offset); null if unparseable. */
function utcOf(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The index rows a task table's current records should have, for records matching `where`. */
async function expectedRows(sql: SqlRunner, table: ClientTableDefinition, where: string, bind: readonly SqlValue[]): Promise<IndexRow[]> {
  const t = quoteIdentifier(storageTableName(table));
  // Completeness is decided in SQL, so that long texts (a progress note) are not read back.
  const fields = [...new Set(table.completeFields)].map((f) => `t.${quoteIdentifier(f)} IS NOT NULL`);
  const complete = fields.length ? `CASE WHEN ${fields.join(' AND ')} THEN 1 ELSE 0 END` : '1';
  const patientJoin = table.hasPatient
    ? `LEFT JOIN ${quoteIdentifier(storageTableName('patient'))} p ON p."id" = t."patient_id" AND p."_device_id" = t."_device_id" AND p."_era" = t."_era" AND p."_current" = 1`
    : '';
  const rows = await sql.select<Record<string, unknown>>(
    `SELECT t."_pk", t."_device_id", t."_era", t."_group_id", t."when_created", t."_when_added_batch_utc", t."_adding_user_id", ${complete} AS is_complete${table.hasPatient ? ', p."_pk" AS patient_pk' : ''}
     FROM ${t} t ${patientJoin} WHERE t."_current" = 1 AND ${where}`,
    bind,
  );
  return rows.map((r) => ({
    task_table_name: table.name,
    task_pk: Number(r._pk),
    patient_pk: r.patient_pk === null || r.patient_pk === undefined ? null : Number(r.patient_pk),
    device_id: Number(r._device_id),
    era: String(r._era),
    group_id: String(r._group_id),
    when_created_iso: typeof r.when_created === 'string' ? r.when_created : null,
    when_created_utc: utcOf(r.when_created),
    when_added_batch_utc: (r._when_added_batch_utc as string | null) ?? null,
    adding_user_id: (r._adding_user_id as string | null) ?? null,
    task_is_complete: Number(r.is_complete) ? 1 : 0,
  }));
}

async function insertIndexRows(sql: SqlRunner, rows: readonly IndexRow[], now: string): Promise<void> {
  await sql.insertRows('camcops_task_index', INDEX_COLUMNS, rows.map((r) => [...INDEX_COLUMNS.slice(0, -1).map((c) => r[c as keyof IndexRow] as SqlValue), now]));
}

/**
 * Re-indexes a device's task records in the given eras (after an upload: `NOW` and the
 * batch's era, the only ones an upload or force-finalising changes). A fixed number of
 * statements per task table re-indexed.
 * @param changed the tables the upload changed: only their task tables are re-indexed, unless
 *   `patient` is among them (entries name the patient's record, whose key a change moves).
 *   Without it, every task table is.
 */
export async function reindexDeviceTasks(sql: SqlRunner, tables: ClientTableRegistry, deviceId: number, eras: readonly string[], now: string, changed?: ReadonlySet<string>): Promise<void> {
  const unique = [...new Set(eras)];
  const marks = unique.map((_, i) => `$${i + 3}`).join(', ');
  const all = !changed || changed.has('patient');
  for (const table of tables.ordered().filter((t) => t.role === 'task' && (all || changed.has(t.name)))) {
    await sql.run(`DELETE FROM camcops_task_index WHERE task_table_name = $1 AND device_id = $2 AND era IN (${marks})`, [table.name, deviceId, ...unique]);
    const rows = await expectedRows(sql, table, `t."_device_id" = $1 AND t."_era" IN (${unique.map((_, i) => `$${i + 2}`).join(', ')})`, [deviceId, ...unique]);
    await insertIndexRows(sql, rows, now);
  }
}

/** Rebuilds the whole index from the task tables. */
export async function rebuildTaskIndex(sql: SqlRunner, tables: ClientTableRegistry, now: string): Promise<number> {
  await sql.run('DELETE FROM camcops_task_index');
  let n = 0;
  for (const table of tables.ordered().filter((t) => t.role === 'task')) {
    const rows = await expectedRows(sql, table, '1 = 1', []);
    await insertIndexRows(sql, rows, now);
    n += rows.length;
  }
  return n;
}

const COMPARED: ReadonlyArray<keyof IndexRow> = ['patient_pk', 'device_id', 'era', 'group_id', 'when_created_utc', 'task_is_complete'];

/** Describes where the stored index disagrees with the tables (empty when it agrees). */
export async function taskIndexDisagreements(sql: SqlRunner, tables: ClientTableRegistry): Promise<string[]> {
  const problems: string[] = [];
  for (const table of tables.ordered().filter((t) => t.role === 'task')) {
    const expected = new Map((await expectedRows(sql, table, '1 = 1', [])).map((r) => [r.task_pk, r]));
    const stored = await sql.select<Record<string, unknown>>(`SELECT ${COMPARED.join(', ')}, task_pk FROM camcops_task_index WHERE task_table_name = $1`, [table.name]);
    let missing = 0;
    let extra = 0;
    let wrong = 0;
    const seen = new Set<number>();
    for (const s of stored) {
      const pk = Number(s.task_pk);
      seen.add(pk);
      const e = expected.get(pk);
      if (!e) extra++;
      else if (COMPARED.some((c) => String(s[c] ?? '') !== String(e[c] ?? ''))) wrong++;
    }
    for (const pk of expected.keys()) if (!seen.has(pk)) missing++;
    if (missing || extra || wrong) problems.push(`${table.name}: ${missing} missing, ${extra} stale, ${wrong} out of date`);
  }
  return problems;
}

/** The inspect check: the index must agree with the task tables; the repair rebuilds it. */
export function taskIndexCheck(tables: () => ClientTableRegistry): InspectCheck {
  return {
    area: 'camcops',
    name: 'task index',
    async run(ctx) {
      const db = ctx.services.get(DatabaseId);
      const sql = new SqlRunner(db.sequelize, db.dialect, undefined);
      const problems = await taskIndexDisagreements(sql, tables());
      if (!problems.length) return [{ severity: 'ok', title: 'the CamCOPS task index agrees with the task tables' }];
      const finding: InspectFinding = {
        severity: 'problem',
        title: `the CamCOPS task index disagrees with ${problems.length} task table(s)`,
        why: 'task listings (camcops_task_index_list) and task schedules\' completion are read from the index',
        fix: 'platform inspect --only camcops --repair rebuilds it from the task tables',
        details: problems,
        repair: {
          description: 'rebuild the CamCOPS task index',
          apply: async () => {
            const n = await db.transaction(async (transaction) => rebuildTaskIndex(new SqlRunner(db.sequelize, db.dialect, transaction), tables(), new Date().toISOString()));
            return `indexed ${n} task record(s)`;
          },
        },
      };
      return [finding];
    },
  };
}

const str = shortText;
const count = rowId;

/** camcops_task_index_list. */
export function taskIndexListAction(tables: () => ClientTableRegistry): ActionDefinition {
  return {
    name: 'camcops_task_index_list',
    kind: 'read',
    help: 'Current task records of an organisation from the server\'s task index, newest first: table, server PK, patient (_pk of the patient row), creation time, device, era, completeness. Filters: table, patient_pk, era ("NOW" or a batch time), device; limit (at most 1000) and offset. Members of the organisation.',
    inputSchema: {
      type: 'object', additionalProperties: false, required: ['organization'],
      properties: { organization: str, table: str, patient_pk: count, era: { type: 'string', maxLength: 40 }, device: str, limit: count, offset: count },
    },
    async run(input, ctx) {
      const organizationId = await organizationOf(ctx, input, 'member');
      const sql = sqlOf(ctx);
      const where = ['group_id = $1'];
      const bind: SqlValue[] = [organizationId];
      const add = (clause: string, value: SqlValue): void => {
        bind.push(value);
        where.push(`${clause} = $${bind.length}`);
      };
      if (input.table !== undefined) {
        const table = tables().get(String(input.table));
        if (!table || table.role !== 'task') return { count: 0, limit: 0, offset: 0, tasks: [] };
        add('task_table_name', table.name);
      }
      if (input.patient_pk !== undefined) add('patient_pk', Number(input.patient_pk));
      if (input.era !== undefined) add('era', String(input.era));
      if (input.device !== undefined) {
        const device = await findDevice(sql, String(input.device));
        add('device_id', device ? device.id : -1);
      }
      const limit = Math.min(Number(input.limit ?? 100), 1000);
      const offset = Number(input.offset ?? 0);
      const [{ n }] = (await sql.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM camcops_task_index WHERE ${where.join(' AND ')}`, bind)) as [{ n: number | string }];
      const rows = await sql.select<Record<string, unknown>>(
        `SELECT i.*, d.name AS device_name FROM camcops_task_index i LEFT JOIN camcops_devices d ON d.id = i.device_id WHERE ${where.map((w) => `i.${w}`).join(' AND ')} ORDER BY i.when_created_utc DESC, i.index_entry_pk DESC LIMIT ${limit} OFFSET ${offset}`,
        bind,
      );
      const tasks = rows.map((r) => ({
        table: r.task_table_name,
        task_pk: Number(r.task_pk),
        patient_pk: r.patient_pk === null ? null : Number(r.patient_pk),
        when_created: r.when_created_iso,
        when_created_utc: r.when_created_utc,
        device: r.device_name,
        era: r.era,
        complete: Boolean(Number(r.task_is_complete)),
        when_added_batch_utc: r.when_added_batch_utc,
      }));
      return { count: Number(n), limit, offset, tasks };
    },
  };
}
