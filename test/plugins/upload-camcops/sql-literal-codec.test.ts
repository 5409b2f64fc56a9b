// Property and example tests of CamCOPS's SQL-style literals: decode(encode(v)) = v for
// every kind of value, lists split only on commas outside quotes, and every odd item decoded
// as the reference server decodes it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeLiteral, decodeLiteralList, encodeLiteral, encodeLiteralList, escapeNewlines, unescapeNewlines, LiteralError, type LiteralValue,
} from '../../../plugins/upload-camcops/sql-literal-codec.js';
import { seededRandom } from '../../../scripts/seeded-random.js';
import { columnAsStringList, csvRow, qtSetNumDouble, qtToSqlLiteral } from './camcops-client.js';

/** A small seeded generator, so failures reproduce. */
const generator = seededRandom;

const ALPHABET = ["'", "''", ',', '\\', '\n', '\r', '\\n', '\\r', 'NULL', 'X', "64'", ' ', 'a', 'é', '😀', '"', '0', '-', '.', 'e'];

function randomValue(rand: () => number): LiteralValue {
  const kind = Math.floor(rand() * 5);
  switch (kind) {
    case 0:
      return null;
    case 1: {
      const magnitude = [10, 1e6, Number.MAX_SAFE_INTEGER][Math.floor(rand() * 3)]!;
      return Math.floor((rand() * 2 - 1) * magnitude);
    }
    case 2: {
      const v = (rand() * 2 - 1) * 10 ** Math.floor(rand() * 40 - 20);
      return v;
    }
    case 3: {
      let s = '';
      const n = Math.floor(rand() * 12);
      for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
      return s;
    }
    default: {
      const bytes = Buffer.alloc(Math.floor(rand() * 20));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
      return bytes;
    }
  }
}

