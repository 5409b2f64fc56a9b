// The pieces under datasets, composite keys and opt-out tables: CSV and JSON tables parsed and
// written back unchanged (NULL versus empty, quotes, line breaks), key SQL for one and several
// fields, and the anon.ini options for dataset sources, dataset destinations and opt-out tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAnonConfig } from '../../../plugins/anonymiser-crate/anon-config.js';
import { keyBound, keyMatch, keyString } from '../../../plugins/anonymiser-crate/row-keys.js';
import { formatCsv, formatJsonTable, parseCsv, parseJsonTable, TableFileError } from '../../../plugins/anonymiser-crate/tabular-resource.js';

test('CSV round trip: quotes, commas, line breaks, NULL and the empty string stay apart', () => {
  const rows = [{ a: 1, b: 'say "hi", then\r\nleave', c: null }, { a: 2, b: '', c: 'x' }];
  const text = formatCsv(['a', 'b', 'c'], rows);
  const parsed = parseCsv(text);
  assert.deepEqual(parsed.columns, ['a', 'b', 'c']);
  assert.deepEqual(parsed.rows.map((r) => r.values), [['1', 'say "hi", then\r\nleave', null], ['2', '', 'x']]);
  assert.deepEqual(parsed.rows.map((r) => r.line), [2, 4], 'a record starts on the line after a quoted line break');
  assert.deepEqual(parseCsv('a,b\n1,\n\n2,3').rows.map((r) => r.values), [['1', null], ['2', '3']]);
});

test('malformed CSV and JSON are refused with every problem by line, quoting nothing', () => {
  const bad = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof TableFileError);
      return error.problems;
    }
    assert.fail('expected a TableFileError');
  };
  assert.deepEqual(bad(() => parseCsv('a,b\n1,2,3\n"x"y,2\n4,5"6"\n')), [
    'line 3: text after the closing quote of field 1; double a quote inside a quoted field ("")',
    'line 4: a quote inside unquoted field 2; quote the whole field and double the quote',
    'line 2: 3 field(s), but the header names 2 column(s)',
  ]);
  assert.match(bad(() => parseCsv('a,a\n1,2'))[0]!, /column "a" is named twice/);
  assert.deepEqual(bad(() => parseJsonTable('{"a": 1}\n{"a": secret}\n[1]')), ['line 2, column 7: not valid JSON here (JSON lines: one object per line)', 'line 3: each item must be an object of column names and values']);
  assert.deepEqual(bad(() => parseJsonTable('[\n {"a": 1},\n {"a": "Smith"\n]')), ['line 4, column 1: not valid JSON here']);
  const json = parseJsonTable(formatJsonTable(['a', 'b'], [{ a: 1, b: null }, { a: 2, b: 'x' }]));
  assert.deepEqual(json.rows.map((r) => [r.line, ...r.values]), [[2, 1, null], [3, 2, 'x']]);
});

test('keys of one field keep their plain SQL; composite keys page and match field by field', () => {
  assert.deepEqual(keyBound('postgres', ['id'], [5], '>', 'after'), { sql: '"id" > :after0', replacements: { after0: 5 } });
  assert.equal(keyBound('mssql', ['s', 'c'], ['A', 'B'], '<=', 'up').sql, '(([s] < :up0) OR ([s] = :up0 AND [c] <= :up1))');
  assert.equal(keyBound('mysql', ['a', 'b', 'c'], [1, 2, 3], '>', 'k').sql, '((`a` > :k0) OR (`a` = :k0 AND `b` > :k1) OR (`a` = :k0 AND `b` = :k1 AND `c` > :k2))');
  assert.deepEqual(keyMatch('sqlite', ['id'], [[1], [2]], 'keys'), { sql: '"id" IN (:keys)', replacements: { keys: [1, 2] } });
  assert.deepEqual(keyMatch('sqlite', ['a', 'b'], [[1, 'x']], 'keys'), { sql: '(("a" = :keys0_0 AND "b" = :keys0_1))', replacements: { keys0_0: 1, keys0_1: 'x' } });
  assert.equal(keyString([42]), keyString(['42']));
  assert.notEqual(keyString(['a,b', 'c']), keyString(['a', 'b,c']));
});

test('anon.ini: dataset sources and destination, and an opt-out table, with every mistake reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'anon-options-test-'));
  try {
    for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, `${k}.key`), `${k}-key`);
    const keys = 'patient_key_file = patient.key\nmaster_key_file = master.key\nchange_key_file = change.key\nsecret_map_url = sqlite:secret.sqlite\ndata_dictionary = dd.tsv\n';
    const good = parseAnonConfig(`[anonymise]\n${keys}destination_dataset = out\ndestination_format = json\noptout_table = db.optouts\noptout_table_mpid_column = nhs\n[source:main]\ndataset = export\nresources = patient.csv note=notes-2024.jsonl\n[source:db]\nurl = sqlite:db.sqlite\n`, dir, {});
    assert.deepEqual(good.datasetSources, { main: { dataset: 'export', tables: [{ table: 'patient', resource: 'patient.csv' }, { table: 'note', resource: 'notes-2024.jsonl' }] } });
    assert.deepEqual(good.destinationDataset, { dataset: 'out', format: 'json' });
    assert.equal(good.destinationUrl, '');
    assert.deepEqual(good.optOutTable, { source: 'db', table: 'optouts', pidField: undefined, mpidField: 'nhs' });
    assert.throws(() => parseAnonConfig(`[anonymise]\n${keys}destination_dataset = out\ndestination_url = sqlite:d.sqlite\ndestination_format = xml\noptout_table = nosuch.t\n[source:main]\ndataset = export\nresources = my-table.csv\n`, dir, {}), (error: Error) => {
      for (const expected of [/either destination_dataset or destination_url/, /destination_format must be csv or json/, /optout_table "nosuch\.t"/, /optout_table needs optout_table_pid_column/, /table name "my-table"/]) assert.match(error.message, expected);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
