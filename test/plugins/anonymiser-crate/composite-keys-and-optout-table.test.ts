// Composite primary keys (several K fields: row identity, key-range tasks, incremental
// hashing and deletion, the destination's primary key) and opt-outs listed in a source table,
// on every available database: no identifier survives, incremental == full, and a patient who
// opts out through the table loses every row at the next incremental run.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { anonDbKinds, anonFixture, connect, type AnonFixture } from './anon-fixture.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';
import { ThreadPool } from '../../../core/jobs/thread-pool.js';

const rid = (pid: number | string): string => createHmac('sha256', 'patient-key-for-tests').update(String(pid)).digest('hex');
const TABLES = ['patient', 'relative', 'note', 'lab_result', 'code_map'];
const CODES = 31;

type Snapshot = Record<string, string[]>;

/** Every destination table as sorted JSON lines of stringified values. */
async function snapshot(url: string): Promise<Snapshot> {
  const db = connect(url);
  try {
    const out: Snapshot = {};
    for (const table of TABLES) {
      const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`, { type: QueryTypes.SELECT });
      out[table] = rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v instanceof Date ? v.toISOString().slice(0, 10) : v === null ? null : String(v)])))).sort();
    }
    return out;
  } finally {
    await db.close();
  }
}

const ddRow = (cells: string[]): string => `main\t${cells.join('\t')}\t\n`;

for (const kind of await anonDbKinds()) {
  describe(`composite keys and an opt-out table on ${kind}`, () => {
    let f: AnonFixture;
    let optedByTable: number[] = [];
    before(async () => {
      f = await anonFixture(kind);
      const src = connect(f.source.url);
      try {
        await src.query('CREATE TABLE lab_result (patient_id INTEGER NOT NULL, test_code VARCHAR(20) NOT NULL, seq INTEGER NOT NULL, result_text TEXT, PRIMARY KEY (patient_id, test_code, seq))');
        await src.query('CREATE TABLE code_map (code_system VARCHAR(10) NOT NULL, code VARCHAR(10) NOT NULL, label VARCHAR(100), PRIMARY KEY (code_system, code))');
        await src.query('CREATE TABLE optout_registry (registered_pid INTEGER, registered_nhs VARCHAR(20))');
        for (const p of f.dataset.patients) {
          for (const [code, seq] of [['HB', 1], ['HB', 2], ['NA', 1]] as const) {
            await src.query('INSERT INTO lab_result (patient_id, test_code, seq, result_text) VALUES (:pid, :code, :seq, :text)', { replacements: { pid: p.pid, code, seq, text: `Result for ${p.forename} ${p.surname} (NHS ${p.nhsNumber}): within normal limits.` } });
          }
        }
        // Keys chosen so that ranges split inside one code_system: both fields decide the order.
        for (let i = 0; i < CODES; i++) await src.query('INSERT INTO code_map (code_system, code, label) VALUES (:s, :c, :l)', { replacements: { s: ['ICD10', 'SNOMED', 'READ'][i % 3], c: `C${String(i).padStart(3, '0')}`, l: `label ${i}` } });
        const candidates = f.dataset.patients.filter((p) => !p.optOut);
        // One patient listed by patient ID, another by NHS number (the master ID).
        await src.query('INSERT INTO optout_registry (registered_pid, registered_nhs) VALUES (:pid, NULL), (NULL, :nhs)', { replacements: { pid: candidates[0]!.pid, nhs: candidates[1]!.nhsNumber } });
        optedByTable = [candidates[0]!.pid, candidates[1]!.pid];
      } finally {
        await src.close();
      }
      appendFileSync(join(f.dir, 'dd.tsv'), [
        ddRow(['lab_result', 'patient_id', 'INTEGER', 'KP', '', '', 'include', '', '', '', '', 'rid', '', 'I', '']),
        ddRow(['lab_result', 'test_code', 'VARCHAR(20)', 'KH', '', '', 'include', '', '', '', '', '', '', '', '']),
        ddRow(['lab_result', 'seq', 'INTEGER', 'K', '', '', 'include', '', '', '', '', '', '', '', '']),
        ddRow(['lab_result', 'result_text', 'TEXT', '', '', '', 'include', '', '', 'scrub', '', '', '', '', '']),
        ddRow(['code_map', 'code_system', 'VARCHAR(10)', 'KH', '', '', 'include', '', '', '', '', '', '', '', '']),
        ddRow(['code_map', 'code', 'VARCHAR(10)', 'K', '', '', 'include', '', '', '', '', '', '', '', '']),
        ddRow(['code_map', 'label', 'VARCHAR(100)', '', '', '', 'include', '', '', '', '', '', '', '', '']),
      ].join(''));
      f.writeConfig('rows_per_table_task = 4\noptout_table = optout_registry\noptout_table_pid_column = registered_pid\noptout_table_mpid_column = registered_nhs');
    });
    after(async () => {
      await f?.cleanup();
    });

    let full: Snapshot;
    test('a full run copies composite-keyed tables whole, scrubbed, and leaves out patients in the opt-out table', async () => {
      const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      const byColumn = f.dataset.patients.filter((p) => p.optOut).length;
      assert.equal(summary.patientsOptedOut, byColumn + 2, 'the ! column and the opt-out table both count');
      full = await snapshot(f.destination.url);
      const included = f.dataset.patients.filter((p) => !p.optOut && !optedByTable.includes(p.pid));
      assert.equal(full.lab_result!.length, included.length * 3);
      assert.equal(full.code_map!.length, CODES, 'every code, once, across the key ranges');
      assert.equal(new Set(full.code_map).size, CODES);
      const gone = new Set(f.dataset.patients.filter((p) => !included.includes(p)).map((p) => rid(p.pid)));
      for (const table of ['patient', 'relative', 'note', 'lab_result']) {
        for (const line of full[table]!) assert.ok(!gone.has((JSON.parse(line) as { rid: string }).rid), `no opted-out patient in ${table}`);
      }
      assert.deepEqual(new Set(full.patient!.map((l) => (JSON.parse(l) as { rid: string }).rid)), new Set(included.map((p) => rid(p.pid))));
      for (const line of full.lab_result!) {
        const row = JSON.parse(line) as Record<string, string>;
        const p = included.find((x) => rid(x.pid) === row.rid)!;
        for (const identifier of [p.forename, p.surname, p.nhsNumber]) assert.ok(!row.result_text!.includes(identifier), 'no identifier survives in lab results');
        assert.match(row.result_text!, /\[__PPP__\]/);
      }
      // The destination's primary key is the composite key.
      const dest = connect(f.destination.url);
      try {
        const [one] = await dest.query<Record<string, unknown>>('SELECT * FROM code_map', { type: QueryTypes.SELECT });
        await assert.rejects(dest.query('INSERT INTO code_map (code_system, code, label, _src_hash) VALUES (:s, :c, :l, :h)', { replacements: { s: one!.code_system, c: one!.code, l: 'duplicate', h: 'x' } }));
        await dest.query('INSERT INTO code_map (code_system, code, label, _src_hash) VALUES (:s, :c, :l, :h)', { replacements: { s: one!.code_system, c: 'ZZZ', l: 'not in the source', h: 'x' } });
      } finally {
        await dest.close();
      }
    });

    test('incremental runs with composite keys: nothing to do, then edits, deletions and a new opt-out, equal a full run', async () => {
      const first = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(first.rowsDeleted, 1, 'the row the source lacks is deleted by its composite key');
      assert.equal(first.rowsWritten, 0);
      assert.deepEqual(await snapshot(f.destination.url), full);
      const none = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(none.rowsWritten + none.rowsDeleted, 0);
      assert.equal(none.rowsUnchanged, none.rowsRead);

      const [a, b] = f.dataset.patients.filter((p) => !p.optOut && !optedByTable.includes(p.pid));
      const src = connect(f.source.url);
      try {
        await src.query("UPDATE lab_result SET result_text = 'Repeat sample requested.' WHERE patient_id = :pid AND test_code = 'HB' AND seq = 2", { replacements: { pid: a!.pid } });
        await src.query("DELETE FROM lab_result WHERE patient_id = :pid AND test_code = 'NA' AND seq = 1", { replacements: { pid: a!.pid } });
        await src.query("INSERT INTO lab_result (patient_id, test_code, seq, result_text) VALUES (:pid, 'HB', 3, :t)", { replacements: { pid: a!.pid, t: `Third sample for ${a!.surname}.` } });
        await src.query("UPDATE code_map SET label = 'relabelled' WHERE code = 'C005'");
        await src.query("DELETE FROM code_map WHERE code = 'C010'");
        await src.query('INSERT INTO optout_registry (registered_pid, registered_nhs) VALUES (:pid, NULL)', { replacements: { pid: b!.pid } });
      } finally {
        await src.close();
      }
      const inc = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(inc.patientsOptedOut, f.dataset.patients.filter((p) => p.optOut).length + 3);
      // B's patient, relatives, notes and lab results; A's deleted result; the deleted code.
      assert.ok(inc.rowsDeleted >= 1 + 3 + 1 + 1, `deleted ${inc.rowsDeleted}`);
      assert.equal(inc.rowsWritten, 3, 'the changed result, the new result and the relabelled code');
      const incremental = await snapshot(f.destination.url);
      assert.ok(!incremental.lab_result!.some((l) => (JSON.parse(l) as { rid: string }).rid === rid(b!.pid)), 'the newly opted-out patient has no rows left');
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      assert.deepEqual(incremental, await snapshot(f.destination.url));
      assert.ok(!incremental.lab_result!.some((l) => l.includes(a!.surname)));
    });

    test('key ranges of a composite key on two pool threads give the same output', async () => {
      const before = await snapshot(f.destination.url);
      const pool = new ThreadPool({ size: 2, memoryLimitMb: 256 });
      try {
        await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false, workers: 2, pool });
        assert.ok(pool.stats.succeeded >= 2 + Math.ceil(CODES / 4));
      } finally {
        await pool.shutdown();
      }
      assert.deepEqual(await snapshot(f.destination.url), before);
    });
  });
}
