// The upload operations: stepwise (start_upload ... end_upload, staging changes that
// end_upload commits in order) and one-step (upload_entire_database). Each request runs in
// one transaction, and every record is checked before anything is written.
import { failUser } from './camcops-errors.js';
import type { ClientTableDefinition } from './client-table-definition.js';
import { storageTableName } from './client-table-registry.js';
import { groupPolicies, idnumDefinitions } from './camcops-settings.js';
import { liveRecords, predecessorChain } from './live-records.js';
import { clientTable, intParam, literalsParam, namesParam, param, requestedTable, uploader, IGNORED_TABLES, type Operation, type OperationContext } from './operation-context.js';
import { enforcePolicies, patientsFrom } from './patient-policy-check.js';
import { ERA_NOW, MOVE_OFF_TABLET } from './record-keeping.js';
import { buildRow, checkFieldNames, checkPkName, type ClientRow, type RowCheckContext } from './record-validation.js';
import { decodeLiteral, type LiteralValue } from './sql-literal-codec.js';
import { quoteIdentifier, type SqlRunner } from './sql-runner.js';
import { commitTable } from './table-commit.js';
import { uploadTableRows } from './table-upload.js';
import { addAlreadyPreserved, alreadyPreservedCounts, batchFor, clearBatch, dirtyTables, markClean, markDirty, rollbackAll, startBatch } from './upload-batch.js';
import type { TableChanges } from './upload-changes.js';
import { compareVersions } from './camcops-version.js';
import { reindexDeviceTasks } from './task-index.js';

/** Names of the tables an upload changed (added, modified, deleted or preserved records). */
function changedTables(changes: readonly TableChanges[]): Set<string> {
  return new Set(changes.filter((c) => c.added || c.modified || c.deleted || c.preserved).map((c) => c.table));
}

async function rowContext(ctx: OperationContext): Promise<RowCheckContext> {
  return { idnums: await idnumDefinitions(ctx.sql) };
}

function pkNameOf(ctx: OperationContext, table: ClientTableDefinition): string {
  return checkPkName(table, param(ctx, 'pkname', false) ?? 'id');
}

/** Patients as they will stand after the device's staged changes commit. */
async function stagedPatients(sql: SqlRunner, deviceId: number, preserving: boolean) {
  const where = `"_device_id" = $1 AND "_era" = $2 AND (("_current" = 1 AND "_removal_pending" = 0) OR "_addition_pending" = 1)`;
  const patients = await sql.select<ClientRow>(`SELECT * FROM ${quoteIdentifier(storageTableName('patient'))} WHERE ${where}`, [deviceId, ERA_NOW]);
  const idnums = await sql.select<ClientRow>(`SELECT * FROM ${quoteIdentifier(storageTableName('patient_idnum'))} WHERE ${where}`, [deviceId, ERA_NOW]);
  return patientsFrom(patients, idnums, (row) => preserving || Number(row[MOVE_OFF_TABLET]) === 1);
}

/**
 * Marks current NOW-era records other than `keep` (client PKs) for removal.
 * @returns whether any were marked, and whether the device had NOW-era records there at all.
 */
async function flagDeletedWhereKeyNot(ctx: OperationContext, table: ClientTableDefinition, pkName: string, keep: ReadonlySet<number>): Promise<{ flagged: boolean; hadLive: boolean }> {
  const live = await liveRecords(ctx.sql, table, ctx.device!.id, pkName);
  const doomed = live.filter((r) => r.current && !r.removalPending && !keep.has(r.clientPk)).map((r) => r.pk);
  await ctx.sql.updateIn(`UPDATE ${quoteIdentifier(storageTableName(table))} SET "_removal_pending" = 1, "_successor_pk" = NULL WHERE "_pk"`, [], doomed);
  return { flagged: doomed.length > 0, hadLive: live.length > 0 };
}

/** Client PKs: every item must have decoded as an integer (the reference's message, without the value). */
function integerKeys(values: readonly LiteralValue[]): number[] {
  return values.map((v, i) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) failUser(`Bad (non-integer) client PK: item ${i}`);
    return v;
  });
}

/** Python's truth value of a decoded item, as the reference's bool(x) on move_off_tablet_values. */
function truthy(v: LiteralValue): boolean {
  if (v === null) return false;
  if (typeof v === 'number') return v !== 0;
  return v.length > 0;
}

