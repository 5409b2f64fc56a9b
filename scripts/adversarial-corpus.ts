// An adversarial clinical corpus for the anonymiser: per patient, notes (plain text) and
// progress entries (HTML) that mention the patient's and third parties' identifiers in every
// form a clinician, a scanner or a copy-paste produces (case, possessives, curly apostrophes,
// initials, "SURNAME, Forename", titles, line and hyphen breaks, soft hyphens and zero-width
// characters, dates in every common written form and glued to labels, numbers in any grouping,
// phones in national and international forms, e-mails in <...> and upper case, HTML entities
// and tags inside words and table cells, address components), between filler sentences that
// carry decoys: ordinary words drawn from a pool kept apart from each note's own identifiers
// ("hope", "may", "brown" used as words; some patients are called Hope or live on Hope
// Street), and numbers that are no identifier (doses, times, other dates).
//
// It records what it planted, segment by segment, so that scripts/leak-checker.ts can judge
// the anonymiser's output without any of the anonymiser's code. The data dictionary it writes
// is CRATE's format with CRATE's usual methods (address as `phrase`, phones as `number`).
//
//   node dist/scripts/adversarial-corpus.js --url sqlite:corpus.sqlite --patients 500 --dd dd.tsv
import { DataTypes, type Sequelize } from 'sequelize';
import { pathToFileURL } from 'node:url';
import { seededRandom } from './seeded-random.js';

/** The kinds of variant planted; recall is reported per class. */
export const VARIANT_CLASSES = [
  'name as stored', 'case', 'possessive', 'initials', 'surname first', 'title', 'line break', 'hyphen break', 'soft hyphen or zero width',
  'alias', 'date', 'date glued to label', 'nhs number grouping', 'phone national', 'phone international', 'email', 'address line',
  'street without number', 'town', 'postcode', 'html entity or tag in word', 'html table cell', 'third party', 'other patient',
] as const;
export type VariantClass = (typeof VARIANT_CLASSES)[number];

/** One planted identifier mention. */
export interface Plant {
  kind: 'plant';
  variant: VariantClass;
  /** The text as written into the note. */
  text: string;
  /** Tokens (lower case letter runs or digit runs) that identify; any of them left in the output is a leak. */
  sensitive: string[];
}

/** Text between plants: template words, filler and decoys (none of them an identifier of this note's people). */
export interface Filler {
  kind: 'filler';
  text: string;
  /** Decoy words in it, as written (lower case ordinary usage). */
  decoys: string[];
}

export type Segment = Plant | Filler;

/** A generated note: its segments, joined, are its text. */
export interface CorpusNote {
  table: 'note' | 'progress';
  id: number;
  patientId: number;
  segments: Segment[];
}

/** One generated patient. */
export interface CorpusPatient {
  pid: number;
  nhsNumber: string;
  forename: string;
  surname: string;
  alias: string;
  dob: string;
  houseNumber: number;
  street: string;
  town: string;
  postcode: string;
  phone: string;
  email: string;
  relatives: Array<{ relativeId: number; forename: string; surname: string; phone: string; relatedPatientId: number | undefined }>;
}

/** Sizes and seed. */
export interface CorpusOptions {
  patients: number;
  /** Identifier mentions per patient (at least one of each class the patient can have). */
  mentionsPerPatient: number;
  /** Bytes of text per patient (filler pads to it). */
  bytesPerPatient: number;
  /** Notes per patient; every other one is an HTML progress entry. */
  notesPerPatient: number;
  seed: number;
}

const FORENAMES = ['Katarzyna', 'Bartholomew', 'Cecily', 'Dorian', 'Evangeline', 'Florian', 'Gwendolyn', 'Hamish', 'Isolde', 'Jasper', 'Kerensa', 'Leopold', 'Marguerite',
  'Niamh', 'Oswin', 'Perpetua', 'Quentin', 'Rosalind', 'Sebastian', 'Theodora', 'Ulrich', 'Valentina', 'Wilfred', 'Xanthe', 'Zoë', 'Søren', 'Chloé', 'José', 'Małgorzata',
  // Ordinary words as names: the same words are decoys in other people's notes.
  'May', 'Hope', 'Will', 'Rose', 'Grace', 'Faith', 'Mark', 'Dawn', 'Summer', 'Frank'];
