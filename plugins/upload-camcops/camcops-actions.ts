// Action API of the plugin: administer ID number definitions, group policies and upload
// groups; read a group's records with their special notes (camcops_table_show); force-finalise
// a device's records (moving their notes and task index entries with them).
import {
  AuditLogId, NotFoundError, OrganizationServiceId, PermissionServiceId, UserServiceId, ValidationError, ConflictError,
  type ActionDefinition,
} from '../../core/api.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { idnumDefinitions, replaceRow } from './camcops-settings.js';
import { IdPolicy } from './id-policy.js';
import { VALIDATION_METHODS } from './nhs-number.js';
import { ERA_NOW, RECORD_KEEPING_COLUMNS } from './record-keeping.js';
import { quoteIdentifier, type SqlValue } from './sql-runner.js';
import { findDevice } from './device-store.js';
import { organizationOf, sqlOf, longText, rowId } from './camcops-action-support.js';
import { moveNotesToEra, notesForRecords, noteKeyOf, type ShownNote } from './special-notes.js';
import { reindexDeviceTasks } from './task-index.js';

const str = longText;

/** The plugin's actions. */
export function camcopsActions(tables: () => ClientTableRegistry): ActionDefinition[] {
  return [
    {
      name: 'camcops_idnum_definition_set',
      kind: 'write',
      help: 'Defines (or redefines) an ID number type for CamCOPS uploads: which_idnum, description, short_description, validation_method ("" or "uk_nhs_number"). Sysadmins only.',
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['which_idnum', 'description', 'short_description'],
        properties: { which_idnum: { type: 'integer', minimum: 1, maximum: 999999 }, description: str, short_description: { type: 'string', maxLength: 64 }, validation_method: { enum: [...VALIDATION_METHODS] } },
      },
      async run(input, ctx) {
        await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: {}, input }, 'sysadmin', ctx.transaction);
        const values = { which_idnum: Number(input.which_idnum), description: String(input.description), short_description: String(input.short_description), validation_method: String(input.validation_method ?? '') };
        await replaceRow(sqlOf(ctx), 'camcops_idnum_definitions', 'which_idnum', values);
        return values;
      },
    },
    {
      name: 'camcops_group_policy_set',
      kind: 'write',
      help: 'Sets an organisation\'s CamCOPS ID policies, e.g. upload_policy "sex AND ((idnum1 AND dob) OR idnum2)". Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization'], properties: { organization: str, upload_policy: str, finalize_policy: str } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const defined = await idnumDefinitions(sql);
        const policies: Record<string, string> = {};
        for (const key of ['upload_policy', 'finalize_policy']) {
          const text = String(input[key] ?? '');
          let policy: IdPolicy;
          try {
            policy = IdPolicy.parse(text);
          } catch (error) {
            throw new ValidationError((error as Error).message, { [key]: [(error as Error).message] });
          }
          const undefinedIdnums = [...policy.namedIdnums].filter((n) => !defined.has(n));
          if (undefinedIdnums.length) throw new ValidationError(`${key} names ID number type(s) ${undefinedIdnums.join(', ')}, which are not defined`, { [key]: ['names undefined ID number types; define them with camcops_idnum_definition_set'] });
          policies[key] = text;
        }
        await replaceRow(sql, 'camcops_group_policies', 'organization_id', { organization_id: organizationId, upload_policy: policies.upload_policy!, finalize_policy: policies.finalize_policy! });
        return { organization_id: organizationId, ...policies };
      },
    },
    {
      name: 'camcops_upload_group_set',
      kind: 'write',
      help: 'Sets the organisation a user\'s CamCOPS uploads go to (the user must be a member), and whether they may register devices there without the register role (may_register_devices, default false: a tablet account can then be an editor, who cannot change ID policies or export). Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['user', 'organization'], properties: { user: str, organization: str, may_register_devices: { type: 'boolean' } } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const user = await ctx.services.get(UserServiceId).get(String(input.user), ctx.transaction);
        if (!(await ctx.services.get(OrganizationServiceId).roleOf(user.id, organizationId, ctx.transaction))) throw new ValidationError(`user "${user.name}" is not a member of that organization`, { user: ['is not a member'] });
        const mayRegister = input.may_register_devices === true;
        await replaceRow(sqlOf(ctx), 'camcops_upload_groups', 'user_id', { user_id: user.id, organization_id: organizationId, may_register_devices: mayRegister ? 1 : 0 });
        return { user: user.name, organization_id: organizationId, may_register_devices: mayRegister };
      },
    },
    {
      name: 'camcops_table_show',
      kind: 'read',
      help: 'Records of one CamCOPS client table in an organisation, newest first; filters: era ("NOW" or a batch time), current (true/false), device, patient_pk (server _pk of a patient row: that patient\'s rows). Blobs come as base64; each record of a task or patient lists its visible special notes in _special_notes. Members of the organisation.',
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['organization', 'table'],
        properties: {
          organization: str, table: str, era: str, device: str, current: { enum: ['true', 'false', true, false] }, patient_pk: rowId,
          limit: rowId, offset: rowId,
        },
      },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'member');
        const table = tables().get(String(input.table));
        if (!table) throw new NotFoundError(`no CamCOPS table "${String(input.table)}"`);
        const sql = sqlOf(ctx);
        const where: string[] = ['"_group_id" = $1'];
        const bind: SqlValue[] = [organizationId];
        const add = (clause: string, value: SqlValue): void => {
          bind.push(value);
          where.push(clause.replace('?', `$${bind.length}`));
        };
        if (input.era !== undefined) add('"_era" = ?', String(input.era));
        if (input.current !== undefined) add('"_current" = ?', String(input.current) === 'true' ? 1 : 0);
        if (input.device !== undefined) {
          const device = await findDevice(sql, String(input.device));
          add('"_device_id" = ?', device ? device.id : -1);
        }
        if (input.patient_pk !== undefined) {
          if (!table.hasPatient && table.name !== 'patient' && table.name !== 'patient_idnum') throw new ValidationError(`table "${table.name}" has no patient`, { patient_pk: ['this table has no patient'] });
          const [patient] = await sql.select<{ id: number | string; _device_id: number | string; _era: string }>(`SELECT "id", "_device_id", "_era" FROM ${quoteIdentifier(storageTableName('patient'))} WHERE "_pk" = $1 AND "_group_id" = $2`, [Number(input.patient_pk), organizationId]);
          if (!patient) throw new NotFoundError(`no patient with _pk ${String(input.patient_pk)} in that organization`);
          add('"_device_id" = ?', Number(patient._device_id));
          add('"_era" = ?', patient._era);
          add(table.name === 'patient' ? '"id" = ?' : '"patient_id" = ?', Number(patient.id));
        }
        const limit = Math.min(Number(input.limit ?? 100), 1000);
        const offset = Number(input.offset ?? 0);
        const name = quoteIdentifier(storageTableName(table));
        const [{ n }] = (await sql.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${name} WHERE ${where.join(' AND ')}`, bind)) as [{ n: number | string }];
        const rows = await sql.select<Record<string, unknown>>(`SELECT * FROM ${name} WHERE ${where.join(' AND ')} ORDER BY "_pk" DESC LIMIT ${limit} OFFSET ${offset}`, bind);
        const integerColumns = new Set(['_pk', ...RECORD_KEEPING_COLUMNS.filter((c) => c.sqlite.startsWith('INTEGER')).map((c) => c.name), ...table.columns.filter((c) => c.kind === 'integer' || c.kind === 'boolean').map((c) => c.name)]);
        const notes = table.role === 'task' || table.role === 'patient' ? await notesForRecords(sql, ctx.services, table.name, rows) : new Map<string, ShownNote[]>();
        const records = rows.map((row) => ({
          ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : integerColumns.has(k) && v !== null ? Number(v) : v])),
          _special_notes: notes.get(noteKeyOf(row)) ?? [],
        }));
        return { table: table.name, count: Number(n), limit, offset, records };
      },
    },
    {
      name: 'camcops_upload_log',
      kind: 'read',
      help: 'The per-table audit lines of CamCOPS uploads into an organisation, newest first (added, modified, deleted, preserved, current per table). Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization'], properties: { organization: str, table: str, limit: rowId } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const limit = Math.min(Number(input.limit ?? 100), 1000);
        const events: Array<{ id: number; at: Date; action: string; objectId: string | undefined; details: Record<string, unknown> }> = [];
        for (const action of ['camcops.upload', 'camcops.force_finalize']) {
          const found = await ctx.services.get(AuditLogId).list({ action, objectType: 'camcops_table', ...(input.table ? { objectId: String(input.table) } : {}), limit: 5000 });
          events.push(...found.filter((e) => e.details.group === organizationId));
        }
        events.sort((a, b) => b.id - a.id);
        return events.slice(0, limit).map((e) => ({ at: e.at.toISOString(), action: e.action, table: e.objectId, ...e.details }));
      },
    },
    {
      name: 'camcops_force_finalize',
      kind: 'write',
      help: 'Preserves ("finalises") every record a device still has on the tablet (era NOW) in an organisation, as if the tablet had moved them off; marks them forcibly preserved. Organisation admins.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization', 'device'], properties: { organization: str, device: str } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const sql = sqlOf(ctx);
        const device = await findDevice(sql, String(input.device));
        if (!device) throw new NotFoundError(`no CamCOPS device "${String(input.device)}"`);
        if (device.ongoingBatchUtc) throw new ConflictError(`device "${device.name}" has an upload in progress; try again when it has ended`);
        const era = new Date().toISOString();
        const user = ctx.actor.kind === 'user' ? ctx.actor.user.id : null;
        const preserved: Record<string, number> = {};
        for (const table of tables().ordered()) {
          const [{ n }] = (await sql.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${quoteIdentifier(storageTableName(table))} WHERE "_device_id" = $1 AND "_era" = $2 AND "_group_id" = $3`, [device.id, ERA_NOW, organizationId])) as [{ n: number | string }];
          const live = Number(n);
          if (!live) continue;
          await sql.run(`UPDATE ${quoteIdentifier(storageTableName(table))} SET "_era" = $1, "_preserving_user_id" = $2, "_forcibly_preserved" = 1 WHERE "_device_id" = $3 AND "_era" = $4 AND "_group_id" = $5`, [era, user, device.id, ERA_NOW, organizationId]);
          await moveNotesToEra(sql, table, device.id, era);
          preserved[table.name] = live;
        }
        if (Object.keys(preserved).length) await reindexDeviceTasks(sql, tables(), device.id, [ERA_NOW, era], era);
        for (const [table, count] of Object.entries(preserved)) {
          await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.force_finalize', objectType: 'camcops_table', objectId: table, address: ctx.address, details: { device: device.name, group: organizationId, preserved: count } }, ctx.transaction);
        }
        return { device: device.name, era, preserved };
      },
    },
  ];
}
