// Export of a group's CamCOPS records into a dataset: one CSV resource per client table, one
// of the special notes, and a JSON manifest, written by a job through core's actions and resource intake, so that the
// anonymiser and distribution plugins can take them further. Started by camcops_export_start.
import { Readable } from 'node:stream';
import {
  ActionRunnerId, DatabaseId, DatasetServiceId, JobSchedulerId, NotFoundError, PermissionServiceId, ResourceIntakeId, UserServiceId, ValidationError, ConflictError,
  type ActionDefinition, type Actor, type JobHandler, type Services,
} from '../../core/api.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { csvDocument } from './csv-format.js';
import { RECORD_KEEPING_COLUMNS } from './record-keeping.js';
import { quoteIdentifier, SqlRunner, type SqlValue } from './sql-runner.js';
import { NOTE_EXPORT_COLUMNS, notesForExport } from './special-notes.js';

/** The job type. */
export const EXPORT_JOB = 'camcops.export';

/** What the job exports. */
interface ExportPayload {
  organizationId: string;
  datasetId: string;
  userId: string;
  era?: string;
  currentOnly: boolean;
}

/** The action that queues an export. */
export function exportStartAction(): ActionDefinition {
  return {
    name: 'camcops_export_start',
    kind: 'write',
    help: 'Queues an export of an organisation\'s CamCOPS records into one of its draft datasets: a CSV resource per client table (camcops_<table>.csv), camcops_special_notes.csv and camcops_manifest.json. Filters: era ("NOW" or a batch time), current_only (default true). Organisation admins. Returns the job id.',
    inputSchema: {
      type: 'object', additionalProperties: false, required: ['dataset'],
      properties: { dataset: { type: 'string', maxLength: 200 }, era: { type: 'string', maxLength: 40 }, current_only: { type: 'boolean' } },
    },
    async run(input, ctx) {
      const { dataset } = await ctx.services.get(DatasetServiceId).show(String(input.dataset), ctx);
      await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { organizationId: dataset.ownerOrgId }, input }, 'admin', ctx.transaction);
      if (dataset.state !== 'draft') throw new ConflictError(`dataset "${dataset.name}" is ${dataset.state}; exports go into draft datasets`);
      if (ctx.actor.kind !== 'user') throw new ValidationError('exports are started by a user');
      const payload: ExportPayload = { organizationId: dataset.ownerOrgId, datasetId: dataset.id, userId: ctx.actor.user.id, currentOnly: input.current_only !== false, ...(input.era ? { era: String(input.era) } : {}) };
      const job = await ctx.services.get(JobSchedulerId).enqueue(EXPORT_JOB, { ...payload }, { dedupeKey: `${EXPORT_JOB}:${dataset.id}`, transaction: ctx.transaction });
      return { job_id: job.id, dataset: dataset.name };
    },
  };
}

/** The job handler; idempotent: resources that an earlier attempt stored are kept. */
export function exportJobHandler(tables: () => ClientTableRegistry): JobHandler {
  return {
    type: EXPORT_JOB,
    payloadSchema: {
      type: 'object', required: ['organizationId', 'datasetId', 'userId', 'currentOnly'],
      properties: { organizationId: { type: 'string' }, datasetId: { type: 'string' }, userId: { type: 'string' }, era: { type: 'string' }, currentOnly: { type: 'boolean' } },
    },
    async run(raw, job) {
      const payload = raw as unknown as ExportPayload;
      const services = job.services;
      const user = await services.get(UserServiceId).find(payload.userId);
      if (!user) throw new NotFoundError('the user who started the export no longer exists');
      const actor: Actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin } };
      const call = { actor };
      const actions = services.get(ActionRunnerId);
      const shown = (await actions.run('package_show', { id: payload.datasetId }, call)) as { resources: Array<{ name: string; state: string }> };
      const stored = new Set(shown.resources.filter((r) => r.state !== 'uploading').map((r) => r.name));
      const db = services.get(DatabaseId);
      const sql = new SqlRunner(db.sequelize, db.dialect, undefined);
      const manifest: Array<{ table: string; resource: string; rows: number; columns: Array<{ name: string; type: string }> }> = [];
      for (const table of tables().ordered()) {
        if (job.signal.aborted) throw new Error('export cancelled');
        const where = ['"_group_id" = $1'];
        const bind: SqlValue[] = [payload.organizationId];
        if (payload.era) {
          bind.push(payload.era);
          where.push(`"_era" = $${bind.length}`);
        }
        if (payload.currentOnly) where.push('"_current" = 1');
        const rows = await sql.select<Record<string, unknown>>(`SELECT * FROM ${quoteIdentifier(storageTableName(table))} WHERE ${where.join(' AND ')} ORDER BY "_pk"`, bind);
        const columns = [{ name: '_pk', type: 'integer' }, ...RECORD_KEEPING_COLUMNS.map((c) => ({ name: c.name, type: c.sqlite.startsWith('INTEGER') ? 'integer' : 'text' })), ...table.columns.map((c) => ({ name: c.name, type: c.kind }))];
        const resource = `camcops_${table.name}.csv`;
        manifest.push({ table: table.name, resource, rows: rows.length, columns });
        if (!stored.has(resource)) await storeFile(services, payload.datasetId, resource, 'CSV', Buffer.from(csvDocument(columns.map((c) => c.name), rows)), actor);
      }
      // Special notes travel with the records they annotate (all visible notes of the group, or of the era asked for).
      const notes = await notesForExport(sql, services, payload.organizationId, payload.era);
      const notesResource = 'camcops_special_notes.csv';
      if (!stored.has(notesResource)) await storeFile(services, payload.datasetId, notesResource, 'CSV', Buffer.from(csvDocument([...NOTE_EXPORT_COLUMNS], notes)), actor);
      const manifestName = 'camcops_manifest.json';
      if (!stored.has(manifestName)) {
        const specialNotes = { resource: notesResource, rows: notes.length, columns: NOTE_EXPORT_COLUMNS.map((name) => ({ name, type: name === 'note_id' || name === 'task_id' ? 'integer' : 'text' })) };
        const document = { format: 'camcops-export/1', organization_id: payload.organizationId, filters: { era: payload.era ?? null, current_only: payload.currentOnly }, tables: manifest, special_notes: specialNotes };
        await storeFile(services, payload.datasetId, manifestName, 'JSON', Buffer.from(`${JSON.stringify(document, null, 2)}\n`), actor);
      }
      return { tables: manifest.length, rows: manifest.reduce((n, t) => n + t.rows, 0) };
    },
  };
}

async function storeFile(services: Services, datasetId: string, name: string, format: string, bytes: Buffer, actor: Actor): Promise<void> {
  const created = (await services.get(ActionRunnerId).run('resource_create', { package_id: datasetId, name, format }, { actor })) as { id: string };
  await services.get(ResourceIntakeId).storeStream(created.id, Readable.from([bytes]), { size: bytes.length }, { actor, protocol: 'camcops' });
}