/** Milliseconds since the epoch of an ISO-8601 date-time, or undefined. */
function instant(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The stepwise and one-step upload operations. */
export const uploadOperations: Record<string, Operation> = {
  start_upload: {
    access: 'upload',
    async run(ctx) {
      await startBatch(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      return undefined;
    },
  },
  start_preservation: {
    access: 'upload',
    async run(ctx) {
      await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      await ctx.sql.run('UPDATE camcops_devices SET currently_preserving = 1 WHERE id = $1', [ctx.device!.id]);
      await markDirty(ctx.sql, ctx.device!.id, ctx.tables.ordered().map((t) => t.name));
      return 'STARTPRESERVATION';
    },
  },
  upload_empty_tables: {
    access: 'upload',
    async run(ctx) {
      const names = namesParam(ctx, 'tables').filter((n) => !IGNORED_TABLES.has(n));
      const tables = names.map((n) => clientTable(ctx, n));
      const batch = await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      const dirty: string[] = [];
      const clean: string[] = [];
      for (const table of tables) {
        const { flagged, hadLive } = await flagDeletedWhereKeyNot(ctx, table, 'id', new Set());
        if (flagged) dirty.push(table.name);
        // Clean only when nothing of the device is left in the NOW era to preserve.
        else if (batch.preserving && !hadLive) clean.push(table.name);
      }
      await markDirty(ctx.sql, ctx.device!.id, dirty);
      await markClean(ctx.sql, ctx.device!.id, clean);
      return 'UPLOAD-EMPTY-TABLES';
    },
  },
  upload_table: {
    access: 'upload',
    async run(ctx) {
      const table = requestedTable(ctx);
      if ('ignoredNote' in table) return table.ignoredNote;
      const fields = namesParam(ctx, 'fields');
      const columns = checkFieldNames(table, fields);
      const nrecords = intParam(ctx, 'nrecords');
      if (nrecords < 0) failUser(`nrecords=${nrecords}: can't be less than 0`);
      const pkName = pkNameOf(ctx, table);
      if (!fields.includes(pkName)) failUser(`Table '${table.name}': fields must include the client PK '${pkName}'`);
      const rowCtx = await rowContext(ctx);
      const rows: ClientRow[] = [];
      for (let i = 0; i < nrecords; i++) rows.push(buildRow(table, columns, literalsParam(ctx, `record${i}`), pkName, `record ${i}`, rowCtx));
      const batch = await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      const result = await uploadTableRows(ctx.sql, table, pkName, rows, batch, uploader(ctx), true);
      if (result.dirty) await markDirty(ctx.sql, ctx.device!.id, [table.name]);
      else if (batch.preserving && !result.hadLive && !result.changes.alreadyPreserved) await markClean(ctx.sql, ctx.device!.id, [table.name]);
      // A preserving upload sent again after a lost reply: nothing is stored twice, and end_upload's audit line says so.
      await addAlreadyPreserved(ctx.sql, ctx.device!.id, table.name, result.changes.alreadyPreserved);
      return `Table ${table.name} upload successful`;
    },
  },
  upload_record: {
    access: 'upload',
    async run(ctx) {
      const table = requestedTable(ctx);
      if ('ignoredNote' in table) return table.ignoredNote;
      const pkName = pkNameOf(ctx, table);
      const columns = checkFieldNames(table, namesParam(ctx, 'fields'));
      const row = buildRow(table, columns, literalsParam(ctx, 'values'), pkName, 'the record', await rowContext(ctx));
      const batch = await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      const result = await uploadTableRows(ctx.sql, table, pkName, [row], batch, uploader(ctx), false);
      if (result.dirty) await markDirty(ctx.sql, ctx.device!.id, [table.name]);
      await addAlreadyPreserved(ctx.sql, ctx.device!.id, table.name, result.changes.alreadyPreserved);
      return result.inserted ? 'UPLOAD-INSERT' : 'UPLOAD-UPDATE';
    },
  },
  delete_where_key_not: {
    access: 'upload',
    async run(ctx) {
      const table = requestedTable(ctx);
      if ('ignoredNote' in table) return table.ignoredNote;
      const pkName = pkNameOf(ctx, table);
      const keep = new Set(integerKeys(literalsParam(ctx, 'pkvalues')));
      await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      if ((await flagDeletedWhereKeyNot(ctx, table, pkName, keep)).flagged) await markDirty(ctx.sql, ctx.device!.id, [table.name]);
      return 'Trimmed';
    },
  },
  which_keys_to_send: {
    access: 'upload',
    async run(ctx) {
      const table = requestedTable(ctx);
      if ('ignoredNote' in table) return table.ignoredNote;
      const pkName = pkNameOf(ctx, table);
      // Real tablets send these three lists raw (QueryResult::columnAsStringList): unquoted
      // ISO dates, and an empty item for a NULL flag. The reference decodes each item with
      // decode_single_value, as literalsParam does.
      const pkValues = literalsParam(ctx, 'pkvalues', false);
      const dates = literalsParam(ctx, 'datevalues', false);
      if (pkValues.length !== dates.length) failUser(`Number of PK values (${pkValues.length}) doesn't match number of dates (${dates.length})`);
      const reportsMoveOff = ctx.params.has('move_off_tablet_values');
      const moveOff = reportsMoveOff ? literalsParam(ctx, 'move_off_tablet_values') : [];
      if (reportsMoveOff && moveOff.length !== pkValues.length) failUser(`Number of move-off-tablet values (${moveOff.length}) doesn't match number of PKs (${pkValues.length})`);
      const pks = integerKeys(pkValues);
      const whens = dates.map((d, i) => {
        if (d === null) failUser(`Missing date/time for client PK ${pks[i]}`);
        if (typeof d !== 'string' || instant(d) === undefined) failUser(`Bad date/time for client PK ${pks[i]}`);
        return d;
      });
      await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      let dirty = (await flagDeletedWhereKeyNot(ctx, table, pkName, new Set(pks))).flagged;
      const live = await liveRecords(ctx.sql, table, ctx.device!.id, pkName);
      const byPk = new Map(live.map((r) => [r.pk, r]));
      const current = new Map(live.filter((r) => r.current).map((r) => [r.clientPk, r]));
      const needed: number[] = [];
      const preserve: number[] = [];
      pks.forEach((pk, i) => {
        const server = current.get(pk);
        if (!reportsMoveOff || !server || !sameInstant(server.whenLastModified, whens[i]!)) needed.push(pk);
        else if (truthy(moveOff[i]!) && !server.moveOffTablet) preserve.push(...predecessorChain(server.pk, byPk));
      });
      if (preserve.length) {
        await ctx.sql.updateIn(`UPDATE ${quoteIdentifier(storageTableName(table))} SET "_move_off_tablet" = 1 WHERE "_pk"`, [], preserve);
        dirty = true;
      }
      if (dirty) await markDirty(ctx.sql, ctx.device!.id, [table.name]);
      return needed.join(',');
    },
  },
  end_upload: {
    access: 'upload',
    async run(ctx) {
      const batch = await batchFor(ctx.sql, ctx.tables, ctx.device!, ctx.user!.id, ctx.now);
      const device = ctx.device!;
      enforcePolicies(await stagedPatients(ctx.sql, device.id, batch.preserving), await groupPolicies(ctx.sql, ctx.groupId!));
      const dirty = await dirtyTables(ctx.sql, device.id);
      const resent = await alreadyPreservedCounts(ctx.sql, device.id);
      const changes: TableChanges[] = [];
      for (const table of ctx.tables.ordered()) {
        if (dirty.has(table.name)) changes.push({ ...(await commitTable(ctx.sql, table, batch, uploader(ctx))), alreadyPreserved: resent.get(table.name) ?? 0 });
      }
      await clearBatch(ctx.sql, device.id);
      // The task index changes in the same transaction as the records it describes.
      const changed = changedTables(changes);
      if (changed.size) await reindexDeviceTasks(ctx.sql, ctx.tables, device.id, [ERA_NOW, batch.batchTime], ctx.now, changed);
      // Tables were dirty because they might need work (e.g. all of them when preserving); audit those that changed or were resent.
      await ctx.auditUpload(changes.filter((c) => c.added || c.modified || c.deleted || c.preserved || c.alreadyPreserved), 'stepwise');
      return undefined;
    },
  },
  upload_entire_database: {
    access: 'upload',
    async run(ctx) {
      await rollbackAll(ctx.sql, ctx.tables, ctx.device!.id);
      await clearBatch(ctx.sql, ctx.device!.id);
      const preserving = intParam(ctx, 'finalizing') !== 0;
      const pkNames = jsonObject(param(ctx, 'pknameinfo'), 'pknameinfo');
      const dbdata = jsonObject(param(ctx, 'dbdata'), 'dbdata');
      const dataNames = Object.keys(dbdata).sort();
      if (dataNames.join(',') !== Object.keys(pkNames).sort().join(',')) failUser("Table names don't match from (1) DB data (2) PK info");
      const unknown = dataNames.filter((n) => !ctx.tables.get(n) && !IGNORED_TABLES.has(n));
      if (unknown.length) failUser(`Attempt to upload nonexistent tables: ${unknown.join(', ')}`);
      const rowCtx = await rowContext(ctx);
      const planned: Array<{ table: ClientTableDefinition; pkName: string; rows: ClientRow[] }> = [];
      for (const table of ctx.tables.ordered()) {
        if (compareVersions(ctx.clientVersion, table.minimumClientVersion) < 0) {
          if (table.name in dbdata) clientTable(ctx, table.name);
          continue;
        }
        const raw = dbdata[table.name] ?? [];
        if (!Array.isArray(raw)) failUser(`dbdata for table '${table.name}' is not a list`);
        const pkValue = pkNames[table.name];
        if (raw.length && (typeof pkValue !== 'string' || !pkValue)) failUser(`Client-side PK name not specified by client for non-empty table '${table.name}'`);
        const pkName = raw.length ? checkPkName(table, pkValue as string) : 'id';
        planned.push({ table, pkName, rows: raw.map((record, i) => rowFromJson(table, record, pkName, i, rowCtx)) });
      }
      const rowsOf = (name: string): ClientRow[] => planned.find((p) => p.table.name === name)?.rows ?? [];
      enforcePolicies(patientsFrom(rowsOf('patient'), rowsOf('patient_idnum'), (row) => preserving || row[MOVE_OFF_TABLET] === 1), await groupPolicies(ctx.sql, ctx.groupId!));
      const batch = { batchTime: ctx.now, preserving, onestep: true };
      const changes: TableChanges[] = [];
      for (const { table, pkName, rows } of planned) {
        const result = await uploadTableRows(ctx.sql, table, pkName, rows, batch, uploader(ctx), true);
        const c = result.changes;
        if (rows.length || c.added || c.modified || c.deleted || c.preserved) changes.push(c);
      }
      const changed = changedTables(changes);
      if (changed.size) await reindexDeviceTasks(ctx.sql, ctx.tables, ctx.device!.id, [ERA_NOW, batch.batchTime], ctx.now, changed);
      await ctx.auditUpload(changes, 'one-step');
      return 'Success';
    },
  },
};

/** As the reference compares the dates it parsed: the same text, or the same instant. */
function sameInstant(server: string | null, client: string): boolean {
  if (server === null) return false;
  if (server === client) return true;
  const a = instant(server);
  return a !== undefined && a === instant(client);
}

function jsonObject(text: string, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    failUser(`Bad JSON for key '${name}'`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) failUser(`${name} JSON is not a dict`);
  return parsed as Record<string, unknown>;
}

/**
 * One dbdata record: field -> literal text, decoded with the reference's decode_single_value
 * (JSON null is NULL there too; JSON numbers, which real tablets never send, are taken as
 * they are).
 */
function rowFromJson(table: ClientTableDefinition, record: unknown, pkName: string, index: number, rowCtx: RowCheckContext): ClientRow {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) failUser(`Table '${table.name}', record ${index}: not a dict`);
  const entries = Object.entries(record as Record<string, unknown>);
  const columns = checkFieldNames(table, entries.map(([k]) => k));
  const values = entries.map(([field, value]) => {
    if (value === null) return null;
    if (typeof value === 'number') return value;
    if (typeof value !== 'string') failUser(`Table '${table.name}', record ${index}, field '${field}': must be a literal in a JSON string`);
    return decodeLiteral(value);
  });
  return buildRow(table, columns, values, pkName, `record ${index}`, rowCtx);
}
