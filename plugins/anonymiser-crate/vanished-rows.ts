// An incremental run's clean-up reads: destination rows whose source row is gone, whether a
// destination table holds exactly the rows a survey found, and deletion by key.
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { OpenDatabase } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';
import { keyMatch, keyString, type KeyTuple } from './row-keys.js';

/** Deletes the rows whose `field` is one of `keys`; returns how many went. */
export async function deleteKeys(db: OpenDatabase, table: string, field: string, keys: readonly unknown[]): Promise<number> {
  return deleteTuples(db, table, [field], keys.map((k) => [k]));
}

/** Deletes the rows whose key (of `fields`) is one of `tuples`; returns how many went. */
export async function deleteTuples(db: OpenDatabase, table: string, fields: readonly string[], tuples: readonly KeyTuple[]): Promise<number> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  let deleted = 0;
  const chunkSize = fields.length === 1 ? 500 : 100;
  for (let i = 0; i < tuples.length; i += chunkSize) {
    const match = keyMatch(db.dialect, fields, tuples.slice(i, i + chunkSize), 'keys');
    const [count] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${match.sql}`, { type: QueryTypes.SELECT, replacements: match.replacements });
    if (Number(count?.n ?? 0) === 0) continue;
    await db.sequelize.query(`DELETE FROM ${q(table)} WHERE ${match.sql}`, { replacements: match.replacements });
    deleted += Number(count!.n);
  }
  return deleted;
}

/** True when `table` holds exactly `rows` rows. */
export async function holdsOnly(db: OpenDatabase, table: string, rows: number): Promise<boolean> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  const [count] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)}`, { type: QueryTypes.SELECT });
  return Number(count?.n ?? -1) === rows;
}

/** The destination keys (of the table's destination key fields) whose source key no longer exists. */
export async function findVanished(source: OpenDatabase, destination: OpenDatabase, table: TablePlan, destKeyOf: (sourceKey: KeyTuple) => KeyTuple): Promise<KeyTuple[]> {
  const qs = (n: string): string => quoteIdentifier(source.dialect, n);
  const qd = (n: string): string => quoteIdentifier(destination.dialect, n);
  const srcFields = table.keys.map((k) => k.srcField);
  const destFields = table.keys.map((k) => k.destField);
  const tuple = (r: Record<string, unknown>): KeyTuple => srcFields.map((_, i) => r[`k${i}`]);
  // Both reads at once: each database answers while the other does.
  const [sourceRows, destKeys] = await Promise.all([
    source.sequelize.query<Record<string, unknown>>(`SELECT ${srcFields.map((f, i) => `${qs(f)} AS ${qs(`k${i}`)}`).join(', ')} FROM ${qs(table.srcTable)}`, { type: QueryTypes.SELECT }),
    destination.sequelize.query<Record<string, unknown>>(`SELECT ${destFields.map((f, i) => `${qd(f)} AS ${qd(`k${i}`)}`).join(', ')} FROM ${qd(table.destTable)}`, { type: QueryTypes.SELECT }),
  ]);
  const sourceKeys = new Set(sourceRows.map((r) => keyString(destKeyOf(tuple(r)))));
  return destKeys.map(tuple).filter((k) => !sourceKeys.has(keyString(k)));
}
