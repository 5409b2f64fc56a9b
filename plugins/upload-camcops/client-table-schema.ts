// Creates and extends the storage tables of client tables from their definitions, at
// start-up: a new definition file adds a table, a new column in one adds a column. Columns
// are never dropped (records keep their history).
import type { ClientTableDefinition, ColumnKind } from './client-table-definition.js';
import { RECORD_KEEPING_COLUMNS } from './record-keeping.js';
import { storageTableName } from './client-table-registry.js';
import { quoteIdentifier, type SqlRunner } from './sql-runner.js';

const SQL_TYPES: Record<ColumnKind, { sqlite: string; postgres: string }> = {
  integer: { sqlite: 'INTEGER', postgres: 'BIGINT' },
  real: { sqlite: 'REAL', postgres: 'DOUBLE PRECISION' },
  text: { sqlite: 'TEXT', postgres: 'TEXT' },
  blob: { sqlite: 'BLOB', postgres: 'BYTEA' },
  boolean: { sqlite: 'INTEGER', postgres: 'INTEGER' },
};

/** Makes the storage of each client table match its definition. */
export async function syncClientTables(sql: SqlRunner, tables: readonly ClientTableDefinition[]): Promise<void> {
  for (const table of tables) {
    const name = storageTableName(table);
    const existing = await existingColumns(sql, name);
    const clientColumns = table.columns.map((c) => ({ name: c.name, type: SQL_TYPES[c.kind][sql.dialect] }));
    if (!existing) {
      const pk = sql.dialect === 'postgres' ? '"_pk" SERIAL PRIMARY KEY' : '"_pk" INTEGER PRIMARY KEY AUTOINCREMENT';
      const columns = [pk, ...RECORD_KEEPING_COLUMNS.map((c) => `${quoteIdentifier(c.name)} ${c[sql.dialect]}`), ...clientColumns.map((c) => `${quoteIdentifier(c.name)} ${c.type}`)];
      await sql.run(`CREATE TABLE IF NOT EXISTS ${quoteIdentifier(name)} (${columns.join(', ')})`);
      await sql.run(`CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${name}_device_era`)} ON ${quoteIdentifier(name)} ("_device_id", "_era", "id")`);
      await sql.run(`CREATE INDEX IF NOT EXISTS ${quoteIdentifier(`${name}_group`)} ON ${quoteIdentifier(name)} ("_group_id", "_era", "_current")`);
      continue;
    }
    for (const column of clientColumns) {
      if (!existing.has(column.name)) await sql.run(`ALTER TABLE ${quoteIdentifier(name)} ADD COLUMN ${quoteIdentifier(column.name)} ${column.type}`);
    }
  }
}

async function existingColumns(sql: SqlRunner, table: string): Promise<Set<string> | undefined> {
  if (sql.dialect === 'sqlite') {
    const rows = await sql.select<{ name: string }>(`PRAGMA table_info(${quoteIdentifier(table)})`);
    return rows.length ? new Set(rows.map((r) => r.name)) : undefined;
  }
  const rows = await sql.select<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = current_schema()`,
    [table],
  );
  return rows.length ? new Set(rows.map((r) => r.column_name)) : undefined;
}
