// The filters of the audit trail, shared by the API actions and the CLI: parsed and checked
// at the boundary, with messages that name the value and what is expected.
import { ValidationError } from '../../core/api.js';
import type { FileFilter } from './distribution-store.js';

const STATES = ['received', 'routed', 'unroutable', 'sending', 'sent', 'archived', 'failed', 'rejected', 'held', 'pending', 'acknowledged', 'unacknowledged'] as const;

/** The JSON schema of the filter input of the history actions. */
export const historyFilterSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: { type: 'string', description: 'received on or after (YYYY-MM-DD or an ISO time)' },
    until: { type: 'string', description: 'received before (YYYY-MM-DD or an ISO time)' },
    label: { type: 'string' },
    folder: { type: 'string' },
    state: { type: 'string', enum: [...STATES] },
    name: { type: 'string', description: 'part of the file name, in any case' },
    limit: { type: ['integer', 'string'], minimum: 1, maximum: 10_000, pattern: '^\\d{1,5}$', description: 'at most this many files (default 100, at most 10000)' },
    events: { type: ['boolean', 'string'], description: 'include each file\'s events (default true)' },
  },
} as const;

/** `YYYY-MM-DD`, optionally followed by an ISO time of day and zone (`T08:30`, `T08:30:00Z`, `T08:30:00.000+02:00`). */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses a date option: `YYYY-MM-DD` (midnight UTC) or an ISO time. Anything else is refused,
 * `08/12/2026` included: JavaScript would read it as a US month/day, which is not what the
 * help promises.
 * @throws ValidationError naming the field.
 */
export function parseDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  const m = ISO_DATE.exec(text);
  const date = m ? new Date(m[4] === undefined ? `${text}T00:00:00Z` : m[7] === undefined ? `${text}Z` : text) : undefined;
  // The calendar date as written must exist (2026-02-30 is refused, not moved to March).
  const real = m && date && !Number.isNaN(date.getTime()) && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}`);
  if (!date || !real) throw new ValidationError(`${field} "${text}" is not a date in the form YYYY-MM-DD (or an ISO time such as 2026-12-08T09:30:00Z)`, { [field]: ['not a date (YYYY-MM-DD)'] });
  return date;
}

/** Turns action or CLI input into a store filter. */
export function parseHistoryFilter(input: Record<string, unknown>): FileFilter {
  const filter: FileFilter = {};
  const since = parseDate(input.since, 'since');
  const until = parseDate(input.until, 'until');
  if (since) filter.since = since;
  if (until) filter.until = until;
  for (const key of ['label', 'folder', 'name'] as const) if (typeof input[key] === 'string' && input[key] !== '') filter[key] = input[key] as string;
  if (input.state !== undefined && input.state !== '') {
    if (!(STATES as readonly string[]).includes(String(input.state))) throw new ValidationError(`state "${String(input.state)}" is not one of ${STATES.join(', ')}`, { state: [`must be one of ${STATES.join(', ')}`] });
    filter.state = input.state as FileFilter['state'];
  }
  if (input.limit !== undefined && input.limit !== '') {
    const n = Number(input.limit);
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new ValidationError(`limit "${String(input.limit)}" must be a whole number from 1 to 10000`, { limit: ['a whole number from 1 to 10000'] });
    filter.limit = n;
  } else filter.limit = 100;
  return filter;
}
