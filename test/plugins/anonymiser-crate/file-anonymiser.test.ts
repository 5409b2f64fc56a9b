// The crate anonymiser over single files, as distribution hands them: the Anonymiser contract
// (test/contracts/anonymiser.ts) with plain text, CSV, JSON and JSON lines, and PDF, binary and
// unplaceable files refused; then what is particular to crate: research IDs as a run gives them
// (and recorded in the secret map), opted-out patients left out, the patient's ID never quoted
// in a refusal, and the policy checked whole.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes, Sequelize } from 'sequelize';
import { ValidationError, type FileRecordDestination, type FileRecordSource } from '../../../core/api.js';
import { clinicalDataDictionary, generateClinicalDb, type ClinicalDataset, type SyntheticPatient } from '../../../scripts/generate-clinical-db.js';
import { CrateAnonymiser } from '../../../plugins/anonymiser-crate/crate-anonymiser.js';
import { runAnonymiserContract, type AnonymiserSampleFile } from '../../contracts/anonymiser.js';
import { makePdf } from '../distribution/test-pdf.js';

const PATIENT_KEY = 'file-test-patient-key';

/** A source database of a few patients, a dictionary and an anon.ini whose URLs hold no password. */
async function setUp(): Promise<{ dir: string; config: string; dataset: ClinicalDataset; secretUrl: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'anon-file-'));
  const source = join(dir, 'source.sqlite');
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: source, logging: false });
  let dataset: ClinicalDataset;
  try {
    dataset = await generateClinicalDb(sequelize, { patients: 6, notesPerPatient: 1, noteChars: 100, seed: 3, optOutEvery: 3 });
  } finally {
    await sequelize.close();
  }
  writeFileSync(join(dir, 'dd.tsv'), clinicalDataDictionary());
  writeFileSync(join(dir, 'patient.key'), PATIENT_KEY);
  writeFileSync(join(dir, 'master.key'), 'file-test-master-key');
  writeFileSync(join(dir, 'change.key'), 'file-test-change-key');
  const config = join(dir, 'anon.ini');
  const secretUrl = `sqlite:${join(dir, 'secret.sqlite')}`;
  writeFileSync(config, ['[anonymise]', 'data_dictionary = dd.tsv', `destination_url = sqlite:${join(dir, 'unused.sqlite')}`, `secret_map_url = ${secretUrl}`,
    'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', '[source:main]', `url = sqlite:${source}`].join('\n'));
  return { dir, config, dataset, secretUrl };
}

const identifiers = (p: SyntheticPatient): string[] => [p.forename, p.surname, p.nhsNumber, p.phone, p.email, p.postcode];

/** A letter about `p`, as a clinician writes one. */
const letter = (p: SyntheticPatient): string => {
  const [y, m, d] = p.dob.split('-');
  return `Dear Dr Example,\nRe: ${p.surname.toUpperCase()}, ${p.forename} (DOB ${d}/${m}/${y}; NHS ${p.nhsNumber.slice(0, 3)} ${p.nhsNumber.slice(3, 6)} ${p.nhsNumber.slice(6)})\n` +
    `I saw ${p.forename} today with ${p.relatives[0]!.forename} ${p.relatives[0]!.surname}. ${p.surname}'s number is +44 ${p.phone.slice(1)}; e-mail <${p.email}>.\nLives at ${p.address}, ${p.postcode}.\n`;
};

const world = await setUp();
const live = world.dataset.patients.filter((p) => !p.optOut);
const [a, b] = [live[0]!, live[1]!];
const optedOut = world.dataset.patients.find((p) => p.optOut)!;
const byName = (policy: Record<string, unknown> = {}): Record<string, unknown> => ({ config: world.config, patient_from_name: '^P(?<pid>\\d+)_', ...policy });
const byColumn = (column: string): Record<string, unknown> => ({ config: world.config, patient_column: column });
const text = (s: string): Buffer => Buffer.from(s, 'utf8');

