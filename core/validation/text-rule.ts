// The one rule for text that may reach the database, applied to every action's input at the
// boundary: no NUL character (PostgreSQL refuses it in text, SQLite cuts strings at it) and
// no lone UTF-16 surrogate (not encodable as UTF-8), in values and in keys alike. Keys that
// would reach an object's prototype (`__proto__`, `constructor`, `prototype`) are refused as
// unknown fields wherever they appear, so no action can be tricked by them.
import { addFieldError, fieldErrors, type FieldErrors } from '../errors.js';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Nesting deeper than this is refused (JSON.parse accepts any depth; actions never need it). */
const MAX_DEPTH = 32;

/** What is wrong with a string, or undefined when it may be stored. */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000), which cannot be stored; remove it';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate (e.g. \\ud800 without its pair), which is not text; send valid Unicode';
  return undefined;
}

/** Every problem of the text rule in `input` (keys and values, at any depth), by field path. */
export function inputTextProblems(input: unknown): FieldErrors {
  const fields = fieldErrors();
  walk(input, '', 0, fields);
  return fields;
}

function walk(value: unknown, path: string, depth: number, fields: FieldErrors): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) addFieldError(fields, path || '__root', problem);
    return;
  }
  if (!value || typeof value !== 'object') return;
  if (depth >= MAX_DEPTH) {
    addFieldError(fields, path || '__root', `is nested deeper than ${MAX_DEPTH} levels`);
    return;
  }
  const entries = Array.isArray(value) ? value.map((item, index): [string, unknown] => [String(index), item]) : Object.entries(value);
  for (const [key, item] of entries) {
    const keyProblem = textProblem(key);
    const field = path ? `${path}.${keyProblem ? JSON.stringify(key) : key}` : keyProblem ? JSON.stringify(key) : key;
    if (keyProblem) addFieldError(fields, field, `the field name ${keyProblem}`);
    else if (!Array.isArray(value) && RESERVED_KEYS.has(key)) addFieldError(fields, field, 'unknown field');
    walk(item, field, depth + 1, fields);
  }
}
