// Incremental runs over PostgreSQL sources settle unchanged patients by their rows' versions
// (kept as a keyed digest per patient in the secret map) instead of every row's source hash:
// a row whose version is unchanged is not read again, a new version (even with the same
// contents) sends its patient to the comparison by hash, a missing destination row is
// restored, and a source that is a view has no versions and is compared by hash as before.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { anonFixture, connect, type AnonFixture } from './anon-fixture.js';
import { runAnonymisation, type RunSummary } from '../../../plugins/anonymiser-crate/anonymisation-run.js';

const rid = (pid: number | string): string => createHmac('sha256', 'patient-key-for-tests').update(String(pid)).digest('hex');

async function query<T extends object>(url: string, sql: string, replacements: Record<string, unknown> = {}): Promise<T[]> {
  const db = connect(url);
  try {
    return await db.query<T>(sql, { type: QueryTypes.SELECT, replacements });
  } finally {
    await db.close();
  }
}

async function execute(url: string, sql: string, replacements: Record<string, unknown> = {}): Promise<void> {
  const db = connect(url);
  try {
    await db.query(sql, { replacements });
  } finally {
    await db.close();
  }
}

const pgSkip = process.env.PLATFORM_TEST_PG_URL ? false : 'PostgreSQL not reachable';

describe('row versions on a PostgreSQL source', { skip: pgSkip }, () => {
  let f: AnonFixture;
  const run = (incremental: boolean): Promise<RunSummary> => runAnonymisation({ configFile: f.configFile, env: f.env, incremental });
  const versions = async (): Promise<Map<string, string | null>> =>
    new Map((await query<{ pid: string; rows_version: string | null }>(f.secret.url, 'SELECT pid, rows_version FROM anon_secret_map')).map((r) => [r.pid, r.rows_version]));
  const destNote = async (noteId: number): Promise<{ note_text: string; _src_hash: string } | undefined> =>
    (await query<{ note_text: string; _src_hash: string }>(f.destination.url, 'SELECT note_text, _src_hash FROM note WHERE note_id = :id', { id: noteId }))[0];
  let noteId = 0;
  let owner = 0;

  before(async () => {
    f = await anonFixture('postgres');
    const first = (await query<{ note_id: number; patient_id: number }>(f.source.url, `SELECT note_id, patient_id FROM note WHERE patient_id IN (:pids) ORDER BY note_id LIMIT 1`, { pids: f.dataset.patients.filter((p) => !p.optOut).map((p) => p.pid) }))[0]!;
    noteId = first.note_id;
    owner = first.patient_id;
  });
  after(async () => {
    await f?.cleanup();
  });

  test('a full run records a row-version digest for every patient written', async () => {
    await run(false);
    const recorded = await versions();
    for (const p of f.dataset.patients.filter((x) => !x.optOut)) assert.match(recorded.get(String(p.pid)) ?? '', /^[0-9a-f]{64}$/, `patient ${p.pid} has a digest`);
    for (const p of f.dataset.patients.filter((x) => x.optOut)) assert.equal(recorded.get(String(p.pid)) ?? null, null, `opted-out patient ${p.pid} has none`);
  });

  test('unchanged versions settle a patient without comparing source hashes', async () => {
    // A destination hash that no longer matches its source row: only a comparison by hash notices.
    await execute(f.destination.url, `UPDATE note SET _src_hash = 'stale' WHERE note_id = :id`, { id: noteId });
    const summary = await run(true);
    assert.equal(summary.rowsWritten, 0);
    assert.equal(summary.rowsUnchanged, summary.rowsRead);
    assert.equal((await destNote(noteId))!._src_hash, 'stale', 'the row was not compared by hash');
  });

  test('a new version with the same contents is compared by hash, and its new digest recorded', async () => {
    const before = await versions();
    await execute(f.source.url, 'UPDATE note SET note_text = note_text WHERE note_id = :id', { id: noteId });
    const summary = await run(true);
    // The stale destination hash now shows: the row is written again, with its true hash.
    assert.equal(summary.rowsWritten, 1);
    const written = await destNote(noteId);
    assert.match(written!._src_hash, /^[0-9a-f]{64}$/);
    const after = await versions();
    assert.notEqual(after.get(String(owner)), before.get(String(owner)), "the patient's digest follows the new version");
    for (const [pid, version] of before) if (pid !== String(owner)) assert.equal(after.get(pid), version, `patient ${pid}'s digest stays`);

    // The same again on an intact row: nothing is written, only the digest changes.
    const other = (await query<{ note_id: number }>(f.source.url, 'SELECT note_id FROM note WHERE patient_id = :pid AND note_id <> :id ORDER BY note_id LIMIT 1', { pid: owner, id: noteId }))[0]!.note_id;
    await execute(f.source.url, 'UPDATE note SET note_date = note_date WHERE note_id = :id', { id: other });
    const again = await run(true);
    assert.equal(again.rowsWritten, 0);
    const latest = await versions();
    assert.notEqual(latest.get(String(owner)), after.get(String(owner)));
    assert.equal((await run(true)).rowsWritten, 0);
    assert.equal((await versions()).get(String(owner)), latest.get(String(owner)), 'a further run finds the recorded digest');
  });

  test('an edited row is rewritten; a destination row removed by hand is restored', async () => {
    await execute(f.source.url, 'UPDATE note SET note_text = :t WHERE note_id = :id', { id: noteId, t: 'Reviewed today; nothing new.' });
    const edited = await run(true);
    assert.equal(edited.rowsWritten, 1);
    assert.equal((await destNote(noteId))!.note_text, 'Reviewed today; nothing new.');
    await execute(f.destination.url, 'DELETE FROM note WHERE note_id = :id', { id: noteId });
    const restored = await run(true);
    assert.equal(restored.rowsWritten, 1);
    assert.equal((await destNote(noteId))!.note_text, 'Reviewed today; nothing new.');
    const rows = await query<{ rid: string }>(f.destination.url, 'SELECT rid FROM note WHERE note_id = :id', { id: noteId });
    assert.equal(rows[0]!.rid, rid(owner));
  });

  test('a source table that is a view has no versions: its rows are compared by hash', async () => {
    await execute(f.source.url, 'ALTER TABLE note RENAME TO note_data');
    await execute(f.source.url, 'CREATE VIEW note AS SELECT * FROM note_data');
    const settled = await run(true);
    assert.equal(settled.rowsWritten, 0, 'the digests change (the view has no versions), the hashes do not');
    await execute(f.destination.url, `UPDATE note SET _src_hash = 'stale' WHERE note_id = :id`, { id: noteId });
    const compared = await run(true);
    assert.equal(compared.rowsWritten, 1, 'the stale hash is noticed: the view is compared by hash');
    await execute(f.source.url, 'UPDATE note_data SET note_text = :t WHERE note_id = :id', { id: noteId, t: 'Edited through the base table.' });
    assert.equal((await run(true)).rowsWritten, 1);
    assert.equal((await destNote(noteId))!.note_text, 'Edited through the base table.');
  });
});
