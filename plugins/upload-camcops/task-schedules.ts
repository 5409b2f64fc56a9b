// Task schedules, as CamCOPS has them: an organisation's named lists of tasks, each due
// from and due by a time after the schedule starts (ISO 8601 durations), assigned to
// patients registered on the server with a start date and per-task settings. A patient's
// tablet fetches them with get_task_schedules, in CamCOPS's JSON, with each item's
// completion worked out from the task index.
import { AuditLogId, NotFoundError, ValidationError, type ActionDefinition } from '../../core/api.js';
import type { ClientTableDefinition } from './client-table-definition.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { organizationOf, organizationRefOf, sqlOf, shortText, rowId } from './camcops-action-support.js';
import { groupIpUse, prohibitedContexts, whyNotSchedulable } from './ip-use.js';
import { quoteIdentifier, type SqlRunner, type SqlValue } from './sql-runner.js';

const DAY_SECONDS = 86_400;
const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Seconds in an ISO 8601 duration (`P7D`, `P2W`, `PT36H`, ...). Years and months have no
 * fixed length and are refused unless zero (CamCOPS itself stores `P0Y0MT...S`).
 * @returns undefined when the text is not such a duration.
 */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  if (Number(m[1] ?? 0) || Number(m[2] ?? 0)) return undefined;
  return Number(m[3] ?? 0) * 7 * DAY_SECONDS + Number(m[4] ?? 0) * DAY_SECONDS + Number(m[5] ?? 0) * 3600 + Number(m[6] ?? 0) * 60 + Number(m[7] ?? 0);
}

/** The canonical text of a duration: whole days as `P<n>D`, else seconds as `PT<n>S`. */
export function formatDuration(seconds: number): string {
  return seconds % DAY_SECONDS === 0 ? `P${seconds / DAY_SECONDS}D` : `PT${seconds}S`;
}

/** ISO 8601 UTC without milliseconds, as CamCOPS's to_iso8601_string() writes UTC times. */
function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A schedule item as stored. */
interface ItemRow {
  id: number | string;
  schedule_id: number | string;
  task_table_name: string;
  due_from: string;
  due_by: string;
}

/** Items of schedules in CamCOPS's order (due from, then due by). */
async function itemsOf(sql: SqlRunner, scheduleIds: readonly number[]): Promise<ItemRow[]> {
  if (!scheduleIds.length) return [];
  const rows = await sql.select<ItemRow>(`SELECT id, schedule_id, task_table_name, due_from, due_by FROM camcops_task_schedule_items WHERE schedule_id IN (${scheduleIds.map((_, i) => `$${i + 1}`).join(', ')})`, scheduleIds);
  const secs = (t: string): number => durationSeconds(t) ?? 0;
  return rows.sort((a, b) => secs(a.due_from) - secs(b.due_from) || secs(a.due_by) - secs(b.due_by) || Number(a.id) - Number(b.id));
}

/** A server patient's ID numbers, and the _pk of every current uploaded patient row in the group that shares one (CamCOPS matches by any ID number). */
async function matchingPatientPks(sql: SqlRunner, organizationId: string, idnums: Record<string, number>): Promise<number[]> {
  const pairs = Object.entries(idnums);
  if (!pairs.length) return [];
  const bind: SqlValue[] = [organizationId];
  const clauses = pairs.map(([which, value]) => {
    bind.push(Number(which), value);
    return `(i."which_idnum" = $${bind.length - 1} AND i."idnum_value" = $${bind.length})`;
  });
  const rows = await sql.select<{ pk: number | string }>(
    `SELECT DISTINCT p."_pk" AS pk FROM ${quoteIdentifier(storageTableName('patient'))} p
     JOIN ${quoteIdentifier(storageTableName('patient_idnum'))} i ON i."patient_id" = p."id" AND i."_device_id" = p."_device_id" AND i."_era" = p."_era" AND i."_current" = 1
     WHERE p."_current" = 1 AND p."_group_id" = $1 AND (${clauses.join(' OR ')})`,
    bind,
  );
  return rows.map((r) => Number(r.pk));
}