runAnonymiserContract({
  name: 'crate (files)',
  make: async () => ({
    anonymiser: new CrateAnonymiser({ get: () => { throw new Error('file anonymisation needs no core service'); } }),
    accepted: [
      { name: `P${a.pid}_${a.surname}_letter.txt`, mimeType: 'text/plain', content: text(letter(a)), policy: byName(), mustNotContain: [...identifiers(a), a.relatives[0]!.surname] },
      {
        name: 'clinic_list.csv', mimeType: 'text/plain', policy: byColumn('patient_id'), mustNotContain: [...identifiers(a), ...identifiers(b)],
        content: text(`patient_id,seen,comment\r\n${a.pid},2024-01-02,"${a.surname}, ${a.forename} seen; phone ${a.phone}"\r\n${b.pid},2024-01-03,"${b.forename} ${b.surname.toUpperCase()} <${b.email}>"\r\n`),
      },
      {
        name: 'results.json', mimeType: 'text/plain', policy: byColumn('patient'), mustNotContain: [...identifiers(a), ...identifiers(b), a.nhsNumber],
        content: text(JSON.stringify([{ patient: a.pid, nhs: Number(a.nhsNumber), result: { text: `${a.forename} ${a.surname}: normal`, by: 'lab' } }, { patient: String(b.pid), result: { text: `${b.surname} at ${b.postcode}` } }])),
      },
      { name: 'events.jsonl', mimeType: 'text/plain', policy: byColumn('pid'), mustNotContain: [...identifiers(b)], content: text(`{"pid":${b.pid},"note":"${b.forename} called from ${b.phone}"}\n{"pid":${b.pid},"note":"${b.surname}'s letter"}\n`) },
    ],
    refused: [
      { name: `P${a.pid}_report.pdf`, mimeType: 'application/pdf', content: makePdf(['Report', `${a.forename} ${a.surname}`]), policy: byName() },
      { name: `P${a.pid}_scan.png`, mimeType: 'image/png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), policy: byName() },
      { name: 'no_patient_in_name.txt', mimeType: 'text/plain', content: text(letter(a)), policy: byName() },
      { name: 'unknown.csv', mimeType: 'text/plain', content: text('patient_id,comment\n999999,hello\n'), policy: byColumn('patient_id') },
      { name: 'letter.txt', mimeType: 'text/plain', content: text(letter(a)), policy: byColumn('patient_id') },
    ] satisfies AnonymiserSampleFile[],
  }),
});

describe('crate over files: what is particular to it', () => {
  const crate = new CrateAnonymiser({ get: () => { throw new Error('unused'); } });
  let out: string;
  before(() => {
    out = join(world.dir, 'particular');
    mkdirSync(out, { recursive: true });
  });
  after(() => rmSync(world.dir, { recursive: true, force: true }));
  let n = 0;
  const run = async (name: string, content: string, policy: Record<string, unknown>): Promise<{ written: string; result: Awaited<ReturnType<CrateAnonymiser['anonymise']>> }> => {
    const path = join(out, `${++n}-${name}`);
    writeFileSync(path, content);
    const source: FileRecordSource = { kind: 'file', description: name, path, name, mimeType: 'text/plain', size: Buffer.byteLength(content), sha256: createHash('sha256').update(content).digest('hex') };
    const destination: FileRecordDestination = { kind: 'file', description: 'out', path: `${path}.out`, name };
    const result = await crate.anonymise(source, policy, destination);
    return { written: readFileSync(destination.path, 'utf8'), result };
  };
  const rid = (pid: number): string => createHmac('sha256', PATIENT_KEY).update(String(pid)).digest('hex');

  test('the patient column becomes the research ID a run gives, recorded in the secret map', async () => {
    const { written } = await run('list.csv', `patient_id,comment\n${a.pid},${a.surname}\n`, byColumn('patient_id'));
    assert.equal(written, `patient_id,comment\r\n${rid(a.pid)},[__PPP__]\r\n`);
    const secret = new Sequelize({ dialect: 'sqlite', storage: world.secretUrl.slice('sqlite:'.length), logging: false });
    try {
      const rows = await secret.query<{ pid: string; rid: string }>('SELECT pid, rid FROM anon_secret_map', { type: QueryTypes.SELECT });
      assert.ok(rows.some((r) => r.pid === String(a.pid) && r.rid === rid(a.pid)));
    } finally {
      await secret.close();
    }
  });

  test('records of patients who opted out are left out; a text file of one is refused', async () => {
    const { written, result } = await run('mixed.csv', `patient_id,comment\n${optedOut.pid},${optedOut.surname}\n${a.pid},hello\n`, byColumn('patient_id'));
    assert.equal(written, `patient_id,comment\r\n${rid(a.pid)},hello\r\n`);
    assert.deepEqual([result.recordsRead, result.recordsWritten], [2, 1]);
    await assert.rejects(run(`P${optedOut.pid}_x.txt`, 'hello', byName()), /opted out; nothing was written/);
  });

  test('a refusal never quotes the patient ID', async () => {
    await assert.rejects(run('who.csv', 'patient_id,comment\n4242424242,x\n', byColumn('patient_id')), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match((error as Error).message, /record 1 names a patient who is not in the source's patient table \(the ID is withheld\)/);
      assert.ok(!(error as Error).message.includes('4242424242'));
      return true;
    });
  });

  test('the policy is checked whole', async () => {
    await assert.rejects(run('x.txt', 'x', { patient_from_name: '(', colour: 'blue' }), (error: unknown) => {
      const fields = (error as ValidationError).fields;
      assert.deepEqual(Object.keys(fields).sort(), ['colour', 'config', 'patient_from_name']);
      return true;
    });
    await assert.rejects(run('x.txt', 'x', { config: world.config, patient_from_name: '^P\\d+_' }), /needs a capturing group/);
    await assert.rejects(run('x.txt', 'x', { config: world.config }), /give patient_column .* or patient_from_name/);
  });
});
