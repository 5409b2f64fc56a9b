// Generates a synthetic clinical database for the anonymiser's tests and benchmarks: patients
// with names (some with accents, apostrophes or two-word surnames), aliases, dates of birth,
// NHS numbers, addresses, postcodes, phones and e-mails; relatives (some of them patients
// too); and notes whose free text mentions all of these in varied forms: possessives,
// capitals, line breaks inside names, dates in many formats, numbers with spaces. It returns
// the ground truth: every identifying surface form it put into each patient's notes.
//
//   node dist/scripts/generate-clinical-db.js --url sqlite:clinical.sqlite --patients 100
import { Sequelize, DataTypes } from 'sequelize';
import { pathToFileURL } from 'node:url';
import { seededRandom } from './seeded-random.js';

/** One generated patient and what identifies them. */
export interface SyntheticPatient {
  pid: number;
  nhsNumber: string;
  forename: string;
  surname: string;
  alias: string;
  dob: string;
  address: string;
  postcode: string;
  phone: string;
  email: string;
  optOut: boolean;
  relatives: Array<{ relativeId: number; forename: string; surname: string; relatedPatientId: number | undefined }>;
  /** Every identifying surface form written into this patient's notes (their own and third parties'). */
  mentions: string[];
}

/** What was generated. */
export interface ClinicalDataset {
  patients: SyntheticPatient[];
  noteCount: number;
  /** Bytes of note text written. */
  textBytes: number;
  /** Ordinary words the filler text uses (none is an identifier), for over-scrubbing reports. */
  fillerWords: string[];
}

/** Sizes and seed. */
export interface GenerateOptions {
  patients: number;
  notesPerPatient: number;
  /** Approximate length of each note in characters (filler pads to it). */
  noteChars: number;
  seed: number;
  /** Every nth patient opts out (0: none). */
  optOutEvery: number;
}

const FORENAMES = ['Alice', 'Bartholomew', 'Cecily', 'Dorian', 'Evangeline', 'Florian', 'Gwendolyn', 'Hamish', 'Isolde', 'Jasper', 'Kerensa', 'Leopold', 'Marguerite', 'Niamh', 'Oswin', 'Perpetua', 'Quentin', 'Rosalind', 'Sebastian', 'Theodora', 'Ulrich', 'Valentina', 'Wilfred', 'Xanthe', 'Yannick', 'Zoë', 'Søren', 'Chloé', 'José', 'Bronwen'];
const SURNAMES = ['Ashcombe', 'Blackwood', 'Carrington', 'Delacroix', 'Ellsworth', 'Fairweather', 'Goldsmith', 'Hartigan', 'Ingleby', 'Jessop', 'Kavanagh', 'Lockhart', 'Montague', 'Nettleship', 'Ormerod', 'Pemberton', 'Quarrie', 'Ravenscroft', 'Stainforth', 'Thistlethwaite', 'Underhill', 'Vandermeer', 'Whitlock', 'Yardley', 'Zielinski', 'Müller', "O'Connor", 'Ó Briain', 'Featherstonehaugh', 'Grimshaw'];
const ALIASES = ['Bunny', 'Tiggy', 'Sparky', 'Doddy', 'Pip', 'Mags', 'Beano', 'Ziggy', 'Lolly', 'Chip'];
const STREETS = ['Larkspur', 'Wisteria', 'Thornbury', 'Hollybush', 'Kingfisher', 'Marlowe', 'Quayside', 'Brambling'];
const STREET_KINDS = ['Road', 'Lane', 'Close', 'Avenue', 'Crescent'];
const TOWNS = ['Ashwell', 'Bottisham', 'Comberton', 'Duxford', 'Elsworth', 'Fulbourn'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const FILLER = ('patient reports low mood and poor sleep over the past weeks appetite reduced no thoughts of self harm reviewed medication ' +
  'plan continue current dose review in clinic discussed coping strategies family supportive attended with carer mental state examination ' +
  'calm cooperative speech normal rate thought form intact no psychotic features insight good risk assessed as low ' +
  'physical health stable blood pressure within normal limits advised regular exercise follow up arranged letter sent to general practitioner').split(' ');

/** A small deterministic generator (mulberry32). */
const random = seededRandom;

/** An NHS number with a valid modulus-11 check digit. */
function nhsNumber(next: () => number): string {
  for (;;) {
    const digits = Array.from({ length: 9 }, (_, i) => (i === 0 ? 4 + Math.floor(next() * 5) : Math.floor(next() * 10)));
    const sum = digits.reduce((s, d, i) => s + d * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return [...digits, check === 11 ? 0 : check].join('');
  }
}

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)]!;
}

