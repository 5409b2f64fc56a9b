// A batch's writes to the destination, per dialect: in one transaction, the rows being replaced
// are deleted and the new ones inserted (COPY on PostgreSQL, sequelize's bulk insert within SQL
// Server's parameter limit, bound multi-row INSERTs elsewhere).
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type pg from 'pg';
import type { TablePlan } from './dictionary-plan.js';
import type { SqlDialect } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';
import { keyMatch, type KeyTuple } from './row-keys.js';
import { copyRowsIn } from './pg-copy-in.js';
import { IN_CHUNK } from './source-row-plan.js';

/** In one transaction: deletes the destination rows being replaced, inserts the new ones. */
export async function writeRows(sequelize: Sequelize, dialect: SqlDialect, table: TablePlan, rows: Array<Record<string, unknown>>, replaced: KeyTuple[]): Promise<void> {
  const q = (n: string): string => quoteIdentifier(dialect, n);
  const destFields = table.keys.map((k) => k.destField);
  await sequelize.transaction(async (transaction: Transaction) => {
    const chunk = destFields.length === 1 ? IN_CHUNK : 100;
    for (let i = 0; i < replaced.length; i += chunk) {
      const match = keyMatch(dialect, destFields, replaced.slice(i, i + chunk), 'keys');
      await sequelize.query(`DELETE FROM ${q(table.destTable)} WHERE ${match.sql}`, { replacements: match.replacements, transaction });
    }
    if (!rows.length) return;
    const columns = Object.keys(rows[0]!);
    if (dialect === 'postgres') {
      await copyRowsIn(pgClientOf(transaction), q(table.destTable), columns, rows);
      return;
    }
    if (dialect === 'mssql') {
      // SQL Server allows 2100 parameters; sequelize's own bulk insert stays within them.
      const perStatement = Math.max(1, Math.floor(2000 / columns.length));
      for (let i = 0; i < rows.length; i += perStatement) await sequelize.getQueryInterface().bulkInsert(table.destTable, rows.slice(i, i + perStatement), { transaction });
      return;
    }
    // Bound parameters, not values escaped into the text: long notes then never pass through
    // sequelize's string escaping and query-text inspection. Limits: SQLite 32766, PostgreSQL
    // and MySQL 65535 parameters per statement.
    const perStatement = Math.max(1, Math.floor(30000 / columns.length));
    const head = `INSERT INTO ${q(table.destTable)} (${columns.map(q).join(', ')}) VALUES `;
    for (let i = 0; i < rows.length; i += perStatement) {
      const slice = rows.slice(i, i + perStatement);
      let n = 0;
      const tuples = slice.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`);
      const bind = slice.flatMap((row) => columns.map((c) => boundValue(row[c], dialect)));
      await sequelize.query(head + tuples.join(', '), { bind, transaction, type: QueryTypes.INSERT });
    }
  });
}

/**
 * The pg client a sequelize transaction on PostgreSQL runs on. Sequelize 6 keeps it on the
 * transaction without declaring it in its types.
 */
function pgClientOf(transaction: Transaction): pg.Client {
  const client = (transaction as unknown as { connection?: pg.Client }).connection;
  if (!client || typeof client.query !== 'function') throw new Error('the destination transaction has no PostgreSQL connection');
  return client;
}

/** A value as the driver should bind it: SQLite's driver would store a Date as a number. */
function boundValue(value: unknown, dialect: SqlDialect): unknown {
  if (value === undefined) return null;
  if (dialect === 'sqlite' && value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', ' +00:00');
  return value;
}
