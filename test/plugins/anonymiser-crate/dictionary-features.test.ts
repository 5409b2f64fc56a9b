// Dictionary features end to end on SQLite: a table without patients copied by key ranges and
// scrubbed non-specifically, inclusion and exclusion values, hash= sections, a required
// scrubber (R) that skips a patient, and add-only (A) tables that incremental runs never prune.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { anonFixture, connect, type AnonFixture } from './anon-fixture.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';

let f: AnonFixture;
const ridOf = (pid: number): string => createHmac('sha256', 'patient-key-for-tests').update(String(pid)).digest('hex');

before(async () => {
  f = await anonFixture('sqlite', { patients: 6, notesPerPatient: 2, optOutEvery: 0 });
  const src = connect(f.source.url);
  await src.query('CREATE TABLE ward (ward_id INTEGER PRIMARY KEY, name TEXT, kind TEXT, notice TEXT)');
  await src.query('CREATE TABLE audit_log (log_id INTEGER PRIMARY KEY, entry TEXT)');
  for (let i = 1; i <= 7; i++) {
    await src.query('INSERT INTO ward VALUES (?, ?, ?, ?)', { replacements: [i, `Ward ${i}`, i % 3 === 0 ? 'closed' : 'open', `Call 01223 456789 or ward${i}@example.org, opened 03/04/2019`] });
  }
  await src.query("INSERT INTO audit_log VALUES (1, 'first'), (2, 'second')");
  // A patient without a forename: the R flag skips them.
  await src.query('UPDATE patient SET forename = NULL WHERE patient_id = :pid', { replacements: { pid: f.dataset.patients[1]!.pid } });
  await src.close();
  const dd = [
    ['ward', 'ward_id', 'INTEGER', 'KH', '', '', 'include', '', '', '', '', '', '', '', ''],
    ['ward', 'name', 'TEXT', '', '', '', 'include', '', '', 'hash=deid', '', 'name_hash', 'VARCHAR(64)', '', ''],
    ['ward', 'kind', 'TEXT', '', '', '', 'include', '', '["closed"]', '', '', '', '', '', ''],
    ['ward', 'notice', 'TEXT', '', '', '', 'include', '', '', 'scrub', '', '', '', '', ''],
    ['audit_log', 'log_id', 'INTEGER', 'KA', '', '', 'include', '', '', '', '', '', '', '', ''],
    ['audit_log', 'entry', 'TEXT', '', '', '', 'include', '', '', '', '', '', '', '', ''],
  ];
  appendFileSync(join(f.dir, 'dd.tsv'), dd.map((r) => ['main', ...r, ''].join('\t')).join('\n') + '\n');
  writeFileSync(join(f.dir, 'deid.key'), 'ward-hash-key');
  const ini = readFileSync(f.configFile, 'utf8');
  writeFileSync(f.configFile, ini.replace('[source:main]', 'scrub_all_uk_postcodes = true\nscrub_all_email_addresses = true\nscrub_all_numbers_of_n_digits = 6\nscrub_all_dates = true\nblur_dates_format = %B %Y\n[hash:deid]\nkey_file = deid.key\n[source:main]'));
});
after(async () => {
  await f?.cleanup();
});

test('a table without patients is copied with exclusions, hashing and non-specific scrubbing', async () => {
  const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
  assert.equal(summary.patientsSkipped, 1);
  const dst = connect(f.destination.url);
  try {
    const wards = await dst.query<Record<string, unknown>>('SELECT * FROM ward ORDER BY ward_id', { type: QueryTypes.SELECT });
    assert.deepEqual(wards.map((w) => w.ward_id), [1, 2, 4, 5, 7], 'closed wards are excluded');
    assert.equal(wards[0]!.name_hash, createHmac('sha256', 'ward-hash-key').update('Ward 1').digest('hex'));
    assert.equal(wards[0]!.notice, 'Call 01223 [~~~] or [~~~], opened April 2019');
    const rids = (await dst.query<{ rid: string }>('SELECT rid FROM patient', { type: QueryTypes.SELECT })).map((r) => r.rid);
    assert.ok(!rids.includes(ridOf(f.dataset.patients[1]!.pid)), 'the patient without the required scrubber is skipped');
    assert.ok(rids.includes(ridOf(f.dataset.patients[0]!.pid)));
    const skippedNotes = await dst.query('SELECT note_id FROM note WHERE rid = :rid', { type: QueryTypes.SELECT, replacements: { rid: ridOf(f.dataset.patients[1]!.pid) } });
    assert.equal(skippedNotes.length, 0);
  } finally {
    await dst.close();
  }
});

test('incremental runs prune vanished rows, except from add-only (A) tables', async () => {
  const src = connect(f.source.url);
  await src.query('DELETE FROM ward WHERE ward_id = 2');
  await src.query('DELETE FROM audit_log WHERE log_id = 1');
  await src.close();
  const summary = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
  assert.equal(summary.rowsDeleted, 1);
  const dst = connect(f.destination.url);
  try {
    assert.deepEqual((await dst.query<{ ward_id: number }>('SELECT ward_id FROM ward ORDER BY ward_id', { type: QueryTypes.SELECT })).map((w) => w.ward_id), [1, 4, 5, 7]);
    assert.deepEqual((await dst.query<{ log_id: number }>('SELECT log_id FROM audit_log ORDER BY log_id', { type: QueryTypes.SELECT })).map((w) => w.log_id), [1, 2]);
  } finally {
    await dst.close();
  }
});
