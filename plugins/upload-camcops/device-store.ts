// Registered tablets, and the upload batch each has open.
import type { SqlRunner } from './sql-runner.js';

/** A registered device. */
export interface Device {
  id: number;
  name: string;
  ongoingBatchUtc: string | undefined;
  uploadingUserId: string | undefined;
  currentlyPreserving: boolean;
}

interface DeviceRow {
  id: number;
  name: string;
  ongoing_upload_batch_utc: string | null;
  uploading_user_id: string | null;
  currently_preserving: number;
}

/** Finds a device by its name. */
export async function findDevice(sql: SqlRunner, name: string): Promise<Device | undefined> {
  const [row] = await sql.select<DeviceRow>('SELECT id, name, ongoing_upload_batch_utc, uploading_user_id, currently_preserving FROM camcops_devices WHERE name = $1', [name]);
  if (!row) return undefined;
  return { id: Number(row.id), name: row.name, ongoingBatchUtc: row.ongoing_upload_batch_utc ?? undefined, uploadingUserId: row.uploading_user_id ?? undefined, currentlyPreserving: Boolean(Number(row.currently_preserving)) };
}

/** Registers a device, or re-registers it (a tablet may register again). */
export async function registerDevice(sql: SqlRunner, input: { name: string; friendlyName: string | undefined; version: string; userId: string; now: string }): Promise<Device> {
  const existing = await findDevice(sql, input.name);
  if (existing) {
    await sql.run('UPDATE camcops_devices SET friendly_name = $1, camcops_version = $2, registered_by_user_id = $3, when_registered_utc = $4 WHERE id = $5', [input.friendlyName ?? null, input.version, input.userId, input.now, existing.id]);
    return existing;
  }
  await sql.run('INSERT INTO camcops_devices (name, friendly_name, camcops_version, registered_by_user_id, when_registered_utc, currently_preserving) VALUES ($1, $2, $3, $4, $5, 0)', [input.name, input.friendlyName ?? null, input.version, input.userId, input.now]);
  return (await findDevice(sql, input.name))!;
}

/**
 * Serialises uploads of one device across requests and nodes: on PostgreSQL the device row
 * is locked until the transaction ends (SQLite's write transactions are serial already).
 */
export async function lockDevice(sql: SqlRunner, deviceId: number): Promise<void> {
  if (sql.dialect === 'postgres') await sql.select('SELECT id FROM camcops_devices WHERE id = $1 FOR UPDATE', [deviceId]);
}
