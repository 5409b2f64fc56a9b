// fq of package_search: CKAN's common Solr subset (field:value, quoted values, -field:value,
// field:(a OR b), ranges on dates and resource metadata numbers, + or AND between terms)
// parsed into terms, with a 400 naming whatever cannot be read. DatasetSearch turns the
// terms into SQL.
import { ValidationError } from '../errors.js';

/** Fields fq (and field terms of q) can filter on, besides res_extras_KEY. */
export const FQ_FIELDS = ['organization', 'owner_org', 'type', 'state', 'dataset_type', 'private', 'tags', 'name', 'title', 'license_id', 'res_format', 'id', 'metadata_modified', 'metadata_created'];

/** One fq term: a field, the values any of which matches, and whether it is negated. */
export interface FilterTerm {
  field: string;
  /** The first value (terms of most fields have one). */
  value: string;
  /** Every value of `field:(a OR b)`; one for plain terms. */
  values: string[];
  /** `-field:value`: datasets that do not match. */
  negate: boolean;
  /** The metadata key of a res_extras term. */
  key?: string;
  /** `field:[a TO b]` (inclusive) or `{a TO b}` (exclusive); undefined ends are open (`*`). */
  range?: { from?: string; to?: string; inclusive: boolean };
}

/** A Solr range `[a TO b]` / `{a TO b}`, or undefined when `raw` is not one. */
function parseRange(raw: string): FilterTerm['range'] {
  const match = /^([[{])\s*(\S+)\s+TO\s+(\S+)\s*([\]}])$/.exec(raw);
  if (!match) {
    if (raw.startsWith('[') || raw.startsWith('{')) invalid(`cannot read the range "${raw.slice(0, 60)}"; write [FROM TO TO] or {FROM TO TO}, * for an open end`);
    return undefined;
  }
  if ((match[1] === '[') !== (match[4] === ']')) invalid(`the range "${raw.slice(0, 60)}" mixes [ and }; both ends inclusive [a TO b] or exclusive {a TO b}`);
  const end = (value: string): string | undefined => (value === '*' ? undefined : value);
  return { ...(end(match[2]!) ? { from: end(match[2]!) } : {}), ...(end(match[3]!) ? { to: end(match[3]!) } : {}), inclusive: match[1] === '[' };
}

/** Fields that take ranges of dates, and their columns. */
export const DATE_FIELDS: Record<string, string> = { metadata_modified: 'd.modified_at', metadata_created: 'd.created_at' };

/** A Solr date (ISO 8601, or NOW with an optional -/+N UNIT) as a Date. */
export function solrDate(value: string): Date {
  const now = /^NOW(?:([+-])(\d{1,6})(SECOND|MINUTE|HOUR|DAY|MONTH|YEAR)S?)?$/.exec(value);
  if (now) {
    const date = new Date();
    if (now[1]) {
      const n = Number(now[2]) * (now[1] === '-' ? -1 : 1);
      const unit = now[3]!;
      if (unit === 'MONTH') date.setUTCMonth(date.getUTCMonth() + n);
      else if (unit === 'YEAR') date.setUTCFullYear(date.getUTCFullYear() + n);
      else date.setTime(date.getTime() + n * { SECOND: 1e3, MINUTE: 6e4, HOUR: 36e5, DAY: 864e5 }[unit as 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY']);
    }
    return date;
  }
  const date = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?)?$/.test(value) ? new Date(value.endsWith('Z') || value.length === 10 ? value : `${value}Z`) : new Date(NaN);
  if (Number.isNaN(date.getTime())) invalid(`"${value.slice(0, 40)}" is not a date; use ISO 8601 (2026-01-31 or 2026-01-31T12:00:00Z), NOW or NOW-7DAYS`);
  return date;
}

/** Throws the 400 of a search whose fq cannot be read. */
export const invalid = (message: string): never => {
  throw new ValidationError('search parameters are invalid', { fq: [message] });
};

/** The values of a term: one, quoted or not, or `(a OR "b c" OR d)`. */
function termValues(raw: string): string[] {
  if (!raw.startsWith('(')) return [raw.startsWith('"') ? raw.slice(1, -1) : raw];
  const inner = raw.slice(1, -1).trim();
  const values: string[] = [];
  for (const match of inner.matchAll(/"([^"]*)"|(\S+)/g)) {
    const token = match[1] ?? match[2]!;
    if (match[1] === undefined && token === 'OR') continue;
    if (match[1] === undefined && (token === 'AND' || token === 'NOT')) invalid(`"${token}" inside a value list is not supported; use (a OR b)`);
    values.push(token);
  }
  if (!values.length) invalid(`the value list "${raw.slice(0, 50)}" is empty`);
  return values;
}

/**
 * CKAN's common Solr fq subset: `field:value`, `field:"quoted value"`, `-field:value`,
 * `field:(a OR b)`, `+` or AND between terms (every term must hold), and resource metadata
 * as `res_extras_KEY:VALUE` (quote the whole term when the key has spaces:
 * `"res_extras_dc:setup:channel width:20"`). Anything else is refused with a message that
 * names it.
 */
export function parseFilterQuery(fq: string): FilterTerm[] {
  const filters: FilterTerm[] = [];
  let rest = fq;
  const extras = /([+-]?)"res_extras_([^"]+):([^":]*)"|([+-]?)res_extras_(\S+?):("[^"]*"|\([^)]*\)|[[{][^\]}]*[\]}]|[^\s:]+)(?=\s|$)/g;
  for (const match of fq.matchAll(extras)) {
    const key = match[2] ?? match[5]!;
    if (!/^[^"\\]{1,200}$/.test(key)) invalid(`resource metadata key "${key.slice(0, 50)}" is not valid`);
    const range = parseRange(match[3] ?? match[6]!);
    const values = range ? [] : match[3] !== undefined ? [match[3]] : termValues(match[6]!);
    filters.push({ field: 'res_extras', key, value: values[0] ?? '', values, negate: (match[1] ?? match[4]) === '-', ...(range ? { range } : {}) });
    rest = rest.replace(match[0], ' ');
  }
  const pattern = /([+-]?)([a-z_]+):("[^"]*"|\([^)]*\)|[[{][^\]}]*[\]}]|\S+)/g;
  for (const match of rest.matchAll(pattern)) {
    const range = parseRange(match[3]!);
    if (range && !DATE_FIELDS[match[2]!]) invalid(`ranges work on ${Object.keys(DATE_FIELDS).join(', ')} and res_extras_KEY (numbers), not on "${match[2]}"`);
    const values = range ? [] : termValues(match[3]!);
    filters.push({ field: match[2]!, value: values[0] ?? '', values, negate: match[1] === '-', ...(range ? { range } : {}) });
    rest = rest.replace(match[0], ' ');
  }
  const left = rest.replace(/(^|\s)AND(?=\s|$)/g, ' ').trim();
  if (left) invalid(`cannot read "${left.slice(0, 50)}"; use field:value terms (fields ${FQ_FIELDS.join(', ')}, or res_extras_KEY), joined by spaces, + or AND; OR only inside field:(a OR b)`);
  for (const filter of filters) {
    if (filter.field !== 'res_extras' && !FQ_FIELDS.includes(filter.field)) invalid(`unknown field "${filter.field}"; use ${FQ_FIELDS.join(', ')}, or res_extras_KEY:VALUE`);
    if (filter.values.length > 100) invalid(`field "${filter.field}" lists ${filter.values.length} values; the limit is 100`);
  }
  if (filters.length > 32) invalid(`has ${filters.length} terms; the limit is 32`);
  return filters;
}