const SURNAMES = ['Nowak', 'Blackwood', 'Carrington', 'Delacroix', 'Ellsworth', 'Fairweather', 'Goldsmith', 'Hartigan', 'Ingleby', 'Jessop', 'Kavanagh', 'Lockhart', 'Montague',
  'Nettleship', 'Ormerod', 'Pemberton', 'Quarrie', 'Ravenscroft', 'Stainforth', 'Thistlethwaite', 'Underhill', 'Vandermeer', 'Whitlock', 'Yardley', 'Zieliński', 'Müller',
  "O'Connor", 'Featherstonehaugh', 'Brown', 'Hope', 'Mills', 'Green', 'Wood', 'Church'];
const ALIASES = ['Bunny', 'Tiggy', 'Sparky', 'Doddy', 'Pip', 'Mags', 'Beano', 'Ziggy', 'Lolly', 'Chip'];
/** Street names: distinctive ones, and ordinary words (decoy safety). */
const STREET_NAMES = ['Beechcroft', 'Larkspur', 'Wisteria', 'Thornbury', 'Hollybush', 'Kingfisher', 'Marlowe', 'Quayside', 'Brambling', 'Hope', 'Mill', 'Church', 'Park', 'Station'];
const STREET_KINDS: Array<[string, string]> = [['Gardens', 'Gdns'], ['Road', 'Rd'], ['Street', 'St'], ['Avenue', 'Ave'], ['Lane', 'Ln'], ['Close', 'Cl'], ['Crescent', 'Cres']];
const TOWNS = ['Sheffield', 'Ashwell', 'Bottisham', 'Comberton', 'Duxford', 'Elsworth', 'Fulbourn', 'Reading', 'March'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
/** Ordinary words used as words; some are also names above. */
const DECOY_WORDS = ['brown', 'hope', 'may', 'will', 'rose', 'grace', 'faith', 'mark', 'dawn', 'summer', 'frank', 'mill', 'mills', 'green', 'wood', 'church', 'park', 'station', 'reading', 'march'];
const DECOY_SENTENCES = [
  'She may attend the group next week if transport allows.', 'There is some hope that the new plan will help.', 'He wore a brown coat and seemed settled.',
  'The ward will review this on Monday.', 'Mood rose slightly over the fortnight.', 'Handled the setback with grace and good humour.', 'Keeps faith in the current medication.',
  'Made a mark on the chart to show the change.', 'Woke at dawn most days this week.', 'Plans to walk more over the summer.', 'Was frank about missed doses.',
  'Used to work at the paper mill.', 'Grew up near the old cotton mills.', 'Prefers the green room for sessions.', 'Enjoys wood carving at the day centre.',
  'Goes to church on Sundays with family.', 'Walked to the park with staff.', 'Met the community team at the bus station.', 'Has been reading a lot in the evenings.',
  'Will march in the charity walk in the spring.',
];
const FILLER = ('patient reports low mood and poor sleep over the past weeks appetite reduced no thoughts of self harm reviewed medication plan continue current dose ' +
  'review in clinic discussed coping strategies family supportive attended with carer mental state examination calm cooperative speech normal rate thought form intact ' +
  'no psychotic features insight good risk assessed as low physical health stable blood pressure within normal limits advised regular exercise follow up arranged ' +
  'letter sent to general practitioner').split(' ');
/** Numbers that identify nobody: the checker counts them as decoys too. */
const NUMBER_DECOYS = ['sertraline 50 mg once daily', 'BP 128/84', 'seen at 14:30', 'weight 72.5 kg', 'next review 12/03/2027', 'score 14 of 27', 'ward 3, bed 12'];

const pick = <T>(next: () => number, list: readonly T[]): T => list[Math.floor(next() * list.length)]!;

/** An NHS number with a valid modulus-11 check digit. */
function nhsNumber(next: () => number): string {
  for (;;) {
    const digits = Array.from({ length: 9 }, (_, i) => (i === 0 ? 4 + Math.floor(next() * 5) : Math.floor(next() * 10)));
    const check = 11 - (digits.reduce((s, d, i) => s + d * (10 - i), 0) % 11);
    if (check !== 10) return [...digits, check === 11 ? 0 : check].join('');
  }
}

/** A UK phone number in the drama range (Ofcom's 01632 960xxx is too narrow for hundreds): 0114 496 0xxx style. */
function phoneNumber(next: () => number): string {
  const area = pick(next, ['0114', '0116', '0118', '0121', '0131', '0141', '0151', '0161', '0191']);
  return `${area} 496 ${String(Math.floor(next() * 10000)).padStart(4, '0')}`;
}

/** Lower-case letter runs and digit runs: the units the checker compares. */
export function tokensOf(text: string): string[] {
  return text.toLowerCase().match(/\p{L}+|\p{N}+/gu) ?? [];
}

const letterTokens = (text: string): string[] => tokensOf(text).filter((t) => /^\p{L}{2,}$/u.test(t));
const digitTokens = (text: string): string[] => tokensOf(text).filter((t) => /^\p{N}+$/u.test(t));

/** Every planted form of one patient's identifiers (and third parties'), by class. */
function plantsFor(p: CorpusPatient, others: ReadonlyMap<number, CorpusPatient>, next: () => number): { text: Plant[]; html: Plant[] } {
  const plants: Plant[] = [];
  const html: Plant[] = [];
  const plant = (variant: VariantClass, text: string, sensitive: string[], into: Plant[] = plants): void => {
    into.push({ kind: 'plant', variant, text, sensitive: [...new Set(sensitive)] });
  };
  const names = letterTokens(`${p.forename} ${p.surname}`);
  const surname = letterTokens(p.surname);
  const forename = letterTokens(p.forename);
  plant('name as stored', `${p.forename} ${p.surname}`, names);
  plant('case', p.surname.toUpperCase(), surname);
  plant('case', p.forename.toLowerCase(), forename);
  plant('case', `${p.forename.toUpperCase()} ${p.surname.toLowerCase()}`, names);
  plant('possessive', `${p.surname}'s`, surname);
  plant('possessive', `${p.surname}’s`, surname);
  plant('possessive', `${p.forename}’s`, forename);
  plant('initials', `${p.forename[0]}. ${p.surname}`, surname);
  plant('initials', `${p.forename[0]}.${p.alias[0]}. ${p.surname}`, surname);
  plant('initials', `Dr ${p.forename[0]} ${p.surname.toUpperCase()}`, surname);
  plant('surname first', `${p.surname.toUpperCase()}, ${p.forename}`, names);
  plant('surname first', `${p.surname}, ${p.forename[0]}.`, surname);
  plant('title', `Mrs ${p.surname}`, surname);
  plant('title', `Ms. ${p.forename} ${p.surname}`, names);
  plant('line break', `${p.forename}\n${p.surname}`, names);
  plant('line break', `${p.surname},\r\n${p.forename}`, names);
  const cut = (word: string): [string, string] => {
    const chars = [...word];
    const at = Math.max(2, Math.floor(chars.length / 2));
    return [chars.slice(0, at).join(''), chars.slice(at).join('')];
  };
  if ([...p.forename].length >= 5) {
    const [a, b] = cut(p.forename);
    plant('hyphen break', `${a}-\n${b}`, forename);
    plant('hyphen break', `${a}-${b}`, forename);
    plant('soft hyphen or zero width', `${a}\u00ad${b}`, forename);
  }
  if ([...p.surname].length >= 5 && !p.surname.includes("'")) {
    const [a, b] = cut(p.surname);
    plant('hyphen break', `${a}-\r\n${b}`, surname);
    plant('soft hyphen or zero width', `${a}\u200b${b}`, surname);
    plant('soft hyphen or zero width', `${a}\u00ad\n${b}`, surname);
    plant('html entity or tag in word', `<b>${a}</b>${b}`, surname, html);
    const codePoint = b.codePointAt(0)!;
    plant('html entity or tag in word', `${a}&#${codePoint};${b.slice(String.fromCodePoint(codePoint).length)}`, surname, html);
  }
  plant('alias', `known as ${p.alias}`, letterTokens(p.alias));
  plant('alias', `"${p.alias.toUpperCase()}"`, letterTokens(p.alias));

  const [y, m, d] = p.dob.split('-').map(Number) as [number, number, number];
  const dd = String(d).padStart(2, '0');
  const mm = String(m).padStart(2, '0');
  const yy = String(y).slice(2);
  const ord = d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th';
  const month = MONTHS[m - 1]!;
  const dateSensitive = (text: string): string[] => digitTokens(text);
  for (const form of [`${dd}/${mm}/${y}`, `${d}/${m}/${yy}`, `${d} ${month} ${y}`, `${d}${ord} of ${month} ${y}`, `${month} ${d}, ${y}`, `${month.slice(0, 3)} ${d}${ord} ${yy}`,
    p.dob, `${dd}.${mm}.${yy}`, `${d}-${month.slice(0, 3)}-${yy}`, `${d}${ord} ${month.slice(0, 4)}. ${y}`, `${y}${mm}${dd}`, `${dd}-${mm}-${y}`, `${d} ${month.toUpperCase()} ${y}`]) {
    plant('date', form, dateSensitive(form));
  }
  plant('date glued to label', `DOB${dd}/${mm}/${y}`, dateSensitive(`${dd}/${mm}/${y}`));
  plant('date glued to label', `D.O.B.:${d}.${m}.${yy}`, dateSensitive(`${d}.${m}.${yy}`));
  plant('html table cell', `<table><tr><td>DOB</td><td>${dd}/${mm}/${y}</td></tr><tr><td>Name</td><td>${p.surname}</td></tr></table>`, [...dateSensitive(`${dd}/${mm}/${y}`), ...surname], html);

  const n = p.nhsNumber;
  for (const form of [`${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`, n, `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`, `${n.slice(0, 5)} ${n.slice(5)}`, `NHS:${n}`, `NHS no.${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`]) {
    plant('nhs number grouping', form, digitTokens(form));
  }
  const phoneDigits = p.phone.replace(/\D/g, '');
  const area = phoneDigits.slice(0, 4);
  const local = phoneDigits.slice(4);
  const subscriber = (form: string): string[] => digitTokens(form).filter((t) => t !== '44');
  for (const form of [p.phone, `${area}-${local.slice(0, 3)}-${local.slice(3)}`, `(${area}) ${local}`, phoneDigits, `Tel:${phoneDigits}`, `${area} ${local.slice(0, 3)}\n${local.slice(3)}`]) {
    plant('phone national', form, subscriber(form));
  }
  const intl = `${area.slice(1)} ${local.slice(0, 3)} ${local.slice(3)}`;
  for (const form of [`+44 ${intl}`, `+44 (0)${intl}`, `0044 ${intl}`, `+44${intl.replace(/ /g, '')}`, `+44 ${area.slice(1)} ${local.slice(0, 3)}\n${local.slice(3)}`, `(+44) ${area.slice(1)}-${local}`]) {
    plant('phone international', form, subscriber(form));
  }
  const emailTokens = letterTokens(p.email).filter((t) => !['example', 'org'].includes(t));
  for (const form of [p.email, `<${p.email}>`, p.email.toUpperCase(), `mailto:${p.email}`, `${p.forename} ${p.surname} <${p.email}>`]) plant('email', form, [...emailTokens, ...(form.includes(' ') ? names : [])]);

  const streetKind = p.street.split(' ').pop()!;
  const streetName = p.street.slice(0, -streetKind.length - 1);
  const short = STREET_KINDS.find(([k]) => k === streetKind)![1];
  const distinctive = !['Hope', 'Mill', 'Church', 'Park', 'Station'].includes(streetName);
  const streetTokens = letterTokens(streetName);
  const townTokens = letterTokens(p.town);
  const postcodeTokens = tokensOf(p.postcode);
  plant('address line', `${p.houseNumber} ${p.street}, ${p.town} ${p.postcode}`, [...streetTokens, ...townTokens, ...postcodeTokens, String(p.houseNumber)]);
  plant('address line', `${p.houseNumber} ${p.street.toUpperCase()},\n${p.town.toUpperCase()}`, [...streetTokens, ...townTokens, String(p.houseNumber)]);
  plant('street without number', `along ${p.street}`, streetTokens);
  plant('street without number', `${streetName} ${short}.`, streetTokens);
  if (distinctive) plant('street without number', `the ${streetName} estate`, streetTokens);
  plant('town', `moved to ${p.town}`, townTokens);
  plant('postcode', p.postcode, postcodeTokens);
  plant('postcode', p.postcode.replace(' ', '').toLowerCase(), tokensOf(p.postcode.replace(' ', '')));

  for (const r of p.relatives) {
    const rNames = letterTokens(`${r.forename} ${r.surname}`);
    if (r.relatedPatientId !== undefined) {
      const other = others.get(r.relatedPatientId)!;
      plant('other patient', `${other.forename} ${other.surname}`, rNames);
      plant('other patient', `${other.surname.toUpperCase()}'s`, letterTokens(other.surname));
      plant('other patient', `born ${other.dob.split('-').reverse().join('/')}`, digitTokens(other.dob));
      continue;
    }
    plant('third party', `${r.forename} ${r.surname}`, rNames);
    plant('third party', `${r.surname}’s`, letterTokens(r.surname));
    plant('third party', `${r.forename.toUpperCase()}`, letterTokens(r.forename));
    const rDigits = r.phone.replace(/\D/g, '');
    plant('third party', `+44 ${rDigits.slice(1, 4)} ${rDigits.slice(4)}`, digitTokens(rDigits.slice(4)).concat(rDigits.slice(1, 4)));
  }
  void next;
  return { text: plants, html };
}

/**
 * Builds the corpus: patients, relatives (some of them patients too) and notes, lazily (a
 * large corpus never sits whole in memory).
 */
export function adversarialCorpus(options: CorpusOptions): { patients: CorpusPatient[]; notes: () => Iterable<CorpusNote> } {
  const next = seededRandom(options.seed);
  const patients: CorpusPatient[] = [];
  for (let i = 0; i < options.patients; i++) {
    const drawn = FORENAMES[(i * 7 + Math.floor(next() * 3)) % FORENAMES.length]!;
    // Every corpus of two or more patients has a patient called May (the second).
    const forename = i === 1 ? 'May' : drawn;
    const surname = SURNAMES[(i * 11 + Math.floor(next() * 5)) % SURNAMES.length]!;
    const year = 1930 + Math.floor(next() * 75);
    const [kind] = pick(next, STREET_KINDS);
    const nhs = nhsNumber(next);
    const alias = pick(next, ALIASES);
    const drawnMonth = 1 + Math.floor(next() * 12);
    // A patient named after a month is born in it: a written date then begins with the
    // patient's name ("May 17, 1933"), and must go whole, not as the name alone.
    const month = MONTHS.includes(forename) ? MONTHS.indexOf(forename) + 1 : drawnMonth;
    patients.push({
      pid: 20000 + i, nhsNumber: nhs, forename, surname, alias,
      dob: `${year}-${String(month).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`,
      houseNumber: 1 + Math.floor(next() * 98), street: `${pick(next, STREET_NAMES)} ${kind}`, town: pick(next, TOWNS),
      postcode: `${pick(next, ['S10', 'S11', 'CB2', 'PE13', 'SG8', 'LS6', 'M14'])} ${Math.floor(next() * 10)}${pick(next, ['XY', 'QQ', 'DL', 'NW', 'AB'])}`,
      phone: phoneNumber(next),
      email: `${forename.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}.${surname.toLowerCase().normalize('NFD').replace(/[^a-z]/g, '')}${i}@example.org`,
      relatives: [],
    });
  }
  let relativeId = 1;
  for (const [i, p] of patients.entries()) {
    p.relatives.push({ relativeId: relativeId++, forename: pick(next, FORENAMES.filter((f) => f !== p.forename)), surname: pick(next, SURNAMES.filter((s) => s !== p.surname)), phone: phoneNumber(next), relatedPatientId: undefined });
    if (i % 4 === 0 && patients.length > 1) {
      const other = patients[(i + 1) % patients.length]!;
      p.relatives.push({ relativeId: relativeId++, forename: other.forename, surname: other.surname, phone: other.phone, relatedPatientId: other.pid });
    }
  }
  const byPid = new Map(patients.map((p) => [p.pid, p]));
  const notes = function* (): Generator<CorpusNote> {
    const rnd = seededRandom(options.seed * 31 + 7);
    let noteId = 1;
    for (const p of patients) {
      const { text, html } = plantsFor(p, byPid, rnd);
      // Words that identify someone in this patient's notes are never used as decoys here.
      const own = new Set([p, ...p.relatives.map((r) => r.relatedPatientId === undefined ? r : byPid.get(r.relatedPatientId)!)].flatMap((x) => letterTokens(`${x.forename} ${x.surname}`)));
      const decoys = DECOY_SENTENCES.filter((s) => !letterTokens(s).some((t) => own.has(t)));
      // Every form at least once, then more picked at random up to the wanted number.
      const textPlants = [...text];
      const htmlPlants = [...html];
      while (textPlants.length + htmlPlants.length < options.mentionsPerPatient) {
        if (rnd() < 0.2 && html.length) htmlPlants.push(pick(rnd, html));
        else textPlants.push(pick(rnd, text));
      }
      const notesOf = Math.max(2, options.notesPerPatient);
      const htmlNotes = Math.floor(notesOf / 2);
      const textNotes = notesOf - htmlNotes;
      const perNoteBytes = options.bytesPerPatient / notesOf;
      const share = <T>(list: T[], n: number, i: number): T[] => list.slice(Math.floor((i * list.length) / n), Math.floor(((i + 1) * list.length) / n));
      for (let i = 0; i < notesOf; i++) {
        const isHtml = i >= textNotes;
        const mine = isHtml ? share(htmlPlants, htmlNotes, i - textNotes) : share(textPlants, textNotes, i);
        const segments: Segment[] = [];
        const fillerBytes = Math.max(40, perNoteBytes / (mine.length + 1));
        const filler = (): Filler => {
          const words: string[] = [];
          const used: string[] = [];
          let length = 0;
          while (length < fillerBytes) {
            const r = rnd();
            if (r < 0.15 && decoys.length) {
              const sentence = pick(rnd, decoys);
              words.push(sentence);
              used.push(...letterTokens(sentence).filter((t) => DECOY_WORDS.includes(t)));
            } else if (r < 0.2) words.push(`${pick(rnd, NUMBER_DECOYS)}.`);
            else words.push(pick(rnd, FILLER));
            length += words[words.length - 1]!.length + 1;
          }
          const body = words.join(' ');
          return { kind: 'filler', text: isHtml ? ` <p>${body}</p> ` : ` ${body}. `, decoys: used };
        };
        segments.push(filler());
        for (const plant of mine) {
          segments.push(plant, filler());
        }
        yield { table: isHtml ? 'progress' : 'note', id: noteId++, patientId: p.pid, segments };
      }
    }
  };
  return { patients, notes };
}

/** A note's text: its segments joined. */
export function noteText(note: CorpusNote): string {
  return note.segments.map((s) => s.text).join('');
}

/**
 * Creates `patient`, `relative`, `note` (plain text) and `progress` (HTML) in an empty
 * database and fills them.
 * @returns the notes' bytes and count
 */
export async function writeAdversarialDb(sequelize: Sequelize, corpus: ReturnType<typeof adversarialCorpus>): Promise<{ notes: number; bytes: number }> {
  const qi = sequelize.getQueryInterface();
  await qi.createTable('patient', {
    patient_id: { type: DataTypes.INTEGER, primaryKey: true }, nhs_number: { type: DataTypes.STRING(20) }, forename: { type: DataTypes.STRING(100) },
    surname: { type: DataTypes.STRING(100) }, alias: { type: DataTypes.STRING(100) }, dob: { type: DataTypes.DATEONLY }, address: { type: DataTypes.STRING(200) },
    postcode: { type: DataTypes.STRING(10) }, phone: { type: DataTypes.STRING(30) }, email: { type: DataTypes.STRING(100) },
  });
  await qi.createTable('relative', {
    relative_id: { type: DataTypes.INTEGER, primaryKey: true }, patient_id: { type: DataTypes.INTEGER, allowNull: false }, forename: { type: DataTypes.STRING(100) },
    surname: { type: DataTypes.STRING(100) }, phone: { type: DataTypes.STRING(30) }, related_patient_id: { type: DataTypes.INTEGER, allowNull: true },
  });
  for (const table of ['note', 'progress']) {
    await qi.createTable(table, {
      note_id: { type: DataTypes.INTEGER, primaryKey: true }, patient_id: { type: DataTypes.INTEGER, allowNull: false }, note_text: { type: DataTypes.TEXT },
    });
  }
  const insert = async (table: string, rows: Iterable<object>): Promise<void> => {
    let batch: object[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length >= 100) {
        await qi.bulkInsert(table, batch);
        batch = [];
      }
    }
    if (batch.length) await qi.bulkInsert(table, batch);
  };
  await insert('patient', corpus.patients.map((p) => ({
    patient_id: p.pid, nhs_number: p.nhsNumber, forename: p.forename, surname: p.surname, alias: p.alias, dob: p.dob,
    address: `${p.houseNumber} ${p.street}, ${p.town} ${p.postcode}`, postcode: p.postcode, phone: p.phone, email: p.email,
  })));
  await insert('relative', corpus.patients.flatMap((p) => p.relatives.map((r) => ({ relative_id: r.relativeId, patient_id: p.pid, forename: r.forename, surname: r.surname, phone: r.phone, related_patient_id: r.relatedPatientId ?? null }))));
  let notes = 0;
  let bytes = 0;
  const rows = (table: 'note' | 'progress'): Iterable<object> => ({
    *[Symbol.iterator]() {
      for (const n of corpus.notes()) {
        if (n.table !== table) continue;
        const text = noteText(n);
        notes += 1;
        bytes += Buffer.byteLength(text);
        yield { note_id: n.id, patient_id: n.patientId, note_text: text };
      }
    },
  });
  await insert('note', rows('note'));
  await insert('progress', rows('progress'));
  await qi.addIndex('relative', ['patient_id']);
  await qi.addIndex('note', ['patient_id']);
  await qi.addIndex('progress', ['patient_id']);
  return { notes, bytes };
}

