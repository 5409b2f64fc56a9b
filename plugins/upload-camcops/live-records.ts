// A device's records of one table in the NOW era (still on the tablet), with the
// record-keeping state the upload steps decide on, read in one query.
import type { ClientTableDefinition } from './client-table-definition.js';
import { storageTableName } from './client-table-registry.js';
import { ERA_NOW } from './record-keeping.js';
import { quoteIdentifier, type SqlRunner } from './sql-runner.js';

/** One server record as the upload logic sees it. */
export interface LiveRecord {
  pk: number;
  clientPk: number;
  whenLastModified: string | null;
  moveOffTablet: boolean;
  current: boolean;
  additionPending: boolean;
  removalPending: boolean;
  predecessorPk: number | undefined;
  successorPk: number | undefined;
}

interface LiveRow {
  _pk: number | string;
  client_pk: number | string;
  when_last_modified: string | null;
  _move_off_tablet: number | string | null;
  _current: number | string;
  _addition_pending: number | string;
  _removal_pending: number | string;
  _predecessor_pk: number | string | null;
  _successor_pk: number | string | null;
}

/** The NOW-era records of a device in a table. */
export async function liveRecords(sql: SqlRunner, table: ClientTableDefinition, deviceId: number, pkName = 'id'): Promise<LiveRecord[]> {
  const rows = await sql.select<LiveRow>(
    `SELECT "_pk", ${quoteIdentifier(pkName)} AS client_pk, "when_last_modified", "_move_off_tablet", "_current", "_addition_pending", "_removal_pending", "_predecessor_pk", "_successor_pk"
     FROM ${quoteIdentifier(storageTableName(table))} WHERE "_device_id" = $1 AND "_era" = $2`,
    [deviceId, ERA_NOW],
  );
  return rows.map((r) => ({
    pk: Number(r._pk),
    clientPk: Number(r.client_pk),
    whenLastModified: r.when_last_modified,
    moveOffTablet: Boolean(Number(r._move_off_tablet ?? 0)),
    current: Boolean(Number(r._current)),
    additionPending: Boolean(Number(r._addition_pending)),
    removalPending: Boolean(Number(r._removal_pending)),
    predecessorPk: r._predecessor_pk === null ? undefined : Number(r._predecessor_pk),
    successorPk: r._successor_pk === null ? undefined : Number(r._successor_pk),
  }));
}

/** A record and all its predecessors (preservation moves the whole chain). */
export function predecessorChain(start: number, byPk: ReadonlyMap<number, LiveRecord>): number[] {
  const chain: number[] = [];
  const seen = new Set<number>();
  let pk: number | undefined = start;
  while (pk !== undefined && !seen.has(pk)) {
    seen.add(pk);
    chain.push(pk);
    pk = byPk.get(pk)?.predecessorPk;
  }
  return chain;
}
