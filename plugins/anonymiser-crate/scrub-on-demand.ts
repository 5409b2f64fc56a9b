// Scrubbing on demand, for other systems: texts and the identifiers to take out of them in,
// scrubbed texts out, with the same scrubber a run builds. The request has the shape of CRATE's
// scrub API (crate_anon/crateweb/anonymise_api/serializers.py: `text` as a map of texts,
// `patient` and `third_party` identifiers by kind, allow and deny lists, replacements and the
// scrub_all_* switches), plus `addresses`. Served as the `anonymise_scrub` action (sysadmins
// only, audited without the text) and as `platform anonymise scrub` reading stdin.
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ValidationError } from '../../core/api.js';

type JsonSchema = Record<string, unknown>;
import type { ScrubMethod } from './data-dictionary.js';
import { buildScrubber, defaultScrubberOptions, type IdentifierValue, type ScrubberOptions } from './patient-scrubber.js';
import { parseLooseDate } from './nonspecific-patterns.js';

/** CRATE's kinds of specific identifier, and the scrub method each is built with. */
const KINDS: Record<string, ScrubMethod> = { words: 'words', phrases: 'phrase', non_numeric_phrases: 'phrase_unless_numeric', numbers: 'number', codes: 'code', dates: 'date', addresses: 'address' };

const MAX_TEXTS = 100;
const MAX_TEXT_CHARS = 1_000_000;
const MAX_VALUES = 1000;

const values = (): JsonSchema => ({ type: 'array', maxItems: MAX_VALUES, items: { type: 'string', minLength: 1, maxLength: 1000 } });
const specific: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.keys(KINDS).map((k) => [k, values()])),
};
const wordList: JsonSchema = { type: 'object', additionalProperties: false, properties: { words: values() } };

/** The request, bounded in every value. */
export const scrubRequestSchema: JsonSchema = {
  type: 'object',
  required: ['text'],
  additionalProperties: false,
  properties: {
    text: { type: 'object', minProperties: 1, maxProperties: MAX_TEXTS, propertyNames: { maxLength: 200 }, additionalProperties: { type: 'string', maxLength: MAX_TEXT_CHARS } },
    patient: specific,
    third_party: specific,
    allowlist: wordList,
    denylist: wordList,
    replace_patient_info_with: { type: 'string', maxLength: 100 },
    replace_third_party_info_with: { type: 'string', maxLength: 100 },
    replace_nonspecific_info_with: { type: 'string', maxLength: 100 },
    min_string_length_to_scrub_with: { type: 'integer', minimum: 1, maximum: 100 },
    scrub_string_suffixes: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 10 } },
    scrub_all_dates: { type: 'boolean' },
    scrub_all_uk_postcodes: { type: 'boolean' },
    scrub_all_email_addresses: { type: 'boolean' },
    scrub_all_numbers_of_n_digits: { type: 'array', maxItems: 10, items: { type: 'integer', minimum: 1, maximum: 100 } },
  },
};

/** What a scrub request asks for (validated against scrubRequestSchema). */
export interface ScrubRequest {
  text: Record<string, string>;
  patient?: Record<string, string[]>;
  third_party?: Record<string, string[]>;
  allowlist?: { words?: string[] };
  denylist?: { words?: string[] };
  replace_patient_info_with?: string;
  replace_third_party_info_with?: string;
  replace_nonspecific_info_with?: string;
  min_string_length_to_scrub_with?: number;
  scrub_string_suffixes?: string[];
  scrub_all_dates?: boolean;
  scrub_all_uk_postcodes?: boolean;
  scrub_all_email_addresses?: boolean;
  scrub_all_numbers_of_n_digits?: number[];
}

/** The answer: each text by its key, scrubbed; and counts for the audit trail (no text). */
export interface ScrubAnswer {
  anonymised: Record<string, string>;
  counts: { texts: number; characters: number; identifiers: number };
}

