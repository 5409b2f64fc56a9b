// The filters of the audit trail, shared by the API actions and the CLI: parsed and checked
// at the boundary, with messages that name the value and what is expected.
import { ValidationError } from '../../core/api.js';
import type { FileFilter } from './distribution-store.js';

const STATES = ['received', 'routed', 'unroutable', 'sending', 'sent', 'archived', 'failed', 'rejected', 'pending', 'acknowledged', 'unacknowledged'] as const;

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
    name: { type: 'string', description: 'part of the file name' },
    limit: { type: ['integer', 'string'], minimum: 1, maximum: 10_000, pattern: '^\\d{1,5}$', description: 'at most this many files (default 100, at most 10000)' },
    events: { type: ['boolean', 'string'], description: 'include each file\'s events (default true)' },
  },
} as const;

/** Parses a date option. @throws ValidationError naming the field. */
export function parseDate(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const text = String(value);
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00Z`) : new Date(text);
  if (Number.isNaN(date.getTime())) throw new ValidationError(`${field} "${text}" is not a date; write YYYY-MM-DD or an ISO time`, { [field]: ['not a date (YYYY-MM-DD)'] });
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
