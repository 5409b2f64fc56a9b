// A PostgreSQL database of its own for one test suite or benchmark run, created on a server
// where the given URL may create databases, and dropped (connections and all) afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A scratch database: its URL, and how to drop it. */
export interface ScratchPgDatabase {
  url: string;
  /** The database's name (unique per call). */
  name: string;
  drop(): Promise<void>;
}

async function run(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database next to `adminUrl`'s.
 * @param adminUrl a server URL whose user may create databases
 * @param prefix the new name's start (letters, digits, underscores); a random suffix follows
 */
export async function createScratchPgDatabase(adminUrl: string, prefix: string): Promise<ScratchPgDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await run(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), name, drop: () => run(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}
