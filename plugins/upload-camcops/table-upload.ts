// Uploading a table's records: each record is new, modified (a successor replaces it and
// the old one is kept as its predecessor), identical, or absent (deleted). One-step uploads
// apply this at once; stepwise uploads stage it (pending additions and removals) for
// end_upload. Work is set-based: a handful of statements per table, whatever the records.
import type { ClientTableDefinition } from './client-table-definition.js';
import { storageTableName } from './client-table-registry.js';
import { failUser } from './camcops-errors.js';
import { liveRecords, predecessorChain, type LiveRecord } from './live-records.js';
import { ERA_NOW, MOVE_OFF_TABLET } from './record-keeping.js';
import type { ClientRow } from './record-validation.js';
import type { BatchDetails } from './upload-batch.js';
import { noChanges, type TableChanges } from './upload-changes.js';
import { MAX_BIND_PARAMETERS, quoteIdentifier, type SqlRunner, type SqlValue } from './sql-runner.js';
import { moveNotesToEra } from './special-notes.js';

/** Who uploads, from which device, into which group. */
export interface Uploader {
  deviceId: number;
  userId: string;
  groupId: string;
  clientVersion: string;
  /** ISO time of this request. */
  now: string;
}

/** What uploading a table's records did. */
export interface TableUploadResult {
  changes: TableChanges;
  /** Staged changes (or flags) wait in the table for end_upload. */
  dirty: boolean;
  /** The device had NOW-era records in the table before. */
  hadLive: boolean;
  /** For upload_record: the record was new (else it existed, changed or not). */
  inserted: boolean;
}

interface PlannedInsert {
  row: ClientRow;
  predecessorPk: number | undefined;
  preserve: boolean;
}

const KEEPING_INSERT_COLUMNS = [
  '_device_id', '_group_id', '_era', '_current', '_addition_pending', '_removal_pending', '_predecessor_pk',
  '_when_added_exact', '_when_added_batch_utc', '_adding_user_id', '_preserving_user_id', '_forcibly_preserved', '_camcops_version',
] as const;

/**
 * Uploads records into one table.
 * @param deleteAbsent true when `rows` is the whole table (upload_table, one-step); false for upload_record.
 * @throws CamcopsUserError for a client PK sent twice.
 */
export async function uploadTableRows(sql: SqlRunner, table: ClientTableDefinition, pkName: string, rows: readonly ClientRow[], batch: BatchDetails, who: Uploader, deleteAbsent: boolean): Promise<TableUploadResult> {
  const name = quoteIdentifier(storageTableName(table));
  const live = await liveRecords(sql, table, who.deviceId, pkName);
  const byPk = new Map(live.map((r) => [r.pk, r]));
  const currentByClientPk = new Map<number, LiveRecord>();
  for (const r of live) if (r.current) currentByClientPk.set(r.clientPk, r);

  const changes = noChanges(table.name);
  const inserts: PlannedInsert[] = [];
  const modifiedOut: number[] = [];
  const chainsToPreserve = new Set<number>();
  const uploadedPks = new Set<number>();
  const seenClientPks = new Set<number>();
  const fresh: ClientRow[] = [];
  for (const row of rows) {
    const clientPk = row[pkName] as number;
    if (seenClientPks.has(clientPk)) failUser(`Table '${table.name}': client PK ${clientPk} was sent twice`);
    seenClientPks.add(clientPk);
    const moveOff = row[MOVE_OFF_TABLET] === 1;
    const existing = currentByClientPk.get(clientPk);
    if (!existing) {
      fresh.push(row);
      continue;
    }
    uploadedPks.add(existing.pk);
    if (existing.whenLastModified !== row.when_last_modified) {
      inserts.push({ row, predecessorPk: existing.pk, preserve: batch.preserving || moveOff });
      modifiedOut.push(existing.pk);
    }
    if (moveOff) for (const pk of predecessorChain(existing.pk, byPk)) chainsToPreserve.add(pk);
  }
  const preserved = await alreadyPreserved(sql, name, pkName, who.deviceId, fresh);
  for (const row of fresh) {
    if (preserved.has(`${String(row[pkName])}\u0000${String(row.when_last_modified)}`)) {
      changes.alreadyPreserved++;
      continue;
    }
    inserts.push({ row, predecessorPk: undefined, preserve: batch.preserving || row[MOVE_OFF_TABLET] === 1 });
  }
  const deleted = deleteAbsent ? [...currentByClientPk.values()].filter((r) => !uploadedPks.has(r.pk)).map((r) => r.pk) : [];

  await insertRecords(sql, table, inserts, batch, who);
  changes.added = inserts.length;
  changes.modified = modifiedOut.length;
  changes.deleted = deleted.length;

  if (batch.onestep) {
    const removed = [who.userId, who.now, batch.batchTime];
    await sql.updateIn(
      `UPDATE ${name} SET "_current" = 0, "_removal_pending" = 0, "_removing_user_id" = $1, "_when_removed_exact" = $2, "_when_removed_batch_utc" = $3,
       "_successor_pk" = (SELECT n."_pk" FROM ${name} n WHERE n."_predecessor_pk" = ${name}."_pk" AND n."_device_id" = ${name}."_device_id" AND n."_current" = 1) WHERE "_pk"`,
      removed,
      modifiedOut,
    );
    await sql.updateIn(`UPDATE ${name} SET "_current" = 0, "_removal_pending" = 0, "_removing_user_id" = $1, "_when_removed_exact" = $2, "_when_removed_batch_utc" = $3, "_successor_pk" = NULL WHERE "_pk"`, removed, deleted);
    const insertedPreserved = inserts.filter((i) => i.preserve).length;
    if (batch.preserving) {
      await sql.run(`UPDATE ${name} SET "_era" = $1, "_preserving_user_id" = $2, "_forcibly_preserved" = 0 WHERE "_device_id" = $3 AND "_era" = $4`, [batch.batchTime, who.userId, who.deviceId, ERA_NOW]);
      changes.preserved = live.length + insertedPreserved;
      changes.current = 0;
    } else {
      await sql.updateIn(`UPDATE ${name} SET "_era" = $1, "_preserving_user_id" = $2, "_forcibly_preserved" = 0 WHERE "_pk"`, [batch.batchTime, who.userId], [...chainsToPreserve]);
      changes.preserved = chainsToPreserve.size + insertedPreserved;
      const gone = new Set([...modifiedOut, ...deleted, ...chainsToPreserve]);
      changes.current = live.filter((r) => r.current && !gone.has(r.pk)).length + inserts.length - insertedPreserved;
    }
    // Special notes on preserved records go with them into the batch's era.
    if (changes.preserved) await moveNotesToEra(sql, table, who.deviceId, batch.batchTime);
    return { changes, dirty: false, hadLive: live.length > 0, inserted: inserts.some((i) => i.predecessorPk === undefined) };
  }

  await sql.updateIn(
    `UPDATE ${name} SET "_removal_pending" = 1,
     "_successor_pk" = (SELECT n."_pk" FROM ${name} n WHERE n."_predecessor_pk" = ${name}."_pk" AND n."_device_id" = ${name}."_device_id" AND n."_addition_pending" = 1) WHERE "_pk"`,
    [],
    modifiedOut,
  );
  await sql.updateIn(`UPDATE ${name} SET "_removal_pending" = 1, "_successor_pk" = NULL WHERE "_pk"`, [], deleted);
  await sql.updateIn(`UPDATE ${name} SET "_move_off_tablet" = 1 WHERE "_pk"`, [], [...chainsToPreserve]);
  const dirty = inserts.length > 0 || modifiedOut.length > 0 || deleted.length > 0 || chainsToPreserve.size > 0 || live.some((r) => r.moveOffTablet);
  return { changes, dirty, hadLive: live.length > 0, inserted: inserts.some((i) => i.predecessorPk === undefined) };
}

