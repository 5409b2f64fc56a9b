// Datasets as source and destination: the synthetic clinical tables as CSV, a JSON array and
// JSON lines resources of one dataset, anonymised into CSV resources of another through core's
// dataset service, depot and resource intake (a real host, an in-memory depot). No identifier
// survives, incremental == full, and a malformed file is refused by line with nothing written.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHmac } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import { anonDbKinds, anonFixture, connect, type AnonFixture } from './anon-fixture.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';
import { ActionRunnerId, OrganizationServiceId, ResourceIntakeId } from '../../../core/services/service-ids.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';
import { datasetFilesOf } from '../../../plugins/anonymiser-crate/dataset-staging.js';
import { formatCsv, formatJsonTable, parseCsv } from '../../../plugins/anonymiser-crate/tabular-resource.js';

const rid = (pid: number | string): string => createHmac('sha256', 'patient-key-for-tests').update(String(pid)).digest('hex');
const actor = { kind: 'system' as const, name: 'test' };

function mentioned(text: string, form: string): boolean {
  const escaped = form.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replace(/\s+/g, '\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu').test(text);
}

/** A value as a CSV or JSON file would hold it (dates as YYYY-MM-DD). */
const fileValue = (v: unknown): unknown => (v instanceof Date ? v.toISOString().slice(0, 10) : v);

