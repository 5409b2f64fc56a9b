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
import { NO_FACETS, countWithFacets, parseFacetQuery, type FacetAnswer, type FacetQuery } from './search-facets.js';
import { DATE_FIELDS, FQ_FIELDS, invalid, parseFilterQuery, solrDate, type FilterTerm } from './search-filter-query.js';

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
  /** facet.field, facet.limit, facet.mincount; undefined when no facet is asked for. */
  facets?: FacetQuery;
}

/** The resource metadata keys of `[search] facet_resource_keys` (comma-separated; keys may hold spaces). */
export function facetResourceKeys(value: string): Set<string> {
  return new Set(value.split(',').map((key) => key.trim()).filter(Boolean));
}

export const MAX_ROWS = 1000;
/** Searches matching more datasets than this are not ranked (see search). */
export const RANK_LIMIT = 5000;
/** A faceted search on PostgreSQL with at most this many matches also reads their ids (see search). */
const MATCH_IDS_LIMIT = 2000;
const SORT_COLUMNS: Record<string, string> = {
  name: 'd.name',
  title: 'd.title',
  metadata_modified: 'd.modified_at',
  metadata_created: 'd.created_at',
};
/** fq fields that are columns of datasets. */
const COLUMN_FIELDS: Record<string, string> = { type: 'd.type', dataset_type: 'd.type', name: 'd.name', title: 'd.title', license_id: "COALESCE(d.license_id, '')", id: 'CAST(d.id AS TEXT)' };

/** Checks and defaults search parameters (given as strings on GET or typed in JSON). */
export function parseSearchQuery(input: Record<string, unknown>, resourceKeys: ReadonlySet<string> = new Set()): SearchQuery {
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
  const known = new Set(['q', 'fq', 'rows', 'start', 'sort', 'include_private', 'include_drafts', 'facet', 'facet.field', 'facet.limit', 'facet.mincount']);
  for (const key of Object.keys(input)) if (!known.has(key)) fields[key] = ['unknown parameter; use q, fq, rows, start, sort, include_private, include_drafts, facet.field, facet.limit or facet.mincount'];
  let facets: FacetQuery | undefined;
  try {
    facets = parseFacetQuery(input, resourceKeys);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    Object.assign(fields, error.fields);
  }
  // CKAN passes q to Solr, so `q=tags:blood` filters: field terms of q join fq, words stay.
  const { words: qWords, terms: qTerms } = splitFieldTerms(str('q'));
  const fq = [str('fq'), ...qTerms].filter(Boolean).join(' ');
  const query: SearchQuery = {
    q: qWords, fq, rows: int('rows', 10, 0, MAX_ROWS), start: int('start', 0, 0, 1_000_000), sort: str('sort') || 'score desc, metadata_modified desc',
    includePrivate: bool('include_private', true), includeDrafts: bool('include_drafts', false),
    ...(facets ? { facets } : {}),
  };
  if (Object.keys(fields).length) throw new ValidationError('search parameters are invalid', fields);
  return query;
}

/** Splits `q` into its words and its `field:value` terms on fields fq knows (others stay words). */
export function splitFieldTerms(q: string): { words: string; terms: string[] } {
  const terms: string[] = [];
  const words = q.replace(/[+-]?"res_extras_[^"]+"|[+-]?(res_extras_\S+?|[a-z_]+):("[^"]*"|\([^)]*\)|[[{][^\]}]*[\]}]|\S+)/g, (term: string, field: string | undefined) => {
    if (field !== undefined && !field.startsWith('res_extras_') && !FQ_FIELDS.includes(field)) return term;
    terms.push(term);
    return ' ';
  });
  return { words: words.replace(/(^|\s)(AND|OR)(?=\s|$)/g, ' ').trim(), terms };
}

/** Stands in a parsed sort for the relevance expression, which depends on the dialect and on q. */
const SCORE = '__score__';

