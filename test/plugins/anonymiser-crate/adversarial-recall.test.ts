// The adversarial corpus (scripts/adversarial-corpus.ts) through a whole run on each database:
// every identifier planted, in every variant class, must be gone from the destination, as
// judged by scripts/leak-checker.ts, which knows what was planted and uses none of the
// scrubber's code. Ordinary words used as decoys (some of them other people's names, or this
// patient's street) must survive. Recall per class and decoys kept are reported.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { anonDbKinds, connect, scratchDb, type ScratchDb } from './anon-fixture.js';
import { adversarialCorpus, adversarialDataDictionary, writeAdversarialDb } from '../../../scripts/adversarial-corpus.js';
import { checkNote, emptyLeakReport, formatLeakReport, totals } from '../../../scripts/leak-checker.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';

for (const kind of await anonDbKinds()) {
  describe(`the adversarial corpus on ${kind}`, () => {
    const corpus = adversarialCorpus({ patients: 16, mentionsPerPatient: 90, bytesPerPatient: 12_000, notesPerPatient: 4, seed: 21 });
    let dir: string;
    const dbs: ScratchDb[] = [];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'anon-adversarial-'));
      const [source, destination, secret] = [await scratchDb(kind, dir, 'src'), await scratchDb(kind, dir, 'dst'), await scratchDb(kind, dir, 'secret')];
      dbs.push(source!, destination!, secret!);
      const sequelize = connect(source!.url);
      try {
        await writeAdversarialDb(sequelize, corpus);
      } finally {
        await sequelize.close();
      }
      writeFileSync(join(dir, 'dd.tsv'), adversarialDataDictionary());
      for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, `${k}.key`), `${k}-key-for-adversarial-tests`);
      writeFileSync(join(dir, 'anon.ini'), ['[anonymise]', 'data_dictionary = dd.tsv', 'destination_url_env = ADV_DST', 'secret_map_url_env = ADV_SECRET',
        'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', 'batch_patients = 5', '[source:main]', 'url_env = ADV_SRC'].join('\n'));
    });
    after(async () => {
      for (const db of dbs) await db.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('no planted identifier survives, in any variant class, and ordinary words do', async (t) => {
      const [source, destination, secret] = dbs;
      await runAnonymisation({ configFile: join(dir, 'anon.ini'), env: { ADV_SRC: source!.url, ADV_DST: destination!.url, ADV_SECRET: secret!.url }, incremental: false });
      const db = connect(destination!.url);
      const written = new Map<string, string>();
      try {
        for (const table of ['note', 'progress']) {
          const rows = await db.query<{ note_id: number; note_text: string }>(`SELECT note_id, note_text FROM ${table}`, { type: QueryTypes.SELECT });
          for (const r of rows) written.set(`${table}:${r.note_id}`, r.note_text);
        }
      } finally {
        await db.close();
      }
      const report = emptyLeakReport();
      let notes = 0;
      for (const note of corpus.notes()) {
        const output = written.get(`${note.table}:${note.id}`);
        assert.ok(output !== undefined, `${note.table} ${note.id} was written`);
        checkNote(note, output, report);
        notes += 1;
      }
      t.diagnostic(`${notes} notes\n${formatLeakReport(report)}`);
      const all = totals(report);
      assert.ok(all.planted >= corpus.patients.length * 80, `at least 80 mentions per patient were planted (${all.planted})`);
      for (const [variant, counts] of Object.entries(report.byClass)) assert.ok(counts.planted > 0, `the corpus plants "${variant}"`);
      assert.equal(all.leaked, 0, `leaks:\n${report.examples.map((e) => `${e.variant}: ${JSON.stringify(e.planted)} -> ${JSON.stringify(e.output)}`).join('\n')}`);
      assert.equal(report.decoys.kept, report.decoys.planted, 'every decoy word is kept');
    });
  });
}
