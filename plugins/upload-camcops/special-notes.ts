// Special notes, as CamCOPS has them: server users attach a note to a task or patient (all
// versions of one record: table, client id, device, era), for example "this was entered
// for the wrong patient". Notes follow their record when it is preserved, are shown with it
// (camcops_table_show) and exported with it; they are never deleted, only hidden.
import { AuditLogId, AuthorizationError, NotFoundError, PermissionServiceId, UserServiceId, ValidationError, type ActionDefinition, type Services } from '../../core/api.js';
import type { ClientTableDefinition } from './client-table-definition.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { organizationRefOf, sqlOf, shortText, rowId } from './camcops-action-support.js';
import { ERA_NOW } from './record-keeping.js';
import { quoteIdentifier, type SqlRunner, type SqlValue } from './sql-runner.js';

/** A note as shown with its record. */
export interface ShownNote {
  note_id: number;
  note_at: string;
  user: string | null;
  note: string;
}

/** A stored note. */
interface NoteRow {
  note_id: number | string;
  basetable: string;
  task_id: number | string;
  device_id: number | string;
  era: string;
  note_at: string;
  user_id: string | null;
  note: string;
  hidden: number | string;
}

/**
 * Moves the device's NOW-era notes on a table to `era` for the records that are now in that
 * era (after preservation or force-finalising), as CamCOPS does when it preserves records.
 */
export async function moveNotesToEra(sql: SqlRunner, table: ClientTableDefinition, deviceId: number, era: string): Promise<void> {
  await sql.run(
    `UPDATE camcops_special_notes SET era = $1 WHERE basetable = $2 AND device_id = $3 AND era = $4
     AND task_id IN (SELECT "id" FROM ${quoteIdentifier(storageTableName(table))} WHERE "_device_id" = $3 AND "_era" = $1)`,
    [era, table.name, deviceId, ERA_NOW],
  );
}

/** User names by id (notes name their author). */
async function userNames(services: Services, ids: Iterable<string | null>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of new Set([...ids].filter((i): i is string => Boolean(i)))) {
    const user = await services.get(UserServiceId).find(id);
    if (user) names.set(id, user.name);
  }
  return names;
}

/** The key that ties a note to a record. */
function recordKey(deviceId: unknown, era: unknown, clientId: unknown): string {
  return `${Number(deviceId)}\u0000${String(era)}\u0000${Number(clientId)}`;
}

/** The visible notes of the given records of a table, by record key (see noteKeyOf). */
export async function notesForRecords(sql: SqlRunner, services: Services, table: string, records: ReadonlyArray<Record<string, unknown>>): Promise<Map<string, ShownNote[]>> {
  const result = new Map<string, ShownNote[]>();
  const ids = [...new Set(records.map((r) => Number(r.id)).filter((n) => Number.isFinite(n)))];
  if (!ids.length) return result;
  const rows = await sql.select<NoteRow>(
    `SELECT * FROM camcops_special_notes WHERE basetable = $1 AND hidden = 0 AND task_id IN (${ids.map((_, i) => `$${i + 2}`).join(', ')}) ORDER BY note_id`,
    [table, ...ids],
  );
  const names = await userNames(services, rows.map((r) => r.user_id));
  for (const r of rows) {
    const key = recordKey(r.device_id, r.era, r.task_id);
    const list = result.get(key) ?? [];
    list.push({ note_id: Number(r.note_id), note_at: r.note_at, user: r.user_id ? names.get(r.user_id) ?? null : null, note: r.note });
    result.set(key, list);
  }
  return result;
}

/** The key of a record's notes in notesForRecords' map. */
export function noteKeyOf(record: Record<string, unknown>): string {
  return recordKey(record._device_id, record._era, record.id);
}

/** Columns of the special-notes export. */
export const NOTE_EXPORT_COLUMNS = ['note_id', 'basetable', 'task_id', 'device', 'era', 'note_at', 'user', 'note'] as const;