/**
 * Records this device already preserved (era other than NOW, still current) with the same
 * client PK and modification time: a client whose reply to a preserving upload was lost
 * sends them again, and they must not be stored twice.
 */
async function alreadyPreserved(sql: SqlRunner, name: string, pkName: string, deviceId: number, rows: readonly ClientRow[]): Promise<Set<string>> {
  const found = new Set<string>();
  const keys = rows.map((r) => r[pkName] as number);
  const room = MAX_BIND_PARAMETERS - 2;
  for (let start = 0; start < keys.length; start += room) {
    const chunk = keys.slice(start, start + room);
    const result = await sql.select<{ client_pk: number | string; when_last_modified: string }>(
      `SELECT ${quoteIdentifier(pkName)} AS client_pk, "when_last_modified" FROM ${name}
       WHERE "_device_id" = $1 AND "_era" <> $2 AND "_current" = 1 AND ${quoteIdentifier(pkName)} IN (${chunk.map((_, i) => `$${i + 3}`).join(',')})`,
      [deviceId, ERA_NOW, ...chunk],
    );
    for (const r of result) found.add(`${Number(r.client_pk)}\u0000${r.when_last_modified}`);
  }
  return found;
}

async function insertRecords(sql: SqlRunner, table: ClientTableDefinition, inserts: readonly PlannedInsert[], batch: BatchDetails, who: Uploader): Promise<void> {
  if (!inserts.length) return;
  const clientColumns = table.columns.map((c) => c.name);
  const rows: SqlValue[][] = inserts.map(({ row, predecessorPk, preserve }) => {
    const values: SqlValue[] = clientColumns.map((c) => {
      const v = row[c];
      return v === undefined ? (c === MOVE_OFF_TABLET ? 0 : null) : v;
    });
    if (batch.onestep) {
      values.push(who.deviceId, who.groupId, preserve ? batch.batchTime : ERA_NOW, 1, 0, 0, predecessorPk ?? null, who.now, batch.batchTime, who.userId, preserve ? who.userId : null, 0, who.clientVersion);
    } else {
      values.push(who.deviceId, who.groupId, ERA_NOW, 0, 1, 0, predecessorPk ?? null, null, null, null, null, 0, who.clientVersion);
    }
    return values;
  });
  await sql.insertRows(storageTableName(table), [...clientColumns, ...KEEPING_INSERT_COLUMNS], rows);
}
