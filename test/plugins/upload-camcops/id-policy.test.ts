// The ID policy language and NHS-number validation, as the server enforces them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IdPolicy, type PatientDetails } from '../../../plugins/upload-camcops/id-policy.js';
import { isValidNhsNumber, whyIdNumberInvalid } from '../../../plugins/upload-camcops/nhs-number.js';

const patient = (fields: Partial<PatientDetails>, idnums: Array<[number, number]> = []): PatientDetails => ({ ...fields, idnums: new Map(idnums) });

describe('ID policies', () => {
  const policy = IdPolicy.parse('sex AND ((idnum1 AND dob) OR idnum2)');

  it('evaluates CamCOPS\'s example policy', () => {
    assert.equal(policy.accepts(patient({ sex: 'F', dob: '1950-01-01' }, [[1, 9434765919]])), true);
    assert.equal(policy.accepts(patient({ sex: 'F' }, [[2, 123]])), true);
    assert.equal(policy.accepts(patient({ sex: 'F' }, [[1, 9434765919]])), false, 'idnum1 needs dob');
    assert.equal(policy.accepts(patient({ dob: '1950-01-01' }, [[2, 123]])), false, 'sex is required');
    assert.equal(policy.accepts(patient({ sex: '  ' }, [[2, 123]])), false, 'blank text is absent');
  });

  it('binds NOT tighter than AND, and AND tighter than OR; is case-insensitive', () => {
    const p = IdPolicy.parse('forename or surname and NOT dob');
    assert.equal(p.accepts(patient({ forename: 'A', dob: 'x' })), true);
    assert.equal(p.accepts(patient({ surname: 'B', dob: '2000-01-01' })), false);
    assert.equal(p.accepts(patient({ surname: 'B' })), true);
  });

  it('knows anyidnum and otheridnum', () => {
    assert.equal(IdPolicy.parse('anyidnum').accepts(patient({}, [[7, 1]])), true);
    assert.equal(IdPolicy.parse('anyidnum').accepts(patient({})), false);
    const other = IdPolicy.parse('idnum1 OR otheridnum');
    assert.equal(other.accepts(patient({}, [[3, 1]])), true);
    assert.equal(IdPolicy.parse('otheridnum AND idnum3').accepts(patient({}, [[3, 1]])), false);
  });

  it('accepts everyone with an empty policy, and refuses malformed ones precisely', () => {
    assert.equal(IdPolicy.parse('').accepts(patient({})), true);
    assert.throws(() => IdPolicy.parse('sex AND'), /unexpected end/);
    assert.throws(() => IdPolicy.parse('(sex'), /expected "\)"/);
    assert.throws(() => IdPolicy.parse('sex dob'), /unexpected "dob"/);
    assert.throws(() => IdPolicy.parse('shoe_size'), /unknown term "shoe_size"/);
    assert.throws(() => IdPolicy.parse('idnum0'), /start at 1/);
  });
});

describe('NHS numbers', () => {
  it('accepts valid check digits and refuses invalid ones', () => {
    for (const valid of [9434765919, 4010232137, 4887211163]) assert.equal(isValidNhsNumber(valid), true, String(valid));
    for (const invalid of [9434765918, 1234567890, 123, 12345678901]) assert.equal(isValidNhsNumber(invalid), false, String(invalid));
  });

  it('explains without repeating the number', () => {
    const why = whyIdNumberInvalid('uk_nhs_number', 9434765918);
    assert.match(why ?? '', /not a valid NHS number/);
    assert.ok(!why!.includes('9434765918'));
    assert.equal(whyIdNumberInvalid('', 9434765918), undefined);
  });
});