function identifiersOf(group: Record<string, string[]> | undefined): IdentifierValue[] {
  const out: IdentifierValue[] = [];
  for (const [kind, list] of Object.entries(group ?? {})) {
    const method = KINDS[kind];
    if (!method) throw new ValidationError(`unknown kind of identifier "${kind}"; use ${Object.keys(KINDS).join(', ')}`, { [kind]: ['unknown kind'] });
    for (const value of list) out.push({ value: method === 'date' ? isoDate(value) : value, method });
  }
  return out;
}

/**
 * A date identifier as the scrubber takes it (YYYY-MM-DD), from ISO or as people write one
 * ("03 Apr 1975", "3/4/1975" day first): CRATE's API takes dates in any form its parser reads.
 * @throws ValidationError for a value that is no date (without quoting it)
 */
function isoDate(value: string): string {
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  const parts = iso ? { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) } : parseLooseDate(value.trim());
  const { year, month, day } = parts ?? { year: NaN, month: NaN, day: undefined };
  const date = new Date(Date.UTC(year, month - 1, day ?? NaN));
  if (day === undefined || Number.isNaN(date.getTime()) || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new ValidationError('a date identifier is not a date (give YYYY-MM-DD, or a day, month and year such as 03 Apr 1975)', { dates: ['not a date'] });
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Scrubs the texts of a request (already validated against {@link scrubRequestSchema}).
 * @throws ValidationError for an unknown kind of identifier or a date that is none
 */
export function scrubOnDemand(request: ScrubRequest): ScrubAnswer {
  const options: ScrubberOptions = defaultScrubberOptions();
  if (request.replace_patient_info_with !== undefined) options.replacePatient = request.replace_patient_info_with;
  if (request.replace_third_party_info_with !== undefined) options.replaceThirdParty = request.replace_third_party_info_with;
  if (request.replace_nonspecific_info_with !== undefined) options.replaceNonspecific = request.replace_nonspecific_info_with;
  if (request.min_string_length_to_scrub_with !== undefined) options.minWordLength = request.min_string_length_to_scrub_with;
  if (request.scrub_string_suffixes !== undefined) options.suffixes = request.scrub_string_suffixes;
  options.allowlist = new Set((request.allowlist?.words ?? []).map((w) => w.toLowerCase()));
  const digits = request.scrub_all_numbers_of_n_digits ?? [];
  options.nonspecific = {
    ...options.nonspecific,
    allDates: request.scrub_all_dates === true,
    ukPostcodes: request.scrub_all_uk_postcodes === true,
    emails: request.scrub_all_email_addresses === true,
    // CRATE lists lengths; every run of at least the shortest of them goes.
    numbersOfDigits: digits.length ? Math.min(...digits) : 0,
    denylist: request.denylist?.words ?? [],
  };
  const patient = identifiersOf(request.patient);
  const thirdParty = identifiersOf(request.third_party);
  const scrubber = buildScrubber(patient, thirdParty, options);
  const anonymised: Record<string, string> = {};
  let characters = 0;
  for (const [key, text] of Object.entries(request.text)) {
    anonymised[key] = scrubber.scrub(text);
    characters += text.length;
  }
  return { anonymised, counts: { texts: Object.keys(request.text).length, characters, identifiers: patient.length + thirdParty.length } };
}

let compiled: ((value: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null } | undefined;

/**
 * Checks a request against {@link scrubRequestSchema} where no core validator is at hand (the
 * command line); the action's input is checked by core.
 * @throws ValidationError naming every problem (by path; values are never quoted)
 */
export function validateScrubRequest(value: Record<string, unknown>): ScrubRequest {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    compiled = ajv.compile(scrubRequestSchema);
  }
  if (!compiled(value)) {
    const problems = (compiled.errors ?? []).map((e) => `${e.instancePath || '(the request)'} ${e.message ?? 'is invalid'}`);
    throw new ValidationError(`the scrub request is invalid: ${problems.join('; ')}`, { request: problems });
  }
  return value as unknown as ScrubRequest;
}
