// A device's upload batch: when it started, who uploads, whether it preserves, and which
// tables hold pending changes. Starting a batch (or another user continuing one) rolls
// back whatever the device left pending.
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import type { Device } from './device-store.js';
import { ERA_NOW } from './record-keeping.js';
import { quoteIdentifier, type SqlRunner } from './sql-runner.js';

/** The batch an upload step belongs to. */
export interface BatchDetails {
  /** ISO time the batch started; the era preserved records move to. */
  batchTime: string;
  preserving: boolean;
  /** One-step uploads apply changes at once instead of staging them. */
  onestep: boolean;
}

/** The batch the device has open for this user, or a fresh one (rolling back the old). */
export async function batchFor(sql: SqlRunner, tables: ClientTableRegistry, device: Device, userId: string, now: string): Promise<BatchDetails> {
  const [row] = await sql.select<{ ongoing_upload_batch_utc: string | null; uploading_user_id: string | null; currently_preserving: number | string }>(
    'SELECT ongoing_upload_batch_utc, uploading_user_id, currently_preserving FROM camcops_devices WHERE id = $1',
    [device.id],
  );
  if (!row?.ongoing_upload_batch_utc || row.uploading_user_id !== userId) {
    await startBatch(sql, tables, device, userId, now);
    return { batchTime: now, preserving: false, onestep: false };
  }
  return { batchTime: row.ongoing_upload_batch_utc, preserving: Boolean(Number(row.currently_preserving)), onestep: false };
}

/** Rolls back pending changes and opens a new batch. */
export async function startBatch(sql: SqlRunner, tables: ClientTableRegistry, device: Device, userId: string, now: string): Promise<void> {
  await rollbackAll(sql, tables, device.id);
  await sql.run('UPDATE camcops_devices SET last_upload_batch_utc = $1, ongoing_upload_batch_utc = $1, uploading_user_id = $2, currently_preserving = 0 WHERE id = $3', [now, userId, device.id]);
}

/** Closes the device's batch (after commit or for one-step uploads). */
export async function clearBatch(sql: SqlRunner, deviceId: number): Promise<void> {
  await sql.run('UPDATE camcops_devices SET ongoing_upload_batch_utc = NULL, uploading_user_id = NULL, currently_preserving = 0 WHERE id = $1', [deviceId]);
  await sql.run('DELETE FROM camcops_dirty_tables WHERE device_id = $1', [deviceId]);
}

/** Names of the tables with pending changes for a device. */
export async function dirtyTables(sql: SqlRunner, deviceId: number): Promise<Set<string>> {
  const rows = await sql.select<{ tablename: string }>('SELECT tablename FROM camcops_dirty_tables WHERE device_id = $1', [deviceId]);
  return new Set(rows.map((r) => r.tablename));
}

/** Marks tables dirty. */
export async function markDirty(sql: SqlRunner, deviceId: number, names: readonly string[]): Promise<void> {
  if (!names.length) return;
  const already = await dirtyTables(sql, deviceId);
  const fresh = [...new Set(names)].filter((n) => !already.has(n));
  if (fresh.length) await sql.insertRows('camcops_dirty_tables', ['device_id', 'tablename'], fresh.map((n) => [deviceId, n]));
}

/** Adds to the count of records a stepwise upload found already preserved in a table (marking it dirty, so that end_upload audits it). */
export async function addAlreadyPreserved(sql: SqlRunner, deviceId: number, name: string, count: number): Promise<void> {
  if (count <= 0) return;
  await markDirty(sql, deviceId, [name]);
  await sql.run('UPDATE camcops_dirty_tables SET already_preserved = already_preserved + $1 WHERE device_id = $2 AND tablename = $3', [count, deviceId, name]);
}

/** Records found already preserved during the device's stepwise upload, by table. */
export async function alreadyPreservedCounts(sql: SqlRunner, deviceId: number): Promise<Map<string, number>> {
  const rows = await sql.select<{ tablename: string; already_preserved: number | string }>('SELECT tablename, already_preserved FROM camcops_dirty_tables WHERE device_id = $1', [deviceId]);
  return new Map(rows.map((r) => [r.tablename, Number(r.already_preserved)]));
}

/** Marks tables clean (nothing to commit or preserve in them). */
export async function markClean(sql: SqlRunner, deviceId: number, names: readonly string[]): Promise<void> {
  for (const name of names) await sql.run('DELETE FROM camcops_dirty_tables WHERE device_id = $1 AND tablename = $2', [deviceId, name]);
}

/** Undoes every staged change of a device: pending additions, removals and preservation flags. */
export async function rollbackAll(sql: SqlRunner, tables: ClientTableRegistry, deviceId: number): Promise<void> {
  for (const name of await dirtyTables(sql, deviceId)) {
    const table = tables.get(name);
    if (!table) continue;
    const t = quoteIdentifier(storageTableName(table));
    await sql.run(`DELETE FROM ${t} WHERE "_device_id" = $1 AND "_addition_pending" = 1`, [deviceId]);
    await sql.run(`UPDATE ${t} SET "_removal_pending" = 0, "_successor_pk" = NULL WHERE "_device_id" = $1 AND "_removal_pending" = 1`, [deviceId]);
    await sql.run(`UPDATE ${t} SET "_move_off_tablet" = 0 WHERE "_device_id" = $1 AND "_era" = $2 AND "_move_off_tablet" = 1`, [deviceId, ERA_NOW]);
  }
  await sql.run('DELETE FROM camcops_dirty_tables WHERE device_id = $1', [deviceId]);
}
