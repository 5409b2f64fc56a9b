// package_search: word-prefix search over name, title, notes and tags, filters on
// organisation, type and state, paging and sorting, limited to what the caller may see.
// PostgreSQL uses a GIN-indexed tsvector; SQLite matches words with LIKE.
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { ReadCache } from './read-cache.js';
import { datasetReadSql, toDatasetRead, type DatasetRead, type DatasetReadRow } from './dataset-read.js';
import type { Actor } from '../auth/actor.js';
import type { OrganizationService } from '../auth/organization-service.js';
import { ValidationError, fieldErrors, type FieldErrors } from '../errors.js';
import { searchWords } from './dataset-input.js';

/** A parsed search request. */
export interface SearchQuery {
  q: string;
  fq: string;
  rows: number;
  start: number;
  sort: string;
  /** CKAN's include_private: false leaves private datasets out even for their members. */
  includePrivate: boolean;
  /** CKAN's include_drafts: true adds the drafts the caller may see to active datasets. */
  includeDrafts: boolean;
}

export const MAX_ROWS = 1000;
const SORT_COLUMNS: Record<string, string> = {
  name: 'd.name',
  title: 'd.title',
  metadata_modified: 'd.modified_at',
  metadata_created: 'd.created_at',
};
const FQ_FIELDS = ['organization', 'owner_org', 'type', 'state', 'dataset_type', 'private'];

/** Checks and defaults search parameters (given as strings on GET or typed in JSON). */
export function parseSearchQuery(input: Record<string, unknown>): SearchQuery {
  const fields: FieldErrors = fieldErrors();
  const str = (key: string): string => {
    const value = input[key];
    if (value === undefined) return '';
    if (typeof value !== 'string') {
      fields[key] = ['must be a string'];
      return '';
    }
    if (value.length > 1000) fields[key] = [`is ${value.length} characters long; the limit is 1000`];
    return value;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const value = input[key];
    if (value === undefined || value === '') return fallback;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      fields[key] = [`must be a whole number from ${min} to ${max}`];
      return fallback;
    }
    return n;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const value = input[key];
    if (value === undefined || value === '') return fallback;
    if (value === true || value === 'true' || value === 'True') return true;
    if (value === false || value === 'false' || value === 'False') return false;
    fields[key] = [`must be true or false, not ${JSON.stringify(value)}`];
    return fallback;
  };
  const known = new Set(['q', 'fq', 'rows', 'start', 'sort', 'include_private', 'include_drafts', 'facet', 'facet.field']);
  for (const key of Object.keys(input)) if (!known.has(key)) fields[key] = ['unknown parameter; use q, fq, rows, start, sort, include_private or include_drafts'];
  const query: SearchQuery = {
    q: str('q'), fq: str('fq'), rows: int('rows', 10, 0, MAX_ROWS), start: int('start', 0, 0, 1_000_000), sort: str('sort') || 'metadata_modified desc',
    includePrivate: bool('include_private', true), includeDrafts: bool('include_drafts', false),
  };
  if (Object.keys(fields).length) throw new ValidationError('search parameters are invalid', fields);
  return query;
}

