// End-to-end runs over the synthetic clinical database on every available database (SQLite,
// and PostgreSQL and MariaDB when reachable): recall on known identifiers, over-scrubbing,
// opt-outs, RID stability across runs and keys, incremental == full (after edits, deletions,
// a changed scrubber and a crash), a no-op incremental run, a changed scrubber redoing exactly
// its patient's rows, and parallel == inline.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { anonDbKinds, anonFixture, connect, type AnonFixture } from './anon-fixture.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';
import { loadAnonConfig } from '../../../plugins/anonymiser-crate/anon-config.js';
import { ThreadPool } from '../../../core/jobs/thread-pool.js';

const rid = (pid: number | string, key = 'patient-key-for-tests'): string => createHmac('sha256', key).update(String(pid)).digest('hex');

type Snapshot = Record<string, Array<Record<string, string>>>;

async function snapshot(url: string): Promise<Snapshot> {
  const db = connect(url);
  try {
    const out: Snapshot = {};
    for (const [table, key] of [['patient', 'rid'], ['relative', 'relative_id'], ['note', 'note_id']] as const) {
      const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`, { type: QueryTypes.SELECT });
      out[table] = rows
        .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString().slice(0, 10) : v === null ? 'NULL' : String(v)])))
        .sort((a, b) => (a[key]! < b[key]! ? -1 : a[key]! > b[key]! ? 1 : 0));
    }
    return out;
  } finally {
    await db.close();
  }
}

function mentioned(text: string, form: string): boolean {
  const escaped = form.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

for (const kind of await anonDbKinds()) {
  describe(`anonymisation runs on ${kind}`, () => {
    let f: AnonFixture;
    let full: Snapshot;
    let fullBytes = 0;
    before(async () => {
      f = await anonFixture(kind);
    });
    after(async () => {
      await f?.cleanup();
    });

    test('a full run scrubs every known identifier from every note (100% recall) and reports over-scrubbing', async (t) => {
      const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      fullBytes = summary.bytesRead;
      const optedOut = f.dataset.patients.filter((p) => p.optOut);
      assert.ok(optedOut.length > 0, 'the fixture has opted-out patients');
      assert.equal(summary.patients, f.dataset.patients.length - optedOut.length);
      assert.equal(summary.patientsOptedOut, optedOut.length);
      full = await snapshot(f.destination.url);
      const byRid = new Map(f.dataset.patients.map((p) => [rid(p.pid), p]));
      let leaks: string[] = [];
      let fillerIn = 0;
      let fillerOut = 0;
      const source = connect(f.source.url);
      const sourceNotes = new Map((await source.query<{ note_id: number; note_text: string }>('SELECT note_id, note_text FROM note', { type: QueryTypes.SELECT })).map((n) => [String(n.note_id), n.note_text]));
      await source.close();
      const filler = new Set(f.dataset.fillerWords);
      const count = (text: string): number => text.split(/\s+/).filter((w) => filler.has(w)).length;
      for (const note of full.note!) {
        const patient = byRid.get(note.rid!);
        assert.ok(patient, `note ${note.note_id} has a research ID of a known patient`);
        const everyone = [patient, ...f.dataset.patients.filter((p) => p !== patient)];
        for (const form of patient.mentions) if (mentioned(note.note_text!, form)) leaks.push(`note ${note.note_id}: ${JSON.stringify(form)}`);
        // No patient's own name may survive anywhere, even in someone else's note.
        for (const p of everyone) for (const w of [p.forename, p.nhsNumber]) if (p === patient && mentioned(note.note_text!, w)) leaks.push(`note ${note.note_id}: ${w}`);
        fillerIn += count(sourceNotes.get(note.note_id!)!);
        fillerOut += count(note.note_text!);
      }
      leaks = [...new Set(leaks)];
      assert.deepEqual(leaks, [], 'identifiers survived scrubbing');
      const overScrubbed = fillerIn - fillerOut;
      t.diagnostic(`over-scrubbing: ${overScrubbed} of ${fillerIn} ordinary words replaced (${((100 * overScrubbed) / fillerIn).toFixed(2)}%)`);
      assert.ok(overScrubbed / fillerIn < 0.01, `at most 1% of ordinary words may be scrubbed, not ${overScrubbed} of ${fillerIn}`);
      // Replacements are there, and third parties are marked as such.
      assert.ok(full.note!.some((n) => n.note_text!.includes('[__PPP__]')));
      assert.ok(full.note!.some((n) => n.note_text!.includes('[__TTT__]')));
      if (kind === 'postgres') {
        // Long columns of a PostgreSQL destination are compressed with lz4 (the server has it).
        const dest = connect(f.destination.url);
        const columns = await dest.query<{ attname: string; attcompression: string }>(
          `SELECT attname, attcompression FROM pg_attribute WHERE attrelid = 'note'::regclass AND attnum > 0 AND NOT attisdropped`, { type: QueryTypes.SELECT });
        await dest.close();
        const compression = Object.fromEntries(columns.map((c) => [c.attname, c.attcompression]));
        assert.equal(compression.note_text, 'l', 'note_text is compressed with lz4');
        assert.equal(compression.trid, '', 'an integer column has no compression method');
      }
    });

    test('omitted fields are absent, IDs are keyed hashes, dates truncated, opt-outs excluded', async () => {
      const patientRows = full.patient!;
      assert.deepEqual(Object.keys(patientRows[0]!).sort(), ['_src_hash', 'dob', 'mrid', 'nhs_mrid', 'rid', 'trid'].sort());
      const included = f.dataset.patients.filter((p) => !p.optOut);
      assert.deepEqual(patientRows.map((r) => r.rid).sort(), included.map((p) => rid(p.pid)).sort());
      for (const p of included) {
        const row = patientRows.find((r) => r.rid === rid(p.pid))!;
        assert.equal(row.nhs_mrid, createHmac('sha256', 'master-key-for-tests').update(p.nhsNumber).digest('hex'));
        assert.equal(row.mrid, row.nhs_mrid);
        assert.equal(row.dob, `${p.dob.slice(0, 7)}-01`);
      }
      const optedRids = new Set(f.dataset.patients.filter((p) => p.optOut).map((p) => rid(p.pid)));
      for (const table of ['patient', 'relative', 'note']) assert.ok(!full[table]!.some((r) => optedRids.has(r.rid!)), `no opted-out patient in ${table}`);
      const trids = new Set(patientRows.map((r) => r.trid));
      assert.equal(trids.size, patientRows.length, 'TRIDs are unique');
    });

    test('RIDs and TRIDs are stable across runs; another key gives other RIDs', async () => {
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      const again = await snapshot(f.destination.url);
      assert.deepEqual(again, full);
      f.writeConfig('', { patient: 'another-patient-key' });
      try {
        await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
        const other = await snapshot(f.destination.url);
        const rids = other.patient!.map((r) => r.rid).sort();
        assert.deepEqual(rids, f.dataset.patients.filter((p) => !p.optOut).map((p) => rid(p.pid, 'another-patient-key')).sort());
        assert.ok(!rids.some((r) => full.patient!.some((p) => p.rid === r)));
      } finally {
        f.writeConfig();
        await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      }
    });

    test('an incremental run with nothing to do writes nothing and changes nothing', async () => {
      const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(summary.rowsWritten, 0);
      assert.equal(summary.rowsDeleted, 0);
      assert.equal(summary.rowsUnchanged, summary.rowsRead);
      if (kind !== 'sqlite') assert.ok(summary.bytesRead < fullBytes / 2, `the database digests long text instead of sending it (${summary.bytesRead} of ${fullBytes} bytes read)`);
      assert.deepEqual(await snapshot(f.destination.url), full);
    });

    test('after edits, deletions, insertions, a changed identifier and a new opt-out, incremental == full', async () => {
      const src = connect(f.source.url);
      const [p1, p2, p3] = f.dataset.patients.filter((p) => !p.optOut);
      try {
        await src.query(`UPDATE note SET note_text = :t WHERE note_id = (SELECT MIN(note_id) FROM note)`, { replacements: { t: 'Edited note about ordinary things.' } });
        await src.query(`DELETE FROM note WHERE note_id = (SELECT m FROM (SELECT MAX(note_id) AS m FROM note) AS x)`);
        await src.query(`INSERT INTO note (note_id, patient_id, note_date, note_text) VALUES (99999, :pid, '2020-02-02', :t)`, { replacements: { pid: p1!.pid, t: `New note: ${p1!.forename} met Quillfeather.` } });
        // A new surname: the patient's scrubber changes, so all their rows are redone.
        await src.query(`UPDATE patient SET surname = 'Quillfeather' WHERE patient_id = :pid`, { replacements: { pid: p2!.pid } });
        await src.query(`UPDATE note SET note_text = :t WHERE patient_id = :pid`, { replacements: { pid: p2!.pid, t: 'Seen: Mrs Quillfeather, doing well.' } });
        await src.query(`UPDATE patient SET opt_out = 'Y' WHERE patient_id = :pid`, { replacements: { pid: p3!.pid } });
      } finally {
        await src.close();
      }
      const inc = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.ok(inc.rowsDeleted >= 2, `the deleted note and the opted-out patient's rows go (deleted ${inc.rowsDeleted})`);
      assert.ok(inc.rowsWritten >= 3);
      const incremental = await snapshot(f.destination.url);
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      full = await snapshot(f.destination.url);
      assert.deepEqual(incremental, full);
      assert.ok(!full.note!.some((n) => n.note_text!.includes('Quillfeather')), 'the new surname is scrubbed');
      assert.ok(!full.patient!.some((r) => r.rid === rid(p3!.pid)), 'the new opt-out is excluded');
    });

    test('a changed scrubber redoes every row of that patient and no other row, on pool threads too', async () => {
      // A patient no other patient names as a relative: only their own scrubber changes.
      const referenced = new Set(f.dataset.patients.flatMap((p) => p.relatives.map((r) => r.relatedPatientId)));
      const patient = f.dataset.patients.filter((p) => !p.optOut).slice(3).find((p) => !referenced.has(p.pid) && full.note!.filter((n) => n.rid === rid(p.pid)).length >= 2)!;
      assert.ok(patient, 'the fixture has a patient nobody else names');
      const notes = full.note!.filter((n) => n.rid === rid(patient.pid));
      // An ordinary word of their notes, not scrubbed so far, becomes their alias.
      const word = notes.flatMap((n) => n.note_text!.match(/\p{L}{6,}/gu) ?? []).find((w) => !w.includes('PPP') && !w.includes('TTT'))!;
      assert.ok(word, 'the notes have an ordinary word');
      const ownRows = ['patient', 'relative', 'note'].reduce((n, table) => n + full[table]!.filter((r) => r.rid === rid(patient.pid)).length, 0);
      const src = connect(f.source.url);
      try {
        await src.query('UPDATE patient SET alias = :word WHERE patient_id = :pid', { replacements: { word, pid: patient.pid } });
      } finally {
        await src.close();
      }
      const pool = new ThreadPool({ size: 2, memoryLimitMb: 256 });
      const inc = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true, workers: 2, pool }).finally(() => pool.shutdown());
      assert.ok(pool.stats.succeeded >= 1, 'the patient was redone on a pool thread');
      assert.equal(inc.rowsWritten, ownRows, 'exactly the rows of that patient are written');
      assert.equal(inc.rowsUnchanged, inc.rowsRead - ownRows - inc.rowsSkipped, 'every other row is found unchanged');
      assert.equal(inc.rowsDeleted, 0);
      const incremental = await snapshot(f.destination.url);
      for (const table of ['patient', 'relative', 'note']) {
        assert.deepEqual(incremental[table]!.filter((r) => r.rid !== rid(patient.pid)), full[table]!.filter((r) => r.rid !== rid(patient.pid)), `other patients' ${table} rows are as they were`);
      }
      const redone = incremental.note!.filter((n) => n.rid === rid(patient.pid));
      assert.ok(redone.every((n) => !mentioned(n.note_text!, word)), 'the new identifier is scrubbed from every note of the patient, changed or not');
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      full = await snapshot(f.destination.url);
      assert.deepEqual(incremental, full);
    });

    test('the same identifier values from other rows leave the scrubber digest alone: only those rows are rewritten', async () => {
      // Two relatives of one patient swap names: the patient's third-party values are the same
      // set, read in another order from other rows, so only the two relative rows change.
      const patient = f.dataset.patients.filter((p) => !p.optOut).find((p) => p.relatives.length >= 2 && p.relatives[0]!.forename !== p.relatives[1]!.forename && p.relatives[0]!.surname !== p.relatives[1]!.surname);
      assert.ok(patient, 'the fixture has a patient with two differently named relatives');
      const src = connect(f.source.url);
      try {
        const rows = await src.query<{ relative_id: number; forename: string; surname: string }>('SELECT relative_id, forename, surname FROM relative WHERE patient_id = :pid ORDER BY relative_id', { type: QueryTypes.SELECT, replacements: { pid: patient.pid } });
        assert.ok(rows.length >= 2);
        const [a, b] = rows as [typeof rows[0], typeof rows[0]];
        for (const [target, from] of [[a, b], [b, a]] as const) {
          await src.query('UPDATE relative SET forename = :forename, surname = :surname WHERE relative_id = :id', { replacements: { forename: from.forename, surname: from.surname, id: target.relative_id } });
        }
      } finally {
        await src.close();
      }
      const inc = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(inc.rowsWritten, 2, 'only the two relative rows are rewritten; the patient is not redone');
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      full = await snapshot(f.destination.url);
    });

    test('with nothing else changed, a vanished source row is found and its destination row deleted', async () => {
      // No patient has anything to do, so the survey's count of rows found decides that a table
      // needs its keys compared: one row fewer in the source must still be noticed.
      const src = connect(f.source.url);
      try {
        await src.query('DELETE FROM note WHERE note_id = (SELECT m FROM (SELECT MIN(note_id) AS m FROM note) AS x)');
      } finally {
        await src.close();
      }
      const inc = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(inc.rowsWritten, 0);
      assert.equal(inc.rowsDeleted, 1);
      const incremental = await snapshot(f.destination.url);
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
      full = await snapshot(f.destination.url);
      assert.deepEqual(incremental, full);
      const again = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.equal(again.rowsWritten + again.rowsDeleted, 0, 'then nothing is left to do');
    });

    test('a run interrupted after its first batch is finished by an incremental run', async () => {
      const controller = new AbortController();
      await assert.rejects(
        runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false, signal: controller.signal, onProgress: (p) => p.patientsDone > 0 && controller.abort(new Error('simulated crash')) }),
        /simulated crash/,
      );
      const partial = await snapshot(f.destination.url);
      assert.ok(partial.note!.length < full.note!.length, 'the crash left the destination incomplete');
      await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
      assert.deepEqual(await snapshot(f.destination.url), full);
    });

    test('two pool threads give the same output as one inline run', async () => {
      const pool = new ThreadPool({ size: 2, memoryLimitMb: 256 });
      try {
        const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false, workers: 2, pool });
        assert.equal(summary.workers, 2);
        assert.ok(pool.stats.succeeded >= 2, `batches ran on pool threads (${pool.stats.succeeded})`);
      } finally {
        await pool.shutdown();
      }
      assert.deepEqual(await snapshot(f.destination.url), full);
    });

    test('with more than a batch per worker, the first batch runs on the main thread beside the pool, with the same output', async () => {
      // Batches of 3, one worker: the first batch here, the others in one task on a thread.
      const config = { ...loadAnonConfig(f.configFile, f.env), batchPatients: 3 };
      const pool = new ThreadPool({ size: 1, memoryLimitMb: 256 });
      const progress: number[] = [];
      try {
        const summary = await runAnonymisation({ config, incremental: false, workers: 1, pool, onProgress: (p) => progress.push(p.patientsDone) });
        assert.ok(summary.patients >= 6, `enough patients for a batch here and one on the pool (${summary.patients})`);
        assert.equal(pool.stats.succeeded, 1, 'one task ran on the pool');
        // Two pieces finished apart, whichever first: the batch of 3 here, the rest on the thread.
        assert.ok(progress.includes(3) || progress.includes(summary.patients - 3), `the first batch of 3 was done on its own (${progress.join(', ')})`);
      } finally {
        await pool.shutdown();
      }
      assert.deepEqual(await snapshot(f.destination.url), full);
    });
  });
}