/** The newest indexed task of a table for those patients created in [from, by). */
async function scheduledTask(sql: SqlRunner, table: ClientTableDefinition, organizationId: string, patientPks: readonly number[], from: string, by: string): Promise<{ pk: number; complete: boolean } | undefined> {
  if (!patientPks.length || !table.hasPatient) return undefined;
  const [row] = await sql.select<{ task_pk: number | string; task_is_complete: number | string }>(
    `SELECT task_pk, task_is_complete FROM camcops_task_index
     WHERE task_table_name = $1 AND group_id = $2 AND when_created_utc >= $3 AND when_created_utc < $4 AND patient_pk IN (${patientPks.map((_, i) => `$${i + 5}`).join(', ')})
     ORDER BY when_created_utc DESC, task_pk DESC LIMIT 1`,
    [table.name, organizationId, new Date(from).toISOString(), new Date(by).toISOString(), ...patientPks],
  );
  return row ? { pk: Number(row.task_pk), complete: Boolean(Number(row.task_is_complete)) } : undefined;
}

/** What get_task_schedules needs to know about the server patient. */
export interface SchedulePatient {
  id: number;
  organizationId: string;
  idnums: Record<string, number>;
}

/**
 * get_task_schedules' `task_schedules`: a JSON list of the patient's schedules, each
 * `{task_schedule_name, task_schedule_items: [{table, anonymous, settings, due_from, due_by,
 * complete, when_completed}]}`. A schedule without a start date starts now (and keeps that
 * date), as in CamCOPS. Tasks the group's IP use prohibits are left out.
 */
export async function taskSchedulesJson(sql: SqlRunner, tables: ClientTableRegistry, patient: SchedulePatient, now: string): Promise<string> {
  const assignments = await sql.select<{ id: number | string; schedule_id: number | string; start_datetime: string | null; settings: string; name: string }>(
    `SELECT a.id, a.schedule_id, a.start_datetime, a.settings, s.name FROM camcops_patient_task_schedules a JOIN camcops_task_schedules s ON s.id = a.schedule_id
     WHERE a.server_patient_id = $1 AND s.organization_id = $2 ORDER BY a.id`,
    [patient.id, patient.organizationId],
  );
  const items = await itemsOf(sql, [...new Set(assignments.map((a) => Number(a.schedule_id)))]);
  const ipUse = await groupIpUse(sql, patient.organizationId);
  const patientPks = await matchingPatientPks(sql, patient.organizationId, patient.idnums);
  const schedules: unknown[] = [];
  for (const a of assignments) {
    let start = a.start_datetime;
    if (!start) {
      start = isoUtc(Date.parse(now));
      await sql.run('UPDATE camcops_patient_task_schedules SET start_datetime = $1 WHERE id = $2', [start, Number(a.id)]);
    }
    const startMs = Date.parse(start);
    const settings = JSON.parse(a.settings) as Record<string, unknown>;
    const out: unknown[] = [];
    for (const item of items.filter((i) => Number(i.schedule_id) === Number(a.schedule_id))) {
      const table = tables.get(item.task_table_name);
      if (!table || prohibitedContexts(table, ipUse).length) continue;
      // CamCOPS adds whole days of each duration to the start.
      const from = isoUtc(startMs + Math.floor((durationSeconds(item.due_from) ?? 0) / DAY_SECONDS) * DAY_SECONDS * 1000);
      const by = isoUtc(startMs + Math.floor((durationSeconds(item.due_by) ?? 0) / DAY_SECONDS) * DAY_SECONDS * 1000);
      const task = await scheduledTask(sql, table, patient.organizationId, patientPks, from, by);
      let whenCompleted: string | null = null;
      if (task?.complete) {
        const [row] = await sql.select<{ when_last_modified: string | null }>(`SELECT "when_last_modified" FROM ${quoteIdentifier(storageTableName(table))} WHERE "_pk" = $1`, [task.pk]);
        const ms = Date.parse(row?.when_last_modified ?? '');
        whenCompleted = Number.isNaN(ms) ? null : isoUtc(ms);
      }
      const own = settings[table.name];
      out.push({
        table: table.name,
        anonymous: !table.hasPatient,
        settings: typeof own === 'object' && own !== null && !Array.isArray(own) ? own : {},
        due_from: from,
        due_by: by,
        complete: Boolean(task?.complete),
        when_completed: whenCompleted,
      });
    }
    schedules.push({ task_schedule_name: a.name, task_schedule_items: out });
  }
  return JSON.stringify(schedules);
}

const str = shortText;
const id = rowId;
const duration = { type: 'string', maxLength: 64 } as const;