describe('CamCOPS SQL literals', () => {
  it('decode(encode(v)) = v for 5,000 random values of every kind', () => {
    const rand = generator(20261123);
    const kinds = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const value = randomValue(rand);
      kinds.add(value === null ? 'null' : Buffer.isBuffer(value) ? 'blob' : typeof value);
      assert.deepEqual(decodeLiteral(encodeLiteral(value)), value, `value #${i}: ${String(value)}`);
    }
    assert.deepEqual([...kinds].sort(), ['blob', 'null', 'number', 'string']);
  });

  it('decodeList(encodeList(vs)) = vs for 1,000 random lists', () => {
    const rand = generator(7);
    for (let i = 0; i < 1000; i++) {
      const values = Array.from({ length: 1 + Math.floor(rand() * 8) }, () => randomValue(rand));
      assert.deepEqual(decodeLiteralList(encodeLiteralList(values)), values);
    }
  });

  it("decodes 5,000 random values as the C++ client encodes them (toSqlLiteral), doubles at the client's 6 digits", () => {
    const rand = generator(20261207);
    for (let i = 0; i < 5000; i++) {
      const value = randomValue(rand);
      const sent = typeof value === 'number' && !Number.isSafeInteger(value) ? Number(qtSetNumDouble(value)) : value;
      assert.deepEqual(decodeLiteral(qtToSqlLiteral(value)), sent, `value #${i}: ${String(value)}`);
    }
  });

  it('decodes csvRow records and columnAsStringList columns as the client builds them', () => {
    const rand = generator(3);
    for (let i = 0; i < 500; i++) {
      const record = Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 8) }, (_, j) => [`f${j}`, randomValue(rand)]));
      const fields = Object.keys(record);
      const expected = fields.map((f) => {
        const v = record[f]!;
        return typeof v === 'number' && !Number.isSafeInteger(v) ? Number(qtSetNumDouble(v)) : v;
      });
      assert.deepEqual(decodeLiteralList(csvRow(fields, record)), expected);
    }
    // The raw columns of which_keys_to_send: integer PKs, ISO dates, 0/1/NULL flags.
    const records = [
      { id: 1, when_last_modified: '2026-12-07T18:12:43.137+01:00', _move_off_tablet: 0 },
      { id: 22, when_last_modified: '2026-12-07T17:12:43.137Z', _move_off_tablet: null },
      { id: 333, when_last_modified: '2026-12-07T18:12:43.137-05:30', _move_off_tablet: 1 },
    ];
    assert.deepEqual(decodeLiteralList(columnAsStringList(records, 'id')), [1, 22, 333]);
    assert.deepEqual(decodeLiteralList(columnAsStringList(records, 'when_last_modified')), records.map((r) => r.when_last_modified));
    assert.deepEqual(decodeLiteralList(columnAsStringList(records, '_move_off_tablet')), [0, null, 1]);
  });

  it('unescape(escape(s)) = s, including literal backslash-n sequences', () => {
    const tricky = 'slash \\ newline \n ctrl_r \r special \\n other special \\r quote \' doublequote " ';
    assert.equal(unescapeNewlines(escapeNewlines(tricky)), tricky);
  });

  it("decodes CamCOPS's own test string", () => {
    const hello = Buffer.from('hello');
    const list = `3, 4.5, NULL, 'hello "hi\\n    with linebreak"', 'NULL', 'quote''s here', 64'aGVsbG8=', X'68656C6C6F', 'X''012345''', '64''aGVsbG8='''`;
    assert.deepEqual(decodeLiteralList(list), [3, 4.5, null, 'hello "hi\n    with linebreak"', 'NULL', "quote's here", hello, hello, "X'012345'", "64'aGVsbG8='"]);
    assert.deepEqual(decodeLiteralList(''), []);
    assert.equal(decodeLiteral("'2026-11-23T16:00:00.000+00:00'"), '2026-11-23T16:00:00.000+00:00');
    assert.equal(decodeLiteral('-1.5e-7'), -1.5e-7);
  });

  it('encodes booleans as 0/1, large floats exactly, and refuses values that have no literal', () => {
    assert.equal(encodeLiteral(true), '1');
    assert.equal(encodeLiteral(false), '0');
    assert.throws(() => encodeLiteral(Number.NaN), LiteralError);
    assert.throws(() => encodeLiteral(Number.POSITIVE_INFINITY), LiteralError);
    assert.equal(decodeLiteral(encodeLiteral(2 ** 60)), 2 ** 60, 'a float beyond 2^53 is written in exponent form');
  });

  // Each row: an item and what the reference server's decode_single_value
  // (camcops_server/cc_modules/cc_convert.py) returns for it. The reference never refuses an
  // item; a value unfit for its column is refused later, against the table's types.
  const hi = Buffer.from('hi');
  for (const [item, expected, note] of [
    ['', null, 'an empty item is NULL (a NULL _move_off_tablet from columnAsStringList)'],
    ['null', null, 'NULL in any case'],
    ['2026-12-07T18:12:43.137+01:00', '2026-12-07T18:12:43.137+01:00', 'an unquoted date is taken as text'],
    ['hello', 'hello', 'any other unquoted token is taken as text'],
    ["'unterminated", "'unterminated", 'text without its closing quote is not quoted text'],
    ["'it's'", "it's", "a lone quote inside quotes is kept (sql_dequote_string only undoubles '')"],
    ["'a\\qb\\'", 'aqb', 'a backslash before another character, or at the end, is dropped'],
    ["X'ABC'", "X'ABC'", 'an odd number of hex digits is not a blob'],
    ["x'6869'", "x'6869'", "only an upper-case X marks a hex blob"],
    ["X''", "X''", 'a hex blob holds at least one byte'],
    ["X'6869'", hi, 'a hex blob'],
    ["64'aGk='", hi, 'a base64 blob'],
    ["64'aG\nk='", hi, 'whitespace inside a blob is ignored (some encoders wrap base64)'],
    ["64'aGl='", "64'aGl='", 'base64 with non-zero padding bits is not a blob'],
    ["64'a$=='", "64'a$=='", 'characters outside base64 make text'],
    ['+5', 5, "Python's int() takes a sign"],
    ['1_000', 1000, "and underscores between digits"],
    [' 7 ', 7, 'and surrounding whitespace (dbdata values are not stripped)'],
    ['1e-07', 1e-7, "a float as Qt's QString::setNum writes it"],
    ['1.23457e+06', 1234570, 'another'],
    ['99999999999999999999', '99999999999999999999', 'beyond 2^53 stays text here, so an integer column refuses it (Python keeps the integer)'],
    ['inf', 'inf', 'inf and nan stay text here, so a number column refuses them (Python makes floats of them)'],
  ] as const) {
    it(`decodes ${JSON.stringify(item)} as the reference does: ${note}`, () => {
      assert.deepEqual(decodeLiteral(item.replace('\\n', '\n')), expected);
    });
  }

  it('splits lists as gen_items_from_sql_csv: stripped items, empty items kept, an unbalanced quote runs to the end', () => {
    assert.deepEqual(decodeLiteralList('0,'), [0, null]);
    assert.deepEqual(decodeLiteralList(',,'), [null, null, null]);
    assert.deepEqual(decodeLiteralList(" 1 , 'a, b' ,NULL"), [1, 'a, b', null]);
    assert.deepEqual(decodeLiteralList("1,'open,2"), [1, "'open,2"]);
    assert.deepEqual(decodeLiteralList(''), []);
  });
});