/** A group's visible notes for export (optionally of one era), one row per note. */
export async function notesForExport(sql: SqlRunner, services: Services, organizationId: string, era: string | undefined): Promise<Array<Record<string, unknown>>> {
  const bind: SqlValue[] = [organizationId];
  let where = 'n.group_id = $1 AND n.hidden = 0';
  if (era) {
    bind.push(era);
    where += ' AND n.era = $2';
  }
  const rows = await sql.select<NoteRow & { device_name: string | null }>(`SELECT n.*, d.name AS device_name FROM camcops_special_notes n LEFT JOIN camcops_devices d ON d.id = n.device_id WHERE ${where} ORDER BY n.note_id`, bind);
  const names = await userNames(services, rows.map((r) => r.user_id));
  return rows.map((r) => ({
    note_id: Number(r.note_id), basetable: r.basetable, task_id: Number(r.task_id), device: r.device_name, era: r.era, note_at: r.note_at,
    user: r.user_id ? names.get(r.user_id) ?? null : null, note: r.note,
  }));
}

const str = shortText;
const id = rowId;

/**
 * camcops_special_note_add and camcops_special_note_hide.
 * @param role least organisation role that may add notes (CamCOPS's "may add notes").
 */
export function specialNoteActions(tables: () => ClientTableRegistry, role: 'member' | 'editor' | 'admin'): ActionDefinition[] {
  return [
    {
      name: 'camcops_special_note_add',
      kind: 'write',
      help: `Attaches a special note to a task or patient record of an organisation (table and the record's server _pk; the note applies to every version of that record in its era and follows it when preserved). Needs role ${role} in the organisation.`,
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['organization', 'table', 'pk', 'note'],
        properties: { organization: str, table: str, pk: id, note: { type: 'string', minLength: 1, maxLength: 20000 } },
      },
      async run(input, ctx) {
        const org = await organizationRefOf(ctx, input, role);
        const table = tables().get(String(input.table));
        if (!table) throw new NotFoundError(`no CamCOPS table "${String(input.table)}"`);
        if (table.role !== 'task' && table.role !== 'patient') throw new ValidationError(`special notes attach to tasks and patients, not to table "${table.name}"`, { table: ['must be a task table or patient'] });
        const sql = sqlOf(ctx);
        const [record] = await sql.select<{ id: number | string; _device_id: number | string; _era: string }>(`SELECT "id", "_device_id", "_era" FROM ${quoteIdentifier(storageTableName(table))} WHERE "_pk" = $1 AND "_group_id" = $2`, [Number(input.pk), org.id]);
        if (!record) throw new NotFoundError(`no ${table.name} record with _pk ${String(input.pk)} in that organization`);
        const user = ctx.actor.kind === 'user' ? ctx.actor.user.id : null;
        const at = new Date().toISOString();
        const noteId = await sql.insertReturningId('camcops_special_notes', { basetable: table.name, task_id: Number(record.id), device_id: Number(record._device_id), era: record._era, group_id: org.id, note_at: at, user_id: user, note: String(input.note), hidden: 0 }, 'note_id');
        // The note's text stays out of the audit log: it may identify the patient.
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.special_note_add', objectType: 'camcops_special_note', objectId: String(noteId), address: ctx.address, details: { group: org.id, table: table.name, pk: Number(input.pk), era: record._era } }, ctx.transaction);
        return { note_id: noteId, table: table.name, task_id: Number(record.id), era: record._era, note_at: at };
      },
    },
    {
      name: 'camcops_special_note_hide',
      kind: 'write',
      help: `Hides a special note (it stays in the database, as in CamCOPS, but is no longer shown or exported). The note's author (with role ${role}) or an organisation admin.`,
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization', 'note_id'], properties: { organization: str, note_id: id } },
      async run(input, ctx) {
        const org = await organizationRefOf(ctx, input, role);
        const sql = sqlOf(ctx);
        const [note] = await sql.select<NoteRow>('SELECT * FROM camcops_special_notes WHERE note_id = $1 AND group_id = $2', [Number(input.note_id), org.id]);
        if (!note) throw new NotFoundError(`no special note ${String(input.note_id)} in that organization`);
        const isAuthor = ctx.actor.kind === 'user' && ctx.actor.user.id === note.user_id;
        if (!isAuthor && !(await ctx.services.get(PermissionServiceId).allows({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input }, 'admin', ctx.transaction))) {
          throw new AuthorizationError(`${ctx.action}: only the note's author or an admin of the organization may hide it`);
        }
        await sql.run('UPDATE camcops_special_notes SET hidden = 1 WHERE note_id = $1', [Number(note.note_id)]);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.special_note_hide', objectType: 'camcops_special_note', objectId: String(note.note_id), address: ctx.address, details: { group: org.id, table: note.basetable } }, ctx.transaction);
        return { note_id: Number(note.note_id), hidden: true };
      },
    },
  ];
}