/** The corpus's data dictionary, as a CRATE user would write it (source `main`). */
export function adversarialDataDictionary(srcDb = 'main'): string {
  const header = 'src_db\tsrc_table\tsrc_field\tsrc_datatype\tsrc_flags\tscrub_src\tscrub_method\tdecision\tinclusion_values\texclusion_values\talter_method\tdest_table\tdest_field\tdest_datatype\tindex\tindexlen\tcomment';
  const rows: string[][] = [
    ['patient', 'patient_id', 'INTEGER', 'KHP*', 'patient', 'number', 'include', '', '', ''],
    ['patient', 'nhs_number', 'VARCHAR(20)', 'M', 'patient', 'number', 'include', '', '', ''],
    ['patient', 'forename', 'VARCHAR(100)', '', 'patient', 'words', 'OMIT', '', '', ''],
    ['patient', 'surname', 'VARCHAR(100)', '', 'patient', 'words', 'OMIT', '', '', ''],
    ['patient', 'alias', 'VARCHAR(100)', '', 'patient', 'words', 'OMIT', '', '', ''],
    ['patient', 'dob', 'DATE', '', 'patient', 'date', 'include', '', '', 'truncate_date'],
    ['patient', 'address', 'VARCHAR(200)', '', 'patient', 'phrase', 'OMIT', '', '', ''],
    ['patient', 'postcode', 'VARCHAR(10)', '', 'patient', 'code', 'OMIT', '', '', ''],
    ['patient', 'phone', 'VARCHAR(30)', '', 'patient', 'number', 'OMIT', '', '', ''],
    ['patient', 'email', 'VARCHAR(100)', '', 'patient', 'phrase', 'OMIT', '', '', ''],
    ['relative', 'relative_id', 'INTEGER', 'KH', '', '', 'include', '', '', ''],
    ['relative', 'patient_id', 'INTEGER', 'P', '', '', 'include', '', '', ''],
    ['relative', 'forename', 'VARCHAR(100)', '', 'thirdparty', 'words', 'OMIT', '', '', ''],
    ['relative', 'surname', 'VARCHAR(100)', '', 'thirdparty', 'words', 'OMIT', '', '', ''],
    ['relative', 'phone', 'VARCHAR(30)', '', 'thirdparty', 'number', 'OMIT', '', '', ''],
    ['relative', 'related_patient_id', 'INTEGER', '', 'thirdparty_xref_pid', '', 'OMIT', '', '', ''],
    ['note', 'note_id', 'INTEGER', 'KH', '', '', 'include', '', '', ''],
    ['note', 'patient_id', 'INTEGER', 'P', '', '', 'include', '', '', ''],
    ['note', 'note_text', 'TEXT', '', '', '', 'include', '', '', 'scrub'],
    ['progress', 'note_id', 'INTEGER', 'KH', '', '', 'include', '', '', ''],
    ['progress', 'patient_id', 'INTEGER', 'P', '', '', 'include', '', '', ''],
    ['progress', 'note_text', 'TEXT', '', '', '', 'include', '', '', 'html_untag,scrub'],
  ];
  return `# Data dictionary of the adversarial corpus (CRATE's usual methods)\n${header}\n${rows.map((r) => [srcDb, ...r, '', '', '', '', '', ''].join('\t')).join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const url = arg('url', '');
  if (!url) throw new Error('usage: adversarial-corpus --url URL [--patients N] [--mentions N] [--kb N] [--notes N] [--seed N] [--dd FILE]');
  const { Sequelize } = await import('sequelize');
  const sequelize = url.startsWith('sqlite:') ? new Sequelize({ dialect: 'sqlite', storage: url.slice(7), logging: false }) : new Sequelize(url.replace(/^postgresql:/, 'postgres:').replace(/^mariadb:/, 'mysql:'), { logging: false });
  const corpus = adversarialCorpus({ patients: Number(arg('patients', '100')), mentionsPerPatient: Number(arg('mentions', '80')), bytesPerPatient: Number(arg('kb', '40')) * 1000, notesPerPatient: Number(arg('notes', '8')), seed: Number(arg('seed', '1')) });
  const written = await writeAdversarialDb(sequelize, corpus);
  await sequelize.close();
  const dd = arg('dd', '');
  if (dd) (await import('node:fs')).writeFileSync(dd, adversarialDataDictionary());
  process.stderr.write(`generated ${corpus.patients.length} patients, ${written.notes} notes, ${(written.bytes / 1e6).toFixed(1)} MB of note text\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
