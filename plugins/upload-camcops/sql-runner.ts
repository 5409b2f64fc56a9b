// Raw SQL for the plugin's tables, bound to one transaction: the upload code is set-based
// (one statement per table and step), which the ORM's per-row models would not give.
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

/** Largest number of bind parameters per statement (SQLite allows 32766, PostgreSQL 65535). */
export const MAX_BIND_PARAMETERS = 30_000;

/** A bind value. */
export type SqlValue = string | number | Buffer | null;

/** Runs statements in one transaction (or none, for reads outside one). */
export class SqlRunner {
  constructor(
    readonly sequelize: Sequelize,
    readonly dialect: 'sqlite' | 'postgres',
    readonly transaction: Transaction | undefined,
  ) {}

  /** Rows of a SELECT; `$1`, `$2`... are bound from `bind`. */
  async select<T extends object>(sql: string, bind: readonly SqlValue[] = []): Promise<T[]> {
    return this.sequelize.query<T>(sql, { bind: [...bind], type: QueryTypes.SELECT, transaction: this.transaction, raw: true });
  }

  /** Runs a statement that returns nothing of interest. */
  async run(sql: string, bind: readonly SqlValue[] = []): Promise<void> {
    await this.sequelize.query(sql, { bind: [...bind], transaction: this.transaction, raw: true });
  }

  /**
   * Runs `UPDATE ... WHERE <column> IN (...)` for a list of keys, in as few statements as
   * the bind limit allows. `head` is the statement up to `IN`, `headBind` its parameters.
   */
  async updateIn(head: string, headBind: readonly SqlValue[], keys: readonly number[]): Promise<void> {
    const room = MAX_BIND_PARAMETERS - headBind.length;
    for (let start = 0; start < keys.length; start += room) {
      const chunk = keys.slice(start, start + room);
      const placeholders = chunk.map((_, i) => `$${headBind.length + i + 1}`).join(',');
      await this.run(`${head} IN (${placeholders})`, [...headBind, ...chunk]);
    }
  }

  /**
   * Inserts one row and returns its generated key (`RETURNING` on PostgreSQL; on SQLite,
   * whose driver here does not return rows from an INSERT, `last_insert_rowid()` on the
   * transaction's connection).
   */
  async insertReturningId(table: string, values: Readonly<Record<string, SqlValue>>, idColumn: string): Promise<number> {
    const columns = Object.keys(values);
    const statement = `INSERT INTO ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
    if (this.dialect === 'postgres') {
      const [row] = await this.select<Record<string, number | string>>(`${statement} RETURNING ${quoteIdentifier(idColumn)}`, Object.values(values));
      return Number(row![idColumn]);
    }
    await this.run(statement, Object.values(values));
    const [row] = await this.select<{ id: number | string }>('SELECT last_insert_rowid() AS id');
    return Number(row!.id);
  }

  /** Inserts rows with multi-row INSERTs, as few as the bind limit allows. */
  async insertRows(table: string, columns: readonly string[], rows: ReadonlyArray<readonly SqlValue[]>): Promise<void> {
    if (!rows.length) return;
    const perStatement = Math.max(1, Math.floor(MAX_BIND_PARAMETERS / columns.length));
    const columnList = columns.map(quoteIdentifier).join(',');
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      const bind: SqlValue[] = [];
      const tuples: string[] = [];
      for (const row of chunk) {
        const marks: string[] = [];
        for (const value of row) {
          bind.push(value);
          marks.push(`$${bind.length}`);
        }
        tuples.push(`(${marks.join(',')})`);
      }
      await this.run(`INSERT INTO ${quoteIdentifier(table)} (${columnList}) VALUES ${tuples.join(',')}`, bind);
    }
  }
}

/** Double-quotes an identifier (names are validated before they get here). */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