/** `organization:x type:y` and `+state:draft` forms, with optional quotes. */
export function parseFilterQuery(fq: string): Array<{ field: string; value: string; key?: string }> {
  const filters: Array<{ field: string; value: string; key?: string }> = [];
  let rest = fq;
  // Resource metadata: res_extras_KEY:VALUE, KEY being everything before the last ":";
  // quote the whole term when the key has spaces: "res_extras_dc:setup:channel width:20".
  const extras = /"res_extras_([^"]+):([^":]*)"|\+?res_extras_(\S+):([^\s:]+)/g;
  for (const match of fq.matchAll(extras)) {
    const key = match[1] ?? match[3]!;
    if (!/^[^"\\]{1,200}$/.test(key)) throw new ValidationError('search parameters are invalid', { fq: [`resource metadata key "${key.slice(0, 50)}" is not valid`] });
    filters.push({ field: 'res_extras', key, value: match[2] ?? match[4]! });
    rest = rest.replace(match[0], '');
  }
  const pattern = /\+?([a-z_]+):(?:"([^"]*)"|(\S+))/g;
  for (const match of rest.matchAll(pattern)) {
    filters.push({ field: match[1]!, value: match[2] ?? match[3]! });
    rest = rest.replace(match[0], '');
  }
  if (rest.trim()) throw new ValidationError('search parameters are invalid', { fq: [`cannot read "${rest.trim().slice(0, 50)}"; use field:value with fields ${FQ_FIELDS.join(', ')}, or res_extras_KEY:VALUE`] });
  for (const filter of filters) {
    if (filter.field !== 'res_extras' && !FQ_FIELDS.includes(filter.field)) throw new ValidationError('search parameters are invalid', { fq: [`unknown field "${filter.field}"; use ${FQ_FIELDS.join(', ')}, or res_extras_KEY:VALUE`] });
  }
  return filters;
}

function parseSort(sort: string): string {
  const parts = sort.split(',').map((p) => p.trim()).filter(Boolean);
  const clauses: string[] = [];
  for (const part of parts) {
    const [field, direction = 'asc', ...extra] = part.split(/\s+/);
    // CKAN clients send its default "score desc, metadata_modified desc"; matches are not
    // ranked here, so score adds no order of its own.
    if (field === 'score' && ['asc', 'desc'].includes(direction.toLowerCase()) && !extra.length) continue;
    const column = field ? SORT_COLUMNS[field] : undefined;
    const dir = direction.toLowerCase();
    if (!column || (dir !== 'asc' && dir !== 'desc') || extra.length) {
      throw new ValidationError('search parameters are invalid', { sort: [`cannot sort by "${part}"; use one of ${Object.keys(SORT_COLUMNS).join(', ')} (or score) with asc or desc`] });
    }
    clauses.push(`${column} ${dir.toUpperCase()}`);
  }
  if (!clauses.length) clauses.push('d.modified_at DESC');
  clauses.push('d.id ASC');
  return clauses.join(', ');
}

/** What decides which datasets a searcher sees. */
interface Viewer {
  /** Sysadmins and the system see every dataset. */
  everything: boolean;
  /** Roles by organisation id (empty for anonymous callers and for `everything`). */
  memberships: ReadonlyMap<string, string>;
}

/** Whether the viewer sees a dataset row in one of `states`: the rule of DatasetSearch.visibility, for one row. */
function sees({ everything, memberships }: Viewer, states: string[], includePrivate: boolean, row: DatasetReadRow): boolean {
  if (!states.includes(row.state) || (!includePrivate && Boolean(row.private))) return false;
  if (everything || (row.state === 'active' && !row.private)) return true;
  const role = memberships.get(row.ownerOrgId);
  return role !== undefined && (row.state !== 'deleted' || role !== 'member');
}

/** Runs searches. */
export class DatasetSearch {
  constructor(
    private readonly db: Database,
    private readonly organizations: OrganizationService,
    /** Where counts are kept between searches; without it every search counts. */
    private readonly cache?: ReadCache,
    /** Reads a dataset row by id with its organisation and resources (see search). */
    private readonly readById?: (id: string) => Promise<DatasetReadRow | undefined>,
  ) {}

  /** The datasets of one page (with organisations and resources), and the total count. */
  async search(query: SearchQuery, actor: Actor, transaction?: Transaction): Promise<{ count: number; datasets: DatasetRead[] }> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const words = searchWords(query.q).slice(0, 16);
    if (words.length) {
      if (this.db.dialect === 'postgres') {
        where.push(`d.search_vector @@ to_tsquery('simple', :tsquery)`);
        params.tsquery = words.map((w) => `${w}:*`).join(' & ');
      } else {
        words.forEach((word, i) => {
          where.push(`(' ' || d.search_text) LIKE :w${i} ESCAPE '\\'`);
          params[`w${i}`] = `% ${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        });
      }
    }
    let state: string | undefined;
    const filters = parseFilterQuery(query.fq);
    // Organisation filters name an organisation; resolve it to its id first, so the page and
    // count queries filter on a value (planned and run in half the time of a subquery).
    const orgIds = await Promise.all(filters.map((f) => (f.field === 'organization' || f.field === 'owner_org' ? this.organizationIds(f.value, f.field === 'owner_org', transaction) : undefined)));
    filters.forEach((filter, i) => {
      const key = `f${i}`;
      params[key] = filter.value;
      switch (filter.field) {
        case 'res_extras': {
          // A resource of the dataset whose metadata has KEY equal to VALUE (compared as text).
          params[`${key}k`] = this.db.dialect === 'postgres' ? filter.key : `$."${filter.key}"`;
          const value = this.db.dialect === 'postgres' ? `r.metadata ->> :${key}k` : `CAST(json_extract(r.metadata, :${key}k) AS TEXT)`;
          where.push(`EXISTS (SELECT 1 FROM resources r WHERE r.dataset_id = d.id AND r.state <> 'deleted' AND ${value} = :${key})`);
          break;
        }
        case 'organization':
        case 'owner_org': {
          const ids = orgIds[i]!;
          if (ids.length) {
            where.push(`d.owner_org_id IN (:${key})`);
            params[key] = ids;
          } else where.push('1 = 0');
          break;
        }
        case 'type':
        case 'dataset_type':
          where.push(`d.type = :${key}`);
          break;
        case 'private':
          where.push(`d.private = :${key}`);
          params[key] = filter.value === 'true';
          break;
        case 'state':
          if (!['active', 'draft', 'deleted'].includes(filter.value)) throw new ValidationError('search parameters are invalid', { fq: [`state must be active, draft or deleted, not "${filter.value}"`] });
          state = filter.value;
          break;
      }
    });
    if (!query.includePrivate) {
      where.push('d.private = :excludePrivate');
      params.excludePrivate = false;
    }
    const states = state ? [state] : query.includeDrafts ? ['active', 'draft'] : ['active'];
    const viewer = await this.viewerOf(actor);
    where.push(this.visibility(viewer, states, params));
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    // The exact count is the costly part of a search (PostgreSQL counts 30,000 matches of a
    // common word in ~40 ms; the page itself takes 0.1 ms), so outside a transaction it is
    // kept in the read cache under its SQL and parameters: callers who see the same
    // datasets share it, and every write to datasets empties it (in every process on
    // PostgreSQL), as for the cached anonymous results.
    const countSql = `SELECT COUNT(*) AS count FROM datasets d ${clause}`;
    const countQuery = async (): Promise<number> => {
      const [row] = await this.db.sequelize.query<{ count: string | number }>(countSql, { replacements: params, type: QueryTypes.SELECT, transaction });
      return Number(row?.count ?? 0);
    };
    const count = this.cache && !transaction ? await this.cache.load(`count:${countSql}\u0000${JSON.stringify(params)}`, countQuery) : await countQuery();
    if (query.rows === 0 || query.start >= count) return { count, datasets: [] };
    const sort = parseSort(query.sort);
    if (this.readById && this.db.dialect === 'postgres' && !transaction) {
      // PostgreSQL plans the joined page read (organisations, resources as JSON) on every
      // search, in several times the time it takes to run it. Instead the page's ids come from
      // a statement that is cheap to plan, and the rows from the prepared read package_show
      // uses, shared with the reads that arrive at the same time. The second read may see a
      // later state: a dataset deleted or hidden in between is left out.
      const ids = await this.db.sequelize.query<{ id: string }>(`SELECT d.id FROM datasets d ${clause} ORDER BY ${sort} LIMIT ${query.rows} OFFSET ${query.start}`, {
        replacements: params,
        type: QueryTypes.SELECT,
      });
      const rows = await Promise.all(ids.map(({ id }) => this.readById!(String(id))));
      const seen = rows.filter((row): row is DatasetReadRow => row !== undefined && sees(viewer, states, query.includePrivate, row));
      return { count, datasets: seen.map(toDatasetRead) };
    }
    // One round trip for the page, its organisations and resources.
    const inner = `SELECT d.* FROM datasets d ${clause} ORDER BY ${sort} LIMIT ${query.rows} OFFSET ${query.start}`;
    const rows = await this.db.sequelize.query<DatasetReadRow>(datasetReadSql(this.db.dialect, inner, sort.replaceAll('d.', 'p.')), { replacements: params, type: QueryTypes.SELECT, transaction });
    return { count, datasets: rows.map(toDatasetRead) };
  }

  /**
   * Ids of the organisations a filter value names (by name, or with `alsoId` by name or id),
   * whatever their state, as the filter always matched. Found ids are kept in the read cache
   * (names do not change; a miss is asked again, so an organisation created later is found).
   */
  private async organizationIds(value: string, alsoId: boolean, transaction?: Transaction): Promise<string[]> {
    const lookup = async (): Promise<string[]> => {
      const rows = await this.db.preparedRead<{ id: string }>(
        alsoId ? 'SELECT id FROM organizations WHERE name = $1 OR CAST(id AS TEXT) = $1' : 'SELECT id FROM organizations WHERE name = $1',
        [value], transaction,
      );
      return rows.map((r) => String(r.id));
    };
    if (!this.cache || transaction) return lookup();
    const key = `org-ids:${alsoId ? 'name-or-id' : 'name'}:${value}`;
    const cached = this.cache.get<string[]>(key);
    if (cached) return cached;
    const generation = this.cache.current();
    const ids = await lookup();
    if (ids.length) this.cache.set(key, ids, generation);
    return ids;
  }

  /** Who the actor is for visibility: everything, or public datasets and those of its organisations. */
  private async viewerOf(actor: Actor): Promise<Viewer> {
    const everything = actor.kind === 'system' || (actor.kind === 'user' && actor.user.sysadmin);
    const memberships: ReadonlyMap<string, string> = actor.kind === 'user' && !everything ? (actor.memberships ?? (await this.organizations.membershipsOf(actor.user.id))) : new Map<string, string>();
    return { everything, memberships };
  }

  /**
   * The SQL condition for datasets in `states` that the actor may see: public active
   * datasets for everyone; drafts, private and deleted datasets only for their
   * organisation (deleted: editors and admins); everything for sysadmins.
   */
  private visibility({ everything, memberships }: Viewer, states: string[], params: Record<string, unknown>): string {
    params.publicFalse = false;
    const clauses = states.map((state, i) => {
      params[`state${i}`] = state;
      if (everything) return `d.state = :state${i}`;
      const orgs = [...memberships].filter(([, role]) => state !== 'deleted' || role !== 'member').map(([id]) => id);
      const seen = [state === 'active' ? 'd.private = :publicFalse' : '1 = 0'];
      if (orgs.length) {
        seen.push(`d.owner_org_id IN (:visibleOrgs${i})`);
        params[`visibleOrgs${i}`] = orgs;
      }
      return `(d.state = :state${i} AND (${seen.join(' OR ')}))`;
    });
    return `(${clauses.join(' OR ')})`;
  }
}
