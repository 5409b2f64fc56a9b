// What the destination already holds for given keys: each row's stored source hash (or '' for
// tables without one), which incremental runs and the survey compare with the source's.
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { OpenDatabase } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';
import { denseIntegerRange, keyMatch, keyString, type KeyTuple } from './row-keys.js';
import { IN_CHUNK, INTEGER_TYPE } from './source-row-plan.js';

/** Destination source hashes (or '' for tables without) of the given keys, by keyString. */
export async function existingHashes(dest: OpenDatabase, table: TablePlan, hashField: string, keys: KeyTuple[]): Promise<Map<string, string>> {
  const q = (n: string): string => quoteIdentifier(dest.dialect, n);
  const destFields = table.keys.map((k) => k.destField);
  const found = new Map<string, string>();
  const columns = `${destFields.map((f, j) => `${q(f)} AS ${q(`k${j}`)}`).join(', ')}${table.hasSrcHash ? `, ${q(hashField)} AS h` : ''}`;
  const keep = (r: Record<string, unknown>): void => {
    found.set(keyString(destFields.map((_, j) => r[`k${j}`])), r.h === undefined || r.h === null ? '' : String(r.h));
  };
  // Dense integer keys (a batch's notes, say) are read as one range.
  const range = destFields.length === 1 && table.keys[0] !== table.pid && INTEGER_TYPE.test(table.keys[0]!.srcDatatype.trim()) ? denseIntegerRange(keys.map((k) => k[0])) : undefined;
  if (range) {
    const rows = await dest.sequelize.query<Record<string, unknown>>(`SELECT ${columns} FROM ${q(table.destTable)} WHERE ${q(destFields[0]!)} >= :lo AND ${q(destFields[0]!)} <= :hi`, { type: QueryTypes.SELECT, replacements: range });
    for (const r of rows) keep(r);
    return found;
  }
  // Composite keys match by an OR of ANDs: smaller chunks keep those statements short.
  const chunk = destFields.length === 1 ? IN_CHUNK : 100;
  for (let i = 0; i < keys.length; i += chunk) {
    const match = keyMatch(dest.dialect, destFields, keys.slice(i, i + chunk), 'keys');
    const rows = await dest.sequelize.query<Record<string, unknown>>(`SELECT ${columns} FROM ${q(table.destTable)} WHERE ${match.sql}`, { type: QueryTypes.SELECT, replacements: match.replacements });
    for (const r of rows) keep(r);
  }
  return found;
}
