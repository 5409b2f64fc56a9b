// Creates the destination tables a plan writes: the included fields with their destination
// types, the research ID in place of the patient ID, the added trid and mrid columns, the
// source-hash column of H tables, and the dictionary's indexes (created after a full load,
// when building them is cheapest).
import { QueryTypes, type Sequelize } from 'sequelize';
import type { SqlDialect } from './database-connection.js';
import type { TablePlan } from './dictionary-plan.js';
import { destinationType, hashColumnType, indexStatement, quoteIdentifier } from './sql-dialect.js';

/** Names and sizes of the columns a run adds. */
export interface AddedColumns {
  tridField: string;
  mridField: string;
  sourceHashField: string;
  /** Hex length of research IDs (and MRIDs). */
  ridLength: number;
  /** Hex length of source hashes. */
  hashLength: number;
}

/** A destination column. */
interface ColumnSpec {
  name: string;
  type: string;
  notNull: boolean;
}

/** PostgreSQL types stored out of line when long, which a COMPRESSION clause applies to. */
const COMPRESSIBLE = /^(TEXT|VARCHAR|CHARACTER VARYING|BYTEA|JSONB?|XML)\b/i;

/**
 * The compression a PostgreSQL destination's long columns get: lz4 when asked for and the
 * server has it (PostgreSQL 14 or later, built with lz4). Writing gigabytes of note text, the
 * default (pglz) costs the server several times the CPU of lz4 and held back whole runs.
 */
export async function columnCompression(sequelize: Sequelize, dialect: SqlDialect, wanted: 'lz4' | 'default'): Promise<'lz4' | undefined> {
  if (dialect !== 'postgres' || wanted !== 'lz4') return undefined;
  const rows = await sequelize.query<{ lz4: boolean }>(
    `SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`,
    { type: QueryTypes.SELECT },
  );
  return rows[0]?.lz4 ? 'lz4' : undefined;
}

/** The destination columns of `table`, in order. */
export function destinationColumns(dialect: SqlDialect, table: TablePlan, added: AddedColumns): ColumnSpec[] {
  const columns: ColumnSpec[] = table.included.map((row) => ({
    name: row.destField,
    type: row === table.pid || row === table.mpid ? hashColumnType(dialect, added.ridLength) : destinationType(dialect, row.destDatatype),
    notNull: table.keys.includes(row) || row.flags.has('N'),
  }));
  if (table.pid) {
    columns.push({ name: added.tridField, type: 'INTEGER', notNull: true });
    columns.push({ name: added.mridField, type: hashColumnType(dialect, added.ridLength), notNull: false });
  }
  if (table.hasSrcHash) columns.push({ name: added.sourceHashField, type: hashColumnType(dialect, added.hashLength), notNull: true });
  return columns;
}

/** True when the destination has the table. */
export async function tableExists(sequelize: Sequelize, dialect: SqlDialect, table: string): Promise<boolean> {
  const sql = {
    sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND name = :table`,
    postgres: `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = :table`,
    mysql: `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = :table`,
    mssql: `SELECT name FROM sys.tables WHERE name = :table`,
  }[dialect];
  const rows = await sequelize.query(sql, { type: QueryTypes.SELECT, replacements: { table } });
  return rows.length > 0;
}

/** The CREATE TABLE statement of `table`. */
export function createTableStatement(dialect: SqlDialect, table: TablePlan, added: AddedColumns, compression?: 'lz4'): string {
  const q = (n: string): string => quoteIdentifier(dialect, n);
  const columns = destinationColumns(dialect, table, added).map((c) => {
    const compressed = compression && COMPRESSIBLE.test(c.type) ? ` COMPRESSION ${compression}` : '';
    return `${q(c.name)} ${c.type}${compressed}${c.notNull ? ' NOT NULL' : ''}`;
  });
  if (table.keys.length) columns.push(`PRIMARY KEY (${table.keys.map((k) => q(k.destField)).join(', ')})`);
  return `CREATE TABLE ${q(table.destTable)} (${columns.join(', ')})`;
}

/**
 * Creates (or, when `recreate`, drops and creates) the destination tables of `tables`.
 * @returns the tables that were created now (they need their indexes after the load)
 */
export async function prepareDestination(sequelize: Sequelize, dialect: SqlDialect, tables: readonly TablePlan[], added: AddedColumns, recreate: boolean, compression: 'lz4' | 'default' = 'default'): Promise<TablePlan[]> {
  const created: TablePlan[] = [];
  const method = await columnCompression(sequelize, dialect, compression);
  for (const table of tables) {
    if (!table.included.length) continue;
    const exists = await tableExists(sequelize, dialect, table.destTable);
    if (exists && !recreate) continue;
    if (exists) await sequelize.query(`DROP TABLE ${quoteIdentifier(dialect, table.destTable)}`);
    await sequelize.query(createTableStatement(dialect, table, added, method));
    created.push(table);
  }
  return created;
}

/** The index statements of `table`: the dictionary's, plus research and transient IDs. */
export function indexStatements(dialect: SqlDialect, table: TablePlan, added: AddedColumns): string[] {
  const statements: string[] = [];
  for (const row of table.included) {
    // A one-field key is indexed by the primary key itself; so is the first of a composite key.
    if (row.index && row !== table.keys[0]) {
      const sql = indexStatement(dialect, table.destTable, row.destField, row.index, row.destDatatype, row.indexLen);
      if (sql) statements.push(sql);
    }
  }
  if (table.pid) {
    if (!table.pid.index) statements.push(indexStatement(dialect, table.destTable, table.pid.destField, 'I', 'VARCHAR', undefined)!);
    statements.push(indexStatement(dialect, table.destTable, added.tridField, 'I', 'INTEGER', undefined)!);
  }
  return statements;
}
