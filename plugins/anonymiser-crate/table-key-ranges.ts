// The tasks of a table without patients: key ranges of about N rows, bounded by whole keys (all
// fields of a composite key), so that ranges neither overlap nor miss rows.
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { OpenDatabase } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';
import { keyOrder, type KeyTuple } from './row-keys.js';
import { tableKey, type BatchTask } from './batch-task.js';

/** Tasks covering `table` in ranges of about `size` rows. */
export async function keyRanges(db: OpenDatabase, table: TablePlan, size: number): Promise<BatchTask[]> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  const fields = table.keys.map((k) => k.srcField);
  const select = fields.map((f, i) => `${q(f)} AS ${q(`k${i}`)}`).join(', ');
  const order = keyOrder(db.dialect, fields);
  const bounds: KeyTuple[] = [];
  for (let offset = size - 1; ; offset += size) {
    const sql = db.dialect === 'mssql'
      ? `SELECT ${select} FROM ${q(table.srcTable)} ORDER BY ${order} OFFSET ${offset} ROWS FETCH NEXT 1 ROWS ONLY`
      : `SELECT ${select} FROM ${q(table.srcTable)} ORDER BY ${order} LIMIT 1 OFFSET ${offset}`;
    const rows = await db.sequelize.query<Record<string, unknown>>(sql, { type: QueryTypes.SELECT });
    if (!rows.length) break;
    bounds.push(fields.map((_, i) => rows[0]![`k${i}`]));
  }
  const tasks: BatchTask[] = [];
  let after: KeyTuple | undefined;
  for (const bound of bounds) {
    tasks.push({ kind: 'table', table: tableKey(table), after, upTo: bound });
    after = bound;
  }
  tasks.push({ kind: 'table', table: tableKey(table), after, upTo: undefined });
  return tasks;
}