/** Writes the DOB in one of many forms. */
function dateForms(iso: string): string[] {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const dd = String(d).padStart(2, '0');
  const mm = String(m).padStart(2, '0');
  const ord = d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th';
  const month = MONTHS[m - 1]!;
  return [`${dd}/${mm}/${y}`, `${d} ${month} ${y}`, `${d}${ord} of ${month} ${y}`, `${month} ${d}, ${y}`, iso, `${dd}.${mm}.${String(y).slice(2)}`, `${d}-${month.slice(0, 3)}-${String(y).slice(2)}`, `${d}${ord} ${month.slice(0, 4)}. ${y}`];
}

/** A note row. */
export interface SyntheticNote {
  note_id: number;
  patient_id: number;
  note_date: string;
  note_text: string;
}

/**
 * Builds the patients at once and their notes lazily (so that gigabytes of text never sit in
 * memory); `dataset.noteCount`, `textBytes` and the date mentions are complete once the notes
 * have been iterated.
 */
export function synthesise(options: GenerateOptions): { dataset: ClinicalDataset; notes: Iterable<SyntheticNote> } {
  const next = random(options.seed);
  const patients: SyntheticPatient[] = [];
  for (let i = 0; i < options.patients; i++) {
    const pid = 1000 + i;
    const year = 1930 + Math.floor(next() * 80);
    const dob = `${year}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
    const postcode = `${pick(next, ['CB', 'PE', 'SG', 'IP'])}${1 + Math.floor(next() * 24)} ${Math.floor(next() * 10)}${pick(next, ['AB', 'QQ', 'XY', 'DL', 'NW'])}`;
    const forename = FORENAMES[(i + Math.floor(next() * 3)) % FORENAMES.length]!;
    const surname = SURNAMES[(i * 7 + Math.floor(next() * 5)) % SURNAMES.length]!;
    patients.push({
      pid, nhsNumber: nhsNumber(next), forename, surname, alias: pick(next, ALIASES), dob,
      address: `${1 + Math.floor(next() * 98)} ${pick(next, STREETS)} ${pick(next, STREET_KINDS)}, ${pick(next, TOWNS)}`,
      postcode, phone: `01${Math.floor(100 + next() * 899)} ${Math.floor(100000 + next() * 899999)}`,
      email: `${forename.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${surname.toLowerCase().replace(/[^a-z]/g, '')}@example.org`,
      optOut: options.optOutEvery > 0 && i % options.optOutEvery === options.optOutEvery - 1,
      relatives: [], mentions: [],
    });
  }
  let relativeId = 1;
  for (const [i, p] of patients.entries()) {
    p.relatives.push({ relativeId: relativeId++, forename: pick(next, FORENAMES.filter((f) => f !== p.forename)), surname: pick(next, SURNAMES.filter((s) => s !== p.surname)), relatedPatientId: undefined });
    // Every fifth patient's second relative is another patient.
    if (i % 5 === 0 && patients.length > 1) {
      const other = patients[(i + 1) % patients.length]!;
      p.relatives.push({ relativeId: relativeId++, forename: other.forename, surname: other.surname, relatedPatientId: other.pid });
    }
  }
  const dataset: ClinicalDataset = { patients, noteCount: 0, textBytes: 0, fillerWords: [...new Set(FILLER)] };
  let noteId = 1;
  const filler = (chars: number): string => {
    const words: string[] = [];
    let length = 0;
    while (length < chars) {
      const w = pick(next, FILLER);
      words.push(w);
      length += w.length + 1;
    }
    return words.join(' ');
  };
  function* notes(): Generator<SyntheticNote> {
    for (const p of patients) {
      const rel = p.relatives[0]!;
      const dates = dateForms(p.dob);
      const spacedNhs = `${p.nhsNumber.slice(0, 3)} ${p.nhsNumber.slice(3, 6)} ${p.nhsNumber.slice(6)}`;
      const compactPostcode = p.postcode.replace(' ', '').toLowerCase();
      const phoneDashed = p.phone.replace(' ', '-');
      const other = p.relatives[1];
      const otherPatient = other ? patients.find((q) => q.pid === other.relatedPatientId) : undefined;
      const templates: Array<[string, string[]]> = [
        [`${p.forename} ${p.surname} was seen in clinic today.`, [p.forename, p.surname]],
        [`Mr ${p.surname.toUpperCase()}'s mood has improved.`, [p.surname.toUpperCase()]],
        [`${p.forename.toLowerCase()} says the nickname ${p.alias} is preferred.`, [p.forename.toLowerCase(), p.alias]],
        [`Name written over a line break: ${p.forename}\n${p.surname}.`, [p.forename, p.surname]],
        [`DOB ${pick(next, dates)}; also recorded as ${pick(next, dates)}.`, []],
        [`NHS number ${spacedNhs} (${p.nhsNumber}).`, [spacedNhs, p.nhsNumber]],
        [`Lives at ${p.address}, ${p.postcode}; postcode also given as ${compactPostcode}.`, [p.address, p.postcode, compactPostcode]],
        [`Telephone ${p.phone} or ${phoneDashed}.`, [p.phone, phoneDashed]],
        [`Email ${p.email} for appointments.`, [p.email]],
        [`Attended with ${rel.forename} ${rel.surname} (relative); ${rel.surname}'s view noted.`, [rel.forename, rel.surname]],
        ...(otherPatient ? [[`Also mentioned ${otherPatient.forename} ${otherPatient.surname}, another patient.`, [otherPatient.forename, otherPatient.surname]] as [string, string[]]] : []),
      ];
      for (const [, forms] of templates) p.mentions.push(...forms);
      // The dates as written (each template's DOB forms are random, so record them from the text).
      for (let n = 0; n < options.notesPerPatient; n++) {
        const parts: string[] = [];
        const [first, firstForms] = templates[n % templates.length]!;
        parts.push(first);
        if (firstForms.length === 0) p.mentions.push(...dates.filter((d) => first.includes(d)));
        const [second, secondForms] = templates[(n * 3 + 1) % templates.length]!;
        parts.push(second);
        if (secondForms.length === 0) p.mentions.push(...dates.filter((d) => second.includes(d)));
        const text = `${filler(options.noteChars / 3)} ${parts[0]} ${filler(options.noteChars / 3)} ${parts[1]} ${filler(options.noteChars / 3)}`;
        dataset.textBytes += Buffer.byteLength(text);
        dataset.noteCount += 1;
        const noteDate = `20${10 + Math.floor(next() * 14)}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
        yield { note_id: noteId++, patient_id: p.pid, note_date: noteDate, note_text: text };
      }
      p.mentions = [...new Set(p.mentions)];
    }
  }
  return { dataset, notes: notes() };
}

/**
 * Creates the tables `patient`, `relative` and `note` in the (empty) database and fills them.
 * @returns the ground truth
 */
export async function generateClinicalDb(sequelize: Sequelize, options: GenerateOptions): Promise<ClinicalDataset> {
  const { dataset, notes } = synthesise(options);
  const qi = sequelize.getQueryInterface();
  await qi.createTable('patient', {
    patient_id: { type: DataTypes.INTEGER, primaryKey: true },
    nhs_number: { type: DataTypes.STRING(20), allowNull: false },
    forename: { type: DataTypes.STRING(100) },
    surname: { type: DataTypes.STRING(100) },
    alias: { type: DataTypes.STRING(100) },
    dob: { type: DataTypes.DATEONLY },
    address: { type: DataTypes.STRING(200) },
    postcode: { type: DataTypes.STRING(10) },
    phone: { type: DataTypes.STRING(30) },
    email: { type: DataTypes.STRING(100) },
    opt_out: { type: DataTypes.STRING(1) },
  });
  await qi.createTable('relative', {
    relative_id: { type: DataTypes.INTEGER, primaryKey: true },
    patient_id: { type: DataTypes.INTEGER, allowNull: false },
    forename: { type: DataTypes.STRING(100) },
    surname: { type: DataTypes.STRING(100) },
    related_patient_id: { type: DataTypes.INTEGER, allowNull: true },
  });
  await qi.createTable('note', {
    note_id: { type: DataTypes.INTEGER, primaryKey: true },
    patient_id: { type: DataTypes.INTEGER, allowNull: false },
    note_date: { type: DataTypes.DATEONLY },
    note_text: { type: DataTypes.TEXT },
  });
  const chunked = async (table: string, rows: Iterable<object>): Promise<void> => {
    let batch: object[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length >= 200) {
        await qi.bulkInsert(table, batch);
        batch = [];
      }
    }
    if (batch.length) await qi.bulkInsert(table, batch);
  };
  await chunked('patient', dataset.patients.map((p) => ({ patient_id: p.pid, nhs_number: p.nhsNumber, forename: p.forename, surname: p.surname, alias: p.alias, dob: p.dob, address: p.address, postcode: p.postcode, phone: p.phone, email: p.email, opt_out: p.optOut ? 'Y' : 'N' })));
  await chunked('relative', dataset.patients.flatMap((p) => p.relatives.map((r) => ({ relative_id: r.relativeId, patient_id: p.pid, forename: r.forename, surname: r.surname, related_patient_id: r.relatedPatientId ?? null }))));
  await chunked('note', notes);
  // As in real record systems, rows are found by patient.
  await qi.addIndex('relative', ['patient_id']);
  await qi.addIndex('note', ['patient_id']);
  return dataset;
}

/** The data dictionary matching {@link generateClinicalDb}'s tables (source name `main`). */
export function clinicalDataDictionary(srcDb = 'main'): string {
  const rows = [
    ['patient', 'patient_id', 'INTEGER', 'KHP*', 'patient', 'number', 'include', '', '', '', '', 'rid', '', '', ''],
    ['patient', 'nhs_number', 'VARCHAR(20)', 'M', 'patient', 'number', 'include', '', '', '', '', 'nhs_mrid', '', '', ''],
    ['patient', 'forename', 'VARCHAR(100)', 'R', 'patient', 'words', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'surname', 'VARCHAR(100)', '', 'patient', 'words', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'alias', 'VARCHAR(100)', '', 'patient', 'words', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'dob', 'DATE', '', 'patient', 'date', 'include', '', '', 'truncate_date', '', '', '', '', ''],
    ['patient', 'address', 'VARCHAR(200)', '', 'patient', 'phrase', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'postcode', 'VARCHAR(10)', '', 'patient', 'code', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'phone', 'VARCHAR(30)', '', 'patient', 'phrase_unless_numeric', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'email', 'VARCHAR(100)', '', 'patient', 'phrase', 'OMIT', '', '', '', '', '', '', '', ''],
    ['patient', 'opt_out', 'VARCHAR(1)', '!', '', '', 'OMIT', '', '', '', '', '', '', '', ''],
    ['relative', 'relative_id', 'INTEGER', 'KH', '', '', 'include', '', '', '', '', '', '', '', ''],
    ['relative', 'patient_id', 'INTEGER', 'P', '', '', 'include', '', '', '', '', 'rid', '', 'I', ''],
    ['relative', 'forename', 'VARCHAR(100)', '', 'thirdparty', 'words', 'OMIT', '', '', '', '', '', '', '', ''],
    ['relative', 'surname', 'VARCHAR(100)', '', 'thirdparty', 'words', 'OMIT', '', '', '', '', '', '', '', ''],
    ['relative', 'related_patient_id', 'INTEGER', '', 'thirdparty_xref_pid', '', 'OMIT', '', '', '', '', '', '', '', ''],
    ['note', 'note_id', 'INTEGER', 'KH', '', '', 'include', '', '', '', '', '', '', '', ''],
    ['note', 'patient_id', 'INTEGER', 'P', '', '', 'include', '', '', '', '', 'rid', '', 'I', ''],
    ['note', 'note_date', 'DATE', '', '', '', 'include', '', '', '', '', '', '', '', ''],
    ['note', 'note_text', 'TEXT', '', '', '', 'include', '', '', 'scrub', '', '', '', 'F', ''],
  ];
  const header = 'src_db\tsrc_table\tsrc_field\tsrc_datatype\tsrc_flags\tscrub_src\tscrub_method\tdecision\tinclusion_values\texclusion_values\talter_method\tdest_table\tdest_field\tdest_datatype\tindex\tindexlen\tcomment';
  return `# Data dictionary of the synthetic clinical database\n${header}\n${rows.map((r) => [srcDb, ...r.slice(0, 10), ...r.slice(10, 11), r[11], r[12], r[13], r[14], ''].join('\t')).join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const url = arg('url', '');
  if (!url) throw new Error('usage: generate-clinical-db --url URL [--patients N] [--notes N] [--note-chars N] [--seed N] [--dd FILE]');
  const sequelize = new Sequelize(url.replace(/^postgresql:/, 'postgres:').replace(/^mariadb:/, 'mysql:'), { logging: false });
  const dataset = await generateClinicalDb(sequelize, { patients: Number(arg('patients', '100')), notesPerPatient: Number(arg('notes', '10')), noteChars: Number(arg('note-chars', '600')), seed: Number(arg('seed', '1')), optOutEvery: Number(arg('opt-out-every', '10')) });
  await sequelize.close();
  const dd = arg('dd', '');
  if (dd) (await import('node:fs')).writeFileSync(dd, clinicalDataDictionary());
  process.stderr.write(`generated ${dataset.patients.length} patients, ${dataset.noteCount} notes, ${(dataset.textBytes / 1e6).toFixed(1)} MB of note text\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
