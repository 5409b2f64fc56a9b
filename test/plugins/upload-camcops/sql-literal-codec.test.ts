// Property and example tests of CamCOPS's SQL-style literals: decode(encode(v)) = v for
// every kind of value, lists split only on commas outside quotes, and malformed literals
// are refused with messages that do not echo their content.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeLiteral, decodeLiteralList, encodeLiteral, encodeLiteralList, escapeNewlines, unescapeNewlines, LiteralError, type LiteralValue,
} from '../../../plugins/upload-camcops/sql-literal-codec.js';
import { seededRandom } from '../../../scripts/seeded-random.js';

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

  for (const [bad, why] of [
    ['hello', /unquoted token of 5 character/],
    ["'unterminated", /unbalanced quote/],
    ["'it's'", /quote inside text must be doubled/],
    ["X'ABC'", /even number of hex digits/],
    ["X'GG'", /hex/],
    ["64'a$=='", /not base64/],
    ['99999999999999999999', /too large/],
    ['', /empty value/],
  ] as const) {
    it(`refuses ${JSON.stringify(bad)} precisely`, () => {
      assert.throws(() => decodeLiteral(bad), (e: unknown) => e instanceof LiteralError && why.test(e.message));
    });
  }

  it('names the bad item of a list and does not echo text content', () => {
    assert.throws(
      () => decodeLiteralList("1,'ok',secretname,3"),
      (e: unknown) => e instanceof LiteralError && /^item 2: /.test(e.message) && !e.message.includes('secretname'),
    );
    assert.throws(() => decodeLiteralList("1,'open"), /unbalanced quote/);
  });
});