/**
 * The ORDER BY of a sort parameter. `score` (CKAN's default "score desc, metadata_modified
 * desc") orders by relevance when `q` has words and adds nothing otherwise (every dataset
 * scores alike, as in CKAN); it appears as SCORE for the caller to replace.
 */
function parseSort(sort: string, ranked: boolean): string {
  const parts = sort.split(',').map((p) => p.trim()).filter(Boolean);
  const clauses: string[] = [];
  for (const part of parts) {
    const [field, direction = 'asc', ...extra] = part.split(/\s+/);
    const dir = direction.toLowerCase();
    if (field === 'score' && (dir === 'asc' || dir === 'desc') && !extra.length) {
      if (ranked) clauses.push(`${SCORE} ${dir.toUpperCase()}`);
      continue;
    }
    const column = field ? SORT_COLUMNS[field] : undefined;
    if (!column || (dir !== 'asc' && dir !== 'desc') || extra.length) {
      throw new ValidationError('search parameters are invalid', { sort: [`cannot sort by "${part}"; use one of ${Object.keys(SORT_COLUMNS).join(', ')} (or score) with asc or desc`] });
    }
    clauses.push(`${column} ${dir.toUpperCase()}`);
  }
  if (!clauses.length) clauses.push('d.modified_at DESC');
  clauses.push('d.id ASC');
  return clauses.join(', ');
}