/** Checks one item of camcops_task_schedule_create; returns it as stored. */
function checkItem(raw: Record<string, unknown>, index: number, tables: ClientTableRegistry, ipUse: Awaited<ReturnType<typeof groupIpUse>>, groupName: string): { table: string; due_from: string; due_by: string } {
  const field = `items[${index}]`;
  const table = tables.get(String(raw.table));
  if (!table || table.role !== 'task') throw new ValidationError(`${field}: "${String(raw.table)}" is not a task table`, { [field]: ['table must name a task table'] });
  const why = whyNotSchedulable(table, ipUse, groupName);
  if (why) throw new ValidationError(`${field}: ${why}`, { [field]: [why] });
  const from = durationSeconds(String(raw.due_from));
  if (from === undefined) throw new ValidationError(`${field}: due_from "${String(raw.due_from)}" is not an ISO 8601 duration such as P7D`, { [field]: ['due_from must be an ISO 8601 duration without years or months, e.g. P0D or P7D'] });
  if (raw.due_within !== undefined && raw.due_by !== undefined) throw new ValidationError(`${field}: give due_within or due_by, not both`, { [field]: ['give due_within or due_by'] });
  const second = raw.due_within ?? raw.due_by;
  if (second === undefined) throw new ValidationError(`${field}: due_within is missing`, { [field]: ['due_within (or due_by) is required'] });
  const seconds = durationSeconds(String(second));
  if (seconds === undefined) throw new ValidationError(`${field}: "${String(second)}" is not an ISO 8601 duration such as P7D`, { [field]: ['due_within / due_by must be an ISO 8601 duration without years or months'] });
  const by = raw.due_within !== undefined ? from + seconds : seconds;
  if (by <= from) throw new ValidationError(`${field}: the task must be due within a positive time (due_by after due_from)`, { [field]: ['due_within must be more than zero'] });
  return { table: table.name, due_from: formatDuration(from), due_by: formatDuration(by) };
}

/** A schedule of the organisation, or NotFoundError. */
async function scheduleIn(sql: SqlRunner, organizationId: string, scheduleId: number): Promise<{ id: number; name: string }> {
  const [row] = await sql.select<{ id: number | string; name: string }>('SELECT id, name FROM camcops_task_schedules WHERE id = $1 AND organization_id = $2', [scheduleId, organizationId]);
  if (!row) throw new NotFoundError(`no task schedule ${scheduleId} in that organization`);
  return { id: Number(row.id), name: row.name };
}