for (const kind of await anonDbKinds()) {
  describe(`dataset resources as source and destination (secret map on ${kind})`, () => {
    let f: AnonFixture;
    let t: TestHost;
    let notes: Array<Record<string, unknown>>;
    const upload = async (dataset: string, name: string, text: string): Promise<void> => {
      const services = t.host.services;
      const created = (await services.get(ActionRunnerId).run('resource_create', { package_id: dataset, name }, { actor })) as { id: string };
      const bytes = Buffer.from(text);
      await services.get(ResourceIntakeId).storeStream(created.id, Readable.from([bytes]), { size: bytes.length }, { actor, protocol: 'test' });
    };
    const output = async (name: string): Promise<string> => (await datasetFilesOf(t.host.services).read('clinical-out', name))!.bytes.toString('utf8');
    const config = (resources: string): string => {
      const file = join(f.dir, `anon-${resources.replace(/\W+/g, '-')}.ini`);
      writeFileSync(file, [
        '[anonymise]', 'data_dictionary = dd.tsv', 'destination_dataset = clinical-out', 'secret_map_url_env = ANON_TEST_SECRET_URL',
        'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', 'batch_patients = 5', 'commit_rows = 7',
        '[source:main]', 'dataset = clinical-src', `resources = ${resources}`,
      ].join('\n'));
      return file;
    };

    before(async () => {
      f = await anonFixture(kind);
      t = await startTestHost(kind === 'postgres' ? 'postgres' : 'sqlite', { plugins: [memoryDepotPlugin(new MemoryDepot())] });
      const org = await t.host.services.get(OrganizationServiceId).create({ name: 'clinic' });
      for (const name of ['clinical-src', 'clinical-out']) await t.host.services.get(ActionRunnerId).run('package_create', { name, owner_org: org.id }, { actor });
      const src = connect(f.source.url);
      try {
        const read = async (table: string, key: string): Promise<Array<Record<string, unknown>>> =>
          (await src.query<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY ${key}`, { type: QueryTypes.SELECT })).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fileValue(v)])));
        const patients = await read('patient', 'patient_id');
        const relatives = await read('relative', 'relative_id');
        notes = await read('note', 'note_id');
        assert.ok(notes.some((n) => /\n/.test(String(n.note_text))), 'some notes have line breaks (quoted CSV fields across lines)');
        await upload('clinical-src', 'patient.csv', formatCsv(Object.keys(patients[0]!), patients));
        await upload('clinical-src', 'relative.json', formatJsonTable(Object.keys(relatives[0]!), relatives));
        await upload('clinical-src', 'note.jsonl', notes.map((n) => JSON.stringify(n)).join('\n'));
      } finally {
        await src.close();
      }
    });
    after(async () => {
      await t?.close();
      await f?.cleanup();
    });

    let fullNotes = '';
    test('a run reads CSV, JSON and JSON lines resources and writes CSV resources with no identifier left', async () => {
      const summary = await runAnonymisation({ configFile: config('patient.csv relative.json note.jsonl'), env: f.env, incremental: false, services: t.host.services });
      assert.deepEqual(summary.resourcesWritten, ['patient.csv', 'relative.csv', 'note.csv']);
      const included = f.dataset.patients.filter((p) => !p.optOut);
      assert.equal(summary.patients, included.length);
      fullNotes = await output('note.csv');
      const table = parseCsv(fullNotes);
      assert.deepEqual(table.columns, ['note_id', 'rid', 'note_date', 'note_text', 'trid', 'mrid', '_src_hash']);
      assert.equal(table.rows.length, notes.filter((n) => included.some((p) => p.pid === Number(n.patient_id))).length);
      const leaks: string[] = [];
      for (const row of table.rows) {
        const patient = included.find((p) => rid(p.pid) === row.values[1]);
        assert.ok(patient, 'every note has the research ID of an included patient');
        for (const form of patient.mentions) if (mentioned(String(row.values[3]), form)) leaks.push(`note ${String(row.values[0])}`);
      }
      assert.deepEqual(leaks, [], 'identifiers survived scrubbing');
      const patients = parseCsv(await output('patient.csv'));
      assert.deepEqual(new Set(patients.rows.map((r) => r.values[patients.columns.indexOf('rid')])), new Set(included.map((p) => rid(p.pid))));
      for (const p of f.dataset.patients) assert.ok(!(await output('patient.csv')).includes(p.nhsNumber), 'no NHS number in the output');
    });

    test('an incremental run after a changed source resource equals a full run', async () => {
      const noop = await runAnonymisation({ configFile: config('patient.csv relative.json note.jsonl'), env: f.env, incremental: true, services: t.host.services });
      assert.equal(noop.rowsWritten + noop.rowsDeleted, 0);
      assert.equal(await output('note.csv'), fullNotes);
      const edited = notes.slice(1).map((n, i) => (i === 0 ? { ...n, note_text: 'Reviewed; no change.' } : n));
      await upload('clinical-src', 'note-v2.jsonl', edited.map((n) => JSON.stringify(n)).join('\n'));
      const cfg = config('patient.csv relative.json note=note-v2.jsonl');
      const inc = await runAnonymisation({ configFile: cfg, env: f.env, incremental: true, services: t.host.services });
      assert.ok(inc.rowsDeleted >= (f.dataset.patients.find((p) => p.pid === Number(notes[0]!.patient_id))!.optOut ? 0 : 1));
      const incremental = await output('note.csv');
      assert.notEqual(incremental, fullNotes);
      await runAnonymisation({ configFile: cfg, env: f.env, incremental: false, services: t.host.services });
      assert.equal(incremental, await output('note.csv'));
    });

    test('a malformed CSV is refused with its line numbers, naming no identifier, and nothing is written', async () => {
      const before = await output('note.csv');
      const victim = f.dataset.patients[0]!;
      await upload('clinical-src', 'bad.csv', [
        'note_id,patient_id,note_date,note_text',
        `1,${victim.pid},2020-01-01,"Seen ${victim.forename}, well"`,
        `2,${victim.pid},2020-01-02,"${victim.surname} said ""fine""",extra`,
        `x3,${victim.pid},2020-01-03,ordinary`,
        `4,${victim.pid},2020-01-04,"never closed ${victim.forename}`,
        'more text',
      ].join('\r\n'));
      await assert.rejects(
        runAnonymisation({ configFile: config('patient.csv relative.json note=bad.csv'), env: f.env, incremental: false, services: t.host.services }),
        (error: Error) => {
          assert.match(error.message, /resource "bad\.csv": line 5: a quoted field/);
          assert.ok(!error.message.includes(victim.forename) && !error.message.includes(victim.surname), error.message);
          return true;
        },
      );
      await upload('clinical-src', 'bad2.csv', ['note_id,patient_id,note_date,note_text', `1,${victim.pid},2020-01-01,fine`, `2,${victim.pid},2020-01-02,"${victim.surname}",extra`, `x3,${victim.pid},2020-01-03,ordinary`, `1,${victim.pid},2020-01-04,again`].join('\n'));
      await assert.rejects(
        runAnonymisation({ configFile: config('patient.csv relative.json note=bad2.csv'), env: f.env, incremental: false, services: t.host.services }),
        (error: Error) => {
          assert.match(error.message, /line 3: 5 field\(s\), but the header names 4/);
          assert.ok(!error.message.includes(victim.surname));
          return true;
        },
      );
      await upload('clinical-src', 'bad3.json', `[\n{"note_id": 1, "patient_id": ${victim.pid}, "note_date": "2020-01-01", "note_text": "a"},\n{"note_id": "x3", "patient_id": ${victim.pid}, "note_date": "2020-01-01", "note_text": "b"},\n{"note_id": 1, "patient_id": ${victim.pid}, "note_date": "2020-01-01", "note_text": "c"}\n]`);
      await assert.rejects(
        runAnonymisation({ configFile: config('patient.csv relative.json note=bad3.json'), env: f.env, incremental: false, services: t.host.services }),
        (error: Error) => {
          assert.match(error.message, /line 3: column note_id is not a whole number/);
          assert.match(error.message, /line 4: the same primary key as line 2/);
          return true;
        },
      );
      await upload('clinical-src', 'bad4.json', `[\n{"note_id": 1},\n{"note_id": 2,, "x": 1}\n]`);
      await assert.rejects(runAnonymisation({ configFile: config('patient.csv relative.json note=bad4.json'), env: f.env, incremental: false, services: t.host.services }), /line 3, column 15: not valid JSON/);
      assert.equal(await output('note.csv'), before, 'the destination resources are untouched');
    });
  });
}
