// The queue's hot statements on PostgreSQL run on a pooled connection as named prepared
// statements: parsed and planned once per connection, and without sequelize's per-row work.
import type pg from 'pg';
import type { Database } from '../db/database.js';

/**
 * Runs `text` with `values` as the prepared statement `name` on a pooled write connection
 * (PostgreSQL only; outside any transaction).
 * @returns the rows as the driver gives them.
 */
export async function runPooled<T>(db: Database, name: string, text: string, values: unknown[]): Promise<T[]> {
  const manager = db.sequelize.connectionManager as unknown as {
    getConnection(options: { type: 'write' }): Promise<pg.Client>;
    releaseConnection(connection: pg.Client): Promise<void>;
  };
  const connection = await manager.getConnection({ type: 'write' });
  try {
    return (await connection.query({ name, text, values })).rows as T[];
  } finally {
    await manager.releaseConnection(connection);
  }
}