/** SQL for `column` within a range; the ends become parameters `KEYfrom` and `KEYto`. */
function rangeCondition<T>(column: string, range: NonNullable<FilterTerm['range']>, key: string, params: Record<string, unknown>, convert: (value: string) => T): string {
  const parts: string[] = [];
  if (range.from !== undefined) {
    params[`${key}from`] = convert(range.from);
    parts.push(`${column} ${range.inclusive ? '>=' : '>'} :${key}from`);
  }
  if (range.to !== undefined) {
    params[`${key}to`] = convert(range.to);
    parts.push(`${column} ${range.inclusive ? '<=' : '<'} :${key}to`);
  }
  return parts.length ? `(${parts.join(' AND ')})` : `${column} IS NOT NULL`;
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
    /** Searches matching more datasets than this are not ranked. */
    private readonly rankLimit = RANK_LIMIT,
  ) {}

  /** The datasets of one page (with organisations and resources), and the total count. */
  async search(query: SearchQuery, actor: Actor, transaction?: Transaction): Promise<{ count: number; datasets: DatasetRead[]; facets: FacetAnswer }> {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    const words = searchWords(query.q).slice(0, 16);
    // The datasets searched, and how well each matches `q` (higher is better).
    let from = 'datasets d';
    let score: string | undefined;
    if (words.length) {
      if (this.db.dialect === 'postgres') {
        where.push(`d.search_vector @@ to_tsquery('simple', :tsquery)`);
        params.tsquery = words.map((w) => `${w}:*`).join(' & ');
        // Normalised by the log of the document's length (1): a word in a short title counts more than in long notes.
        score = `ts_rank(d.search_vector, to_tsquery('simple', :tsquery), 1)`;
      } else {
        // FTS5 (migration 0005): every word must start a word of the text; bm25 is lower for better matches.
        from = `datasets d JOIN (SELECT id AS fts_id, bm25(datasets_fts) AS fts_rank FROM datasets_fts WHERE datasets_fts MATCH :fts) f ON f.fts_id = d.id`;
        params.fts = words.map((w) => `"${w}"*`).join(' ');
        score = '(-f.fts_rank)';
      }
    }
    let state: string | undefined;
    const filters = parseFilterQuery(query.fq);
    // Organisation filters name an organisation; resolve it to its id first, so the page and
    // count queries filter on a value (planned and run in half the time of a subquery).
    const orgIds = await Promise.all(
      filters.map(async (f) => (f.field === 'organization' || f.field === 'owner_org' ? (await Promise.all(f.values.map((v) => this.organizationIds(v, f.field === 'owner_org', transaction)))).flat() : undefined)),
    );
    const postgres = this.db.dialect === 'postgres';
    filters.forEach((filter, i) => {
      const key = `f${i}`;
      params[key] = filter.values;
      let condition: string;
      switch (filter.field) {
        case 'res_extras': {
          params[`${key}k`] = postgres ? filter.key : `$."${filter.key}"`;
          let test: string;
          if (filter.range) {
            // A numeric range over metadata values that are JSON numbers (others never match).
            const number = postgres
              ? `CASE WHEN jsonb_typeof(r.metadata -> :${key}k) = 'number' THEN (r.metadata ->> :${key}k)::double precision END`
              : `CASE WHEN json_type(r.metadata, :${key}k) IN ('integer', 'real') THEN json_extract(r.metadata, :${key}k) END`;
            test = rangeCondition(number, filter.range, key, params, (v) => {
              const n = Number(v);
              if (!Number.isFinite(n)) invalid(`"${v.slice(0, 40)}" is not a number; resource metadata ranges compare numbers`);
              return n;
            });
          } else {
            // A resource of the dataset whose metadata has KEY equal to a VALUE (compared as text).
            const value = postgres ? `r.metadata ->> :${key}k` : `CAST(json_extract(r.metadata, :${key}k) AS TEXT)`;
            test = `${value} IN (:${key})`;
          }
          condition = `EXISTS (SELECT 1 FROM resources r WHERE r.dataset_id = d.id AND r.state <> 'deleted' AND ${test})`;
          break;
        }
        case 'metadata_modified':
        case 'metadata_created':
          if (!filter.range) invalid(`${filter.field} takes a range, e.g. ${filter.field}:[2026-01-01T00:00:00Z TO NOW]`);
          condition = rangeCondition(DATE_FIELDS[filter.field]!, filter.range!, key, params, solrDate);
          break;
        case 'res_format':
          condition = `EXISTS (SELECT 1 FROM resources r WHERE r.dataset_id = d.id AND r.state <> 'deleted' AND r.format IN (:${key}))`;
          break;
        case 'tags':
          condition = postgres
            ? `EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.tags) AS t(value) WHERE t.value IN (:${key}))`
            : `EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE t.value IN (:${key}))`;
          break;
        case 'organization':
        case 'owner_org': {
          const ids = orgIds[i]!;
          params[key] = ids;
          condition = ids.length ? `d.owner_org_id IN (:${key})` : '1 = 0';
          break;
        }
        case 'private':
          if (filter.values.length !== 1 || !['true', 'false'].includes(filter.value)) invalid(`private must be true or false, not "${filter.values.join(' OR ')}"`);
          params[key] = filter.value === 'true';
          condition = `d.private = :${key}`;
          break;
        case 'state':
          if (filter.negate || filter.values.length !== 1 || !['active', 'draft', 'deleted'].includes(filter.value)) invalid(`state takes one of active, draft or deleted (state:draft), not "${filter.values.join(' OR ')}"`);
          state = filter.value;
          return;
        default:
          condition = `${COLUMN_FIELDS[filter.field]!} IN (:${key})`;
      }
      where.push(filter.negate ? `NOT (${condition})` : condition);
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
    const countSql = `SELECT COUNT(*) AS count FROM ${from} ${clause}`;
    const countQuery = async (): Promise<number> => {
      const [row] = await this.db.sequelize.query<{ count: string | number }>(countSql, { replacements: params, type: QueryTypes.SELECT, transaction });
      return Number(row?.count ?? 0);
    };
    let count: number;
    let facets = NO_FACETS;
    let matchIds: string[] | undefined;
    if (query.facets) {
      // The matches are read once; the count and every facet come from them in one statement,
      // and on PostgreSQL, when q has words and the matches are few, their ids too, so that
      // ranking them (below) need not search the word index a second time.
      const facetQuery = query.facets;
      const idsUpTo = postgres && score !== undefined && this.readById && !transaction ? Math.min(this.rankLimit, MATCH_IDS_LIMIT) : undefined;
      const load = () => countWithFacets(this.db, from, clause, params, facetQuery, transaction, idsUpTo);
      ({ count, facets, matchIds } = this.cache && !transaction ? await this.cache.load(`facets:${from}${clause}\u0000${JSON.stringify(params)}\u0000${JSON.stringify(facetQuery)}\u0000${idsUpTo ?? ''}`, load) : await load());
    } else {
      count = this.cache && !transaction ? await this.cache.load(`count:${countSql}\u0000${JSON.stringify(params)}`, countQuery) : await countQuery();
    }
    if (query.rows === 0 || query.start >= count) return { count, datasets: [], facets };
    // Ranking reads and scores every match before the first page: cheap for a few thousand,
    // half a second for a word in a third of 100,000 datasets (where the unranked page comes
    // straight from an index in 0.2 ms). Past RANK_LIMIT matches, score adds no order and the
    // rest of the sort (CKAN's default: metadata_modified desc) decides; more words rank.
    const sort = parseSort(query.sort, score !== undefined && count <= this.rankLimit);
    const order = score ? sort.replaceAll(SCORE, score) : sort;
    if (this.readById && !transaction) {
      // The page's ids come from a statement that is cheap to plan (PostgreSQL planned the
      // joined page read, organisations and resources as JSON, on every search in several
      // times the time it takes to run it), and the rows from the prepared read package_show
      // uses, shared with the reads that arrive at the same time. The ids are kept in the read
      // cache beside the count, under the same SQL and parameters (so per visibility) and the
      // page asked for: ranking a word's matches reads every match through the word index (a
      // GIN prefix scan of 38,000 entries for a common word over 100,000 datasets), which a
      // repeated search need not do again; every write to datasets empties it. The rows are
      // read fresh, so the second read may see a later state: a dataset deleted or hidden in
      // between is left out.
      const page = `ORDER BY ${order} LIMIT ${query.rows} OFFSET ${query.start}`;
      // Known matches (see above) are ranked by their keys; the order only reads their rows.
      const ranked = matchIds !== undefined && matchIds.length > 0 && score !== undefined && count <= this.rankLimit;
      const [idsSql, replacements] = ranked
        ? [`SELECT d.id FROM datasets d WHERE d.id = ANY(CAST(ARRAY[:matchIds] AS uuid[])) ${page}`, { tsquery: params.tsquery, matchIds }]
        : [`SELECT d.id FROM ${from} ${clause} ${page}`, params];
      const readIds = async (): Promise<string[]> =>
        (await this.db.sequelize.query<{ id: string }>(idsSql, { replacements, type: QueryTypes.SELECT })).map(({ id }) => String(id));
      const ids = this.cache ? await this.cache.load(`page:${from}${clause}\u0000${page}\u0000${JSON.stringify(params)}`, readIds) : await readIds();
      const rows = await Promise.all(ids.map((id) => this.readById!(id)));
      const seen = rows.filter((row): row is DatasetReadRow => row !== undefined && sees(viewer, states, query.includePrivate, row));
      return { count, datasets: seen.map(toDatasetRead), facets };
    }
    // One round trip for the page, its organisations and resources.
    const inner = `SELECT d.*${score ? `, ${score} AS score` : ''} FROM ${from} ${clause} ORDER BY ${order} LIMIT ${query.rows} OFFSET ${query.start}`;
    const outer = sort.replaceAll('d.', 'p.').replaceAll(SCORE, 'p.score');
    const rows = await this.db.sequelize.query<DatasetReadRow>(datasetReadSql(this.db.dialect, inner, outer), { replacements: params, type: QueryTypes.SELECT, transaction });
    return { count, datasets: rows.map(toDatasetRead), facets };
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
