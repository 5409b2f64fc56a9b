// The data dictionary: CRATE's TSV parsed into rows, and whole-dictionary validation that
// reports every problem with its line and column before anything runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DD_COLUMNS, defaultScrubMethod, formatProblems, parseDataDictionary } from '../../../plugins/anonymiser-crate/data-dictionary.js';
import { planDictionary } from '../../../plugins/anonymiser-crate/dictionary-plan.js';
import { clinicalDataDictionary } from '../../../scripts/generate-clinical-db.js';

const header = DD_COLUMNS.join('\t');
const row = (cells: Partial<Record<(typeof DD_COLUMNS)[number], string>>): string => DD_COLUMNS.map((c) => cells[c] ?? '').join('\t');
const reserved = { reservedFields: ['trid', 'mrid', '_src_hash'] };

test('the generator\'s dictionary parses and plans without problems', () => {
  const parsed = parseDataDictionary(clinicalDataDictionary());
  assert.deepEqual(parsed.problems, []);
  const { plan, problems } = planDictionary(parsed.rows, { ...reserved, sources: ['main'], hashSections: [] });
  assert.deepEqual(problems, []);
  assert.equal(plan.patientTable?.srcTable, 'patient');
  const note = plan.tables.find((t) => t.srcTable === 'note')!;
  assert.deepEqual(note.keys.map((k) => k.srcField), ['note_id']);
  assert.equal(note.pid?.srcField, 'patient_id');
  assert.ok(note.hasSrcHash);
  assert.deepEqual(note.included.map((r) => r.destField), ['note_id', 'rid', 'note_date', 'note_text']);
  const surname = plan.tables[0]!.rows.find((r) => r.srcField === 'surname')!;
  assert.equal(surname.include, false);
  assert.equal(surname.scrubMethod, 'words');
});

test('comments and blank lines are ignored; defaults come from the type as in CRATE', () => {
  const text = ['# a comment', '', header, '  # indented comment', row({ src_db: 'db', src_table: 't', src_field: 'id', src_datatype: 'INTEGER', src_flags: 'KP*', decision: 'include' }),
    row({ src_db: 'db', src_table: 't', src_field: 'born', src_datatype: 'DATE', scrub_src: 'patient', decision: 'OMIT' }),
    row({ src_db: 'db', src_table: 't', src_field: 'tel', src_datatype: 'BIGINT', scrub_src: 'patient', decision: 'OMIT' }),
    row({ src_db: 'db', src_table: 't', src_field: 'name', src_datatype: 'VARCHAR(50)', scrub_src: 'patient', decision: 'OMIT' })].join('\n');
  const parsed = parseDataDictionary(text);
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(parsed.rows.map((r) => [r.line, r.scrubMethod]), [[5, undefined], [6, 'date'], [7, 'number'], [8, 'words']]);
  assert.equal(defaultScrubMethod('datetime2(7)'), 'date');
});

test('every problem of a bad dictionary is reported at once, by line and column', () => {
  const text = [
    header,
    row({ src_db: 'db', src_table: 't', src_field: 'id', src_datatype: 'INTEGER', src_flags: 'KPX', decision: 'include' }), // 2: unknown flag X
    row({ src_db: 'db', src_table: 't', src_field: 'note', src_datatype: 'TEXT', scrub_method: 'words', decision: 'maybe', alter_method: 'scrub,frobnicate' }), // 3
    row({ src_db: 'db', src_table: 't', src_field: 'x', src_datatype: 'TEXT', decision: 'include', inclusion_values: '[1,', index: 'Q', indexlen: '-2' }), // 4
    'db\tt\ttoo few cells', // 5
    row({ src_db: '1bad', src_table: 't', src_field: 'y', src_datatype: 'TEXT', scrub_src: 'everyone', decision: 'OMIT' }), // 6
  ].join('\n');
  const { problems } = parseDataDictionary(text);
  const at = problems.map((p) => `${p.line}:${p.column ?? '-'}`);
  assert.deepEqual(at, ['2:src_flags', '3:scrub_method', '3:decision', '3:alter_method', '4:inclusion_values', '4:index', '4:indexlen', '5:-', '6:src_db', '6:scrub_src']);
  assert.match(problems[0]!.message, /unknown flag "X"/);
  assert.match(problems[3]!.message, /unknown alter method "frobnicate"/);
  const formatted = formatProblems('dd.tsv', problems);
  assert.match(formatted, /^dd\.tsv:2: column src_flags \(5\): unknown flag/m);
  assert.equal(formatted.split('\n').length, problems.length);
});

test('a header without CRATE\'s columns is refused with the missing names', () => {
  const { problems, rows } = parseDataDictionary('src_db\tsrc_table\n');
  assert.equal(rows.length, 0);
  assert.equal(problems[0]!.line, 1);
  assert.match(problems[0]!.message, /lacks the column\(s\) src_field, src_datatype/);
  assert.match(parseDataDictionary('# only a comment\n').problems[0]!.message, /empty/);
});

test('whole-dictionary rules: keys, flags, patient list, destinations, sources and hash sections', () => {
  const text = [
    header,
    row({ src_db: 'db', src_table: 'p', src_field: 'id', src_datatype: 'INTEGER', src_flags: 'KP', decision: 'include' }), // 2: P without * anywhere
    row({ src_db: 'db', src_table: 'p', src_field: 'id2', src_datatype: 'INTEGER', src_flags: 'K', decision: 'OMIT' }), // 3: a composite key's field omitted
    row({ src_db: 'db', src_table: 'p', src_field: 'h', src_datatype: 'INTEGER', src_flags: 'H', decision: 'OMIT' }), // 4: H off the key
    row({ src_db: 'db', src_table: 'p', src_field: 'x', src_datatype: 'TEXT', decision: 'include', dest_field: 'trid' }), // 5: reserved name
    row({ src_db: 'db', src_table: 'p', src_field: 'y', src_datatype: 'TEXT', decision: 'include', dest_field: 'id' }), // 6: duplicate destination
    row({ src_db: 'db', src_table: 'p', src_field: 'z', src_datatype: 'TEXT', decision: 'include', alter_method: 'hash=nosuch' }), // 7: unknown hash section
    row({ src_db: 'other', src_table: 'q', src_field: 'a', src_datatype: 'TEXT', decision: 'include' }), // 8: unknown source, no K
    row({ src_db: 'db', src_table: 'p', src_field: 'id', src_datatype: 'INTEGER', decision: 'OMIT' }), // 9: described twice
    row({ src_db: 'db', src_table: 'r', src_field: 'name', src_datatype: 'TEXT', scrub_src: 'patient', src_flags: 'R', decision: 'OMIT' }), // 10: scrub_src without P
    row({ src_db: 'db', src_table: 'p', src_field: 'doc', src_datatype: 'BLOB', decision: 'include', alter_method: 'binary_to_text=ext' }), // 11: no field ext
  ].join('\n');
  const parsed = parseDataDictionary(text);
  assert.deepEqual(parsed.problems, []);
  const { problems } = planDictionary(parsed.rows, { ...reserved, sources: ['db'], hashSections: ['deid'] });
  const at = problems.map((p) => `${p.line}:${p.column}`);
  for (const expected of ['2:src_flags', '3:decision', '4:src_flags', '5:dest_field', '6:dest_field', '7:alter_method', '8:src_db', '8:src_flags', '9:src_field', '10:scrub_src', '11:alter_method']) {
    assert.ok(at.includes(expected), `expected a problem at ${expected}; got ${at.join(', ')}`);
  }
  assert.match(problems.find((p) => p.line === 2)!.message, /no field defines the patient list/);
});