/** The task schedule actions. */
export function taskScheduleActions(tables: () => ClientTableRegistry): ActionDefinition[] {
  return [
    {
      name: 'camcops_task_schedule_create',
      kind: 'write',
      help: 'Creates a task schedule for an organisation: name, and items [{table, due_from, due_within}] (ISO 8601 durations after the patient\'s start date, e.g. "P0D", "P7D"; due_by instead of due_within gives the end directly). Tasks whose licence the organisation\'s IP use prohibits are refused. Organisation admins.',
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['organization', 'name', 'items'],
        properties: {
          organization: str, name: { type: 'string', minLength: 1, maxLength: 200 },
          items: { type: 'array', maxItems: 500, items: { type: 'object', additionalProperties: false, required: ['table', 'due_from'], properties: { table: str, due_from: duration, due_within: duration, due_by: duration } } },
        },
      },
      async run(input, ctx) {
        const org = await organizationRefOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const ipUse = await groupIpUse(sql, org.id);
        const items = (input.items as Array<Record<string, unknown>>).map((raw, i) => checkItem(raw, i, tables(), ipUse, org.name));
        const scheduleId = await sql.insertReturningId('camcops_task_schedules', { organization_id: org.id, name: String(input.name), created_at: new Date().toISOString() }, 'id');
        await sql.insertRows('camcops_task_schedule_items', ['schedule_id', 'task_table_name', 'due_from', 'due_by'], items.map((i) => [scheduleId, i.table, i.due_from, i.due_by]));
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.task_schedule_create', objectType: 'camcops_task_schedule', objectId: String(scheduleId), address: ctx.address, details: { group: org.id, items: items.length } }, ctx.transaction);
        return { id: scheduleId, name: String(input.name), items: items.map((i) => ({ ...i, due_within: formatDuration(durationSeconds(i.due_by)! - durationSeconds(i.due_from)!) })) };
      },
    },
    {
      name: 'camcops_task_schedule_list',
      kind: 'read',
      help: 'The task schedules of an organisation with their items (table, due_from, due_by, due_within) and how many patients each is assigned to. Members of the organisation.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization'], properties: { organization: str } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'member');
        const sql = sqlOf(ctx);
        const schedules = await sql.select<{ id: number | string; name: string }>('SELECT id, name FROM camcops_task_schedules WHERE organization_id = $1 ORDER BY id', [organizationId]);
        const items = await itemsOf(sql, schedules.map((s) => Number(s.id)));
        const patients = await sql.select<{ schedule_id: number | string; n: number | string }>('SELECT schedule_id, COUNT(*) AS n FROM camcops_patient_task_schedules GROUP BY schedule_id');
        return schedules.map((s) => ({
          id: Number(s.id),
          name: s.name,
          patients: Number(patients.find((p) => Number(p.schedule_id) === Number(s.id))?.n ?? 0),
          items: items.filter((i) => Number(i.schedule_id) === Number(s.id)).map((i) => ({
            table: i.task_table_name, due_from: i.due_from, due_by: i.due_by, due_within: formatDuration((durationSeconds(i.due_by) ?? 0) - (durationSeconds(i.due_from) ?? 0)),
          })),
        }));
      },
    },
    {
      name: 'camcops_task_schedule_delete',
      kind: 'write',
      help: 'Deletes a task schedule of an organisation, with its items and its assignments to patients. Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization', 'schedule_id'], properties: { organization: str, schedule_id: id } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const schedule = await scheduleIn(sql, organizationId, Number(input.schedule_id));
        for (const table of ['camcops_patient_task_schedules', 'camcops_task_schedule_items']) await sql.run(`DELETE FROM ${table} WHERE schedule_id = $1`, [schedule.id]);
        await sql.run('DELETE FROM camcops_task_schedules WHERE id = $1', [schedule.id]);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.task_schedule_delete', objectType: 'camcops_task_schedule', objectId: String(schedule.id), address: ctx.address, details: { group: organizationId } }, ctx.transaction);
        return { deleted: schedule.id };
      },
    },
    {
      name: 'camcops_patient_schedule_assign',
      kind: 'write',
      help: 'Assigns a task schedule to a patient registered on the server (patient_id from camcops_server_patient_create), with an optional start_datetime (ISO 8601; without one, the schedule starts when the patient\'s tablet first fetches it) and settings (JSON object: task table -> that task\'s settings). Organisation admins.',
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['organization', 'patient_id', 'schedule_id'],
        properties: { organization: str, patient_id: id, schedule_id: id, start_datetime: { type: 'string', maxLength: 40 }, settings: { type: 'object' } },
      },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const schedule = await scheduleIn(sql, organizationId, Number(input.schedule_id));
        const [patient] = await sql.select<{ id: number | string }>('SELECT id FROM camcops_server_patients WHERE id = $1 AND organization_id = $2', [Number(input.patient_id), organizationId]);
        if (!patient) throw new NotFoundError(`no server patient ${String(input.patient_id)} in that organization`);
        let start: string | null = null;
        if (input.start_datetime !== undefined) {
          const text = String(input.start_datetime);
          const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
          if (Number.isNaN(ms)) throw new ValidationError(`start_datetime "${text}" is not an ISO 8601 date or date-time`, { start_datetime: ['must be an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00:00Z'] });
          start = isoUtc(ms);
        }
        const settings = (input.settings ?? {}) as Record<string, unknown>;
        for (const [key, value] of Object.entries(settings)) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ValidationError(`settings.${key} must be a JSON object (the settings of task ${key})`, { settings: [`${key}: must be an object`] });
        }
        const assignmentId = await sql.insertReturningId('camcops_patient_task_schedules', { server_patient_id: Number(patient.id), schedule_id: schedule.id, start_datetime: start, settings: JSON.stringify(settings) }, 'id');
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.patient_schedule_assign', objectType: 'camcops_server_patient', objectId: String(patient.id), address: ctx.address, details: { group: organizationId, schedule: schedule.id } }, ctx.transaction);
        return { id: assignmentId, patient_id: Number(patient.id), schedule_id: schedule.id, start_datetime: start };
      },
    },
    {
      name: 'camcops_patient_schedule_remove',
      kind: 'write',
      help: 'Removes an assignment of a task schedule to a patient (the id camcops_patient_schedule_assign returned). Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization', 'assignment_id'], properties: { organization: str, assignment_id: id } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const [row] = await sql.select<{ id: number | string }>('SELECT a.id FROM camcops_patient_task_schedules a JOIN camcops_task_schedules s ON s.id = a.schedule_id WHERE a.id = $1 AND s.organization_id = $2', [Number(input.assignment_id), organizationId]);
        if (!row) throw new NotFoundError(`no schedule assignment ${String(input.assignment_id)} in that organization`);
        await sql.run('DELETE FROM camcops_patient_task_schedules WHERE id = $1', [Number(row.id)]);
        return { removed: Number(row.id) };
      },
    },
  ];
}
