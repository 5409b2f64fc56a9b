// `[db] url` may reach PostgreSQL through its Unix socket (`?host=/socket/directory`), which
// docs/deployment.md recommends when the database runs on the same machine: the platform
// starts, migrates, serves and makes prepared reads over it, not over TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { QueryTypes } from 'sequelize';
import { startTestHost } from '../../helpers/test-host.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

const SOCKET_DIR = process.env.PLATFORM_TEST_PG_SOCKET_DIR ?? '/var/run/postgresql';
const tcpUrl = process.env.PLATFORM_TEST_PG_URL;

/** The test database's URL through the socket, or why it cannot be tested here. */
async function socketUrl(): Promise<{ url: string } | { skip: string }> {
  if (!tcpUrl) return { skip: 'PostgreSQL not reachable' };
  if (!existsSync(join(SOCKET_DIR, '.s.PGSQL.5432'))) return { skip: `no PostgreSQL socket in ${SOCKET_DIR}` };
  const tcp = new URL(tcpUrl);
  const url = `postgresql://${tcp.username}@localhost${tcp.pathname}?host=${encodeURIComponent(SOCKET_DIR)}`;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    return { url };
  } catch (error) {
    return { skip: `the socket refuses this user (${(error as Error).message}); see pg_hba.conf` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

const target = await socketUrl();

test('the platform runs on PostgreSQL through its Unix socket', { skip: 'skip' in target ? target.skip : false }, async () => {
  const url = (target as { url: string }).url;
  const schema = `platform_t_socket_${process.pid}`;
  const t = await startTestHost('postgres', { env: { PLATFORM__DB__URL: url, PLATFORM__DB__SCHEMA: schema } });
  try {
    const db = t.host.services.get(DatabaseId);
    const sql = 'SELECT inet_server_addr() IS NULL AS unix, current_schema() AS schema';
    assert.deepEqual(await db.sequelize.query(sql, { type: QueryTypes.SELECT }), [{ unix: true, schema }]);
    assert.deepEqual(await db.preparedRead(sql, []), [{ unix: true, schema }]);
    const status = await t.call('status_show', {}, { method: 'GET' });
    assert.equal(status.status, 200);
    assert.equal(status.body.success, true);
  } finally {
    await t.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => client.end());
  }
});
