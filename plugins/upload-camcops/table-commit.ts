// end_upload: applies a device's staged changes table by table in commit order — pending
// additions become current, pending removals stop being current, and records flagged for
// preservation (or all of them, in a preserving batch) move to the batch's era.
import type { ClientTableDefinition } from './client-table-definition.js';
import { storageTableName } from './client-table-registry.js';
import { liveRecords } from './live-records.js';
import { ERA_NOW } from './record-keeping.js';
import type { BatchDetails } from './upload-batch.js';
import { noChanges, type TableChanges } from './upload-changes.js';
import type { Uploader } from './table-upload.js';
import { quoteIdentifier, type SqlRunner } from './sql-runner.js';
import { moveNotesToEra } from './special-notes.js';

/** Commits one table's staged changes for the uploader's device. */
export async function commitTable(sql: SqlRunner, table: ClientTableDefinition, batch: BatchDetails, who: Uploader): Promise<TableChanges> {
  const name = quoteIdentifier(storageTableName(table));
  const live = await liveRecords(sql, table, who.deviceId);
  const changes = noChanges(table.name);
  const additions = live.filter((r) => r.additionPending).map((r) => r.pk);
  const removals = live.filter((r) => r.removalPending);
  changes.added = additions.length;
  changes.modified = removals.filter((r) => r.successorPk !== undefined).length;
  changes.deleted = removals.length - changes.modified;
  const preserve = batch.preserving ? live : live.filter((r) => r.moveOffTablet);
  changes.preserved = preserve.length;
  const preservedPks = new Set(preserve.map((r) => r.pk));
  changes.current = live.filter((r) => ((r.current && !r.removalPending) || r.additionPending) && !preservedPks.has(r.pk)).length;

  await sql.updateIn(
    `UPDATE ${name} SET "_current" = 1, "_addition_pending" = 0, "_adding_user_id" = $1, "_when_added_exact" = $2, "_when_added_batch_utc" = $3 WHERE "_pk"`,
    [who.userId, who.now, batch.batchTime],
    additions,
  );
  await sql.updateIn(
    `UPDATE ${name} SET "_current" = 0, "_removal_pending" = 0, "_removing_user_id" = $1, "_when_removed_exact" = $2, "_when_removed_batch_utc" = $3 WHERE "_pk"`,
    [who.userId, who.now, batch.batchTime],
    removals.map((r) => r.pk),
  );
  if (batch.preserving) {
    await sql.run(`UPDATE ${name} SET "_era" = $1, "_preserving_user_id" = $2, "_forcibly_preserved" = 0 WHERE "_device_id" = $3 AND "_era" = $4`, [batch.batchTime, who.userId, who.deviceId, ERA_NOW]);
  } else {
    await sql.updateIn(`UPDATE ${name} SET "_era" = $1, "_preserving_user_id" = $2, "_forcibly_preserved" = 0 WHERE "_pk"`, [batch.batchTime, who.userId], [...preservedPks]);
  }
  // Special notes on preserved records go with them into the batch's era.
  if (changes.preserved) await moveNotesToEra(sql, table, who.deviceId, batch.batchTime);
  return changes;
}
