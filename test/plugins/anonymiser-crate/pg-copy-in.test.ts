// The anonymiser's PostgreSQL destination writes by COPY: every kind of value a source can hold
// must store exactly what a bound INSERT stores, a failing COPY must reject and leave the
// connection usable, and the text format's escapes must survive awkward text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { copyField, copyLines, copyRowsIn } from '../../../plugins/anonymiser-crate/pg-copy-in.js';
import { createScratchPgDatabase } from '../../../scripts/scratch-pg-database.js';

test('COPY text fields: null, escapes, bytes, booleans and numbers', () => {
  assert.equal(copyField(null), '\\N');
  assert.equal(copyField(undefined), '\\N');
  assert.equal(copyField('\\N'), '\\\\N');
  assert.equal(copyField('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e');
  assert.equal(copyField('plain'), 'plain');
  assert.equal(copyField(Buffer.from([0, 255])), '\\\\x00ff');
  assert.equal(copyField(true), 'true');
  assert.equal(copyField(12.5), '12.5');
  assert.equal(copyLines(['a', 'b'], [{ a: 1, b: null }, { a: 2, b: 'x' }]), '1\t\\N\n2\tx\n');
});

const url = process.env.PLATFORM_TEST_PG_URL;
const pgSkip = url ? false : 'PostgreSQL not reachable';

/** Runs `body` with a client on a scratch database of its own, dropped afterwards. */
async function withScratchClient(prefix: string, body: (client: pg.Client) => Promise<void>): Promise<void> {
  const db = await createScratchPgDatabase(url!, prefix);
  const client = new pg.Client({ connectionString: db.url });
  try {
    await client.connect();
    await body(client);
  } finally {
    await client.end().catch(() => undefined);
    await db.drop();
  }
}

test('COPY stores what a bound INSERT stores, for every kind of value', { skip: pgSkip }, () =>
  withScratchClient('anon_t_copy', async (client) => {
    const columns = ['id', 'txt', 'vc', 'num', 'big', 'flag', 'day', 'stamp', 'stamp_tz', 'bytes', 'doc'];
    const ddl = 'id integer PRIMARY KEY, txt text, vc varchar(20), num double precision, big bigint, flag boolean, day date, stamp timestamp, stamp_tz timestamptz, bytes bytea, doc jsonb';
    await client.query(`CREATE TABLE by_insert (${ddl})`);
    await client.query(`CREATE TABLE by_copy (${ddl})`);
    const rows: Array<Record<string, unknown>> = [
      { id: 1, txt: 'line one\nline two\r\n\ttabbed \\ back\\slash \\N not null', vc: 'Zoë ☃ 𝄞', num: 1.5, big: '9007199254740993', flag: true, day: '2021-03-04', stamp: new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 678)), stamp_tz: new Date(Date.UTC(1999, 11, 31, 23, 59, 59)), bytes: Buffer.from([0, 9, 10, 13, 92, 255]), doc: { a: 'x\ty', b: [1, null] } },
      { id: 2, txt: '', vc: null, num: -0.25, big: -5, flag: false, day: new Date(Date.UTC(2022, 5, 30)), stamp: null, stamp_tz: null, bytes: Buffer.alloc(0), doc: null },
      { id: 3, txt: null, vc: '\\', num: null, big: null, flag: null, day: null, stamp: null, stamp_tz: null, bytes: null, doc: [] },
    ];
    for (const row of rows) {
      await client.query(`INSERT INTO by_insert (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map((c) => row[c] ?? null));
    }
    assert.equal(await copyRowsIn(client, 'by_copy', columns, rows), rows.length);
    const dump = async (table: string): Promise<string[]> => (await client.query<{ t: string }>(`SELECT t::text AS t FROM ${table} t ORDER BY id`)).rows.map((r) => r.t);
    const copied = await dump('by_copy');
    assert.deepEqual(copied, await dump('by_insert'));
    assert.equal(copied.length, 3);
    const first = (await client.query<{ txt: string; bytes: Buffer }>('SELECT txt, bytes FROM by_copy WHERE id = 1')).rows[0]!;
    assert.equal(first.txt, rows[0]!.txt);
    assert.deepEqual(first.bytes, rows[0]!.bytes);
  }));

test('a batch of several megabytes goes in pieces, row boundaries and multi-byte text intact', { skip: pgSkip }, () =>
  withScratchClient('anon_t_copy_big', async (client) => {
    await client.query('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
    // About 5 MB of text with tabs, newlines and characters of 2 to 4 UTF-8 bytes.
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: i, v: `${i}\t${'é☃𝄞\n'.repeat(200)}${'x'.repeat(i % 97)}` }));
    assert.equal(await copyRowsIn(client, 't', ['id', 'v'], rows), rows.length);
    const stored = await client.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
    assert.equal(stored.rows.length, rows.length);
    stored.rows.forEach((r, i) => assert.equal(r.v, rows[i]!.v, `row ${i}`));
  }));

test('a failing COPY rejects with the server error, writes nothing, and the connection goes on', { skip: pgSkip }, () =>
  withScratchClient('anon_t_copy_fail', async (client) => {
    await client.query('CREATE TABLE t (id integer PRIMARY KEY, v text NOT NULL)');
    await client.query('BEGIN');
    await assert.rejects(copyRowsIn(client, 't', ['id', 'v'], [{ id: 1, v: 'a' }, { id: 1, v: 'b' }]), /duplicate key value violates unique constraint/);
    await client.query('ROLLBACK');
    await assert.rejects(copyRowsIn(client, 't', ['id', 'v'], [{ id: 2, v: null }]), /null value in column "v"/);
    await assert.rejects(copyRowsIn(client, 'missing', ['id'], [{ id: 1 }]), /relation "missing" does not exist/);
    assert.equal((await client.query('SELECT count(*)::int AS n FROM t')).rows[0].n, 0);
    assert.equal(await copyRowsIn(client, 't', ['id', 'v'], [{ id: 3, v: 'c' }]), 1);
    assert.equal((await client.query('SELECT v FROM t')).rows[0].v, 'c');
  }));
