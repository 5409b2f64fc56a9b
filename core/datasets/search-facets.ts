// package_search facets as CKAN answers them (ckan/logic/action/get.py package_search):
// `facets: {field: {value: count}}` and `search_facets: {field: {title, items: [{name,
// display_name, count}]}}`, items sorted by display_name in reverse as CKAN sorts them.
// Every facet is counted in one statement over the search's matches, read once (a CTE),
// so the facets always agree with the count and with what the caller may see.
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import { ValidationError } from '../errors.js';

/** Facet fields core counts itself; resource metadata keys come as `res_extras_KEY`. */
export const CORE_FACET_FIELDS = ['organization', 'groups', 'tags', 'license_id', 'res_format', 'type', 'dataset_type'] as const;

/** A parsed facet request. */
export interface FacetQuery {
  fields: string[];
  /** CKAN's facet.limit: values per field, most frequent first; -1 for all. */
  limit: number;
  /** CKAN's facet.mincount: values matching fewer datasets are left out. */
  mincount: number;
}

/** One value of a facet in CKAN's search_facets. */
export interface FacetItem {
  name: string;
  display_name: string;
  count: number;
}

/** CKAN's two facet answers. */
export interface FacetAnswer {
  facets: Record<string, Record<string, number>>;
  search_facets: Record<string, { title: string; items: FacetItem[] }>;
}

const fail = (message: string): never => {
  throw new ValidationError('search parameters are invalid', { 'facet.field': [message] });
};

/**
 * Reads facet.field (a JSON list, as a string on GET or a list in a JSON body), facet.limit
 * (default 50) and facet.mincount (default 1). `resourceKeys` are the resource metadata
 * keys the operator made facetable (`[search] facet_resource_keys`).
 * @throws ValidationError naming the field that cannot be faceted
 */
export function parseFacetQuery(input: Record<string, unknown>, resourceKeys: ReadonlySet<string>): FacetQuery | undefined {
  const raw = input['facet.field'];
  if (raw === undefined || raw === '' || input.facet === 'false' || input.facet === false) return undefined;
  let fields: unknown = raw;
  if (typeof raw === 'string') {
    try {
      fields = JSON.parse(raw);
    } catch {
      fail(`must be a JSON list of field names, e.g. ["organization", "tags"], not ${JSON.stringify(raw.slice(0, 100))}`);
    }
  }
  if (!Array.isArray(fields) || !fields.every((f): f is string => typeof f === 'string')) return fail('must be a list of field names');
  if (fields.length > 20) fail(`asks for ${fields.length} facets; the limit is 20`);
  for (const field of fields) {
    if ((CORE_FACET_FIELDS as readonly string[]).includes(field)) continue;
    if (field.startsWith('res_extras_') && resourceKeys.has(field.slice('res_extras_'.length))) continue;
    const keys = [...resourceKeys].map((k) => `res_extras_${k}`);
    fail(`cannot facet on "${field.slice(0, 100)}"; use ${[...CORE_FACET_FIELDS, ...keys].join(', ')}${keys.length ? '' : ' (resource metadata keys become facets when listed in [search] facet_resource_keys)'}`);
  }
  const int = (key: string, fallback: number, min: number): number => {
    const value = input[key];
    if (value === undefined || value === '') return fallback;
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min) throw new ValidationError('search parameters are invalid', { [key]: [`must be a whole number of at least ${min}`] });
    return n;
  };
  const limit = int('facet.limit', 50, -1);
  return { fields: [...new Set(fields)], limit: limit === 0 ? 0 : limit, mincount: int('facet.mincount', 1, 0) };
}

/** The SQL giving (value, label, count) of one facet over the matches `m`. */
function facetSelect(field: string, dialect: 'sqlite' | 'postgres', params: Record<string, unknown>, i: number): string | undefined {
  const postgres = dialect === 'postgres';
  switch (field) {
    case 'organization':
      return `SELECT o.name AS value, MAX(o.title) AS label, COUNT(*) AS n FROM m JOIN organizations o ON o.id = m.owner_org_id GROUP BY o.name`;
    case 'license_id':
      return `SELECT m.license_id AS value, NULL AS label, COUNT(*) AS n FROM m WHERE m.license_id IS NOT NULL AND m.license_id <> '' GROUP BY m.license_id`;
    case 'type':
    case 'dataset_type':
      return `SELECT m.type AS value, NULL AS label, COUNT(*) AS n FROM m GROUP BY m.type`;
    case 'tags':
      return postgres
        ? `SELECT t.value AS value, NULL AS label, COUNT(*) AS n FROM m CROSS JOIN LATERAL jsonb_array_elements_text(m.tags) t(value) GROUP BY t.value`
        : `SELECT t.value AS value, NULL AS label, COUNT(*) AS n FROM m, json_each(m.tags) t GROUP BY t.value`;
    case 'res_format':
      return `SELECT r.format AS value, NULL AS label, COUNT(DISTINCT m.id) AS n FROM m JOIN resources r ON r.dataset_id = m.id WHERE r.state <> 'deleted' AND r.format <> '' GROUP BY r.format`;
    case 'groups':
      return undefined; // no groups in this platform: always an empty facet
    default: {
      const key = field.slice('res_extras_'.length);
      params[`facetKey${i}`] = postgres ? key : `$."${key}"`;
      const value = postgres ? `r.metadata ->> :facetKey${i}` : `CAST(json_extract(r.metadata, :facetKey${i}) AS TEXT)`;
      return `SELECT ${value} AS value, NULL AS label, COUNT(DISTINCT m.id) AS n FROM m JOIN resources r ON r.dataset_id = m.id WHERE r.state <> 'deleted' AND ${value} IS NOT NULL GROUP BY ${value}`;
    }
  }
}

/**
 * Counts the matches and their facets in one statement: the datasets `clause` selects
 * (already limited to what the caller may see) are read once into `m`.
 * @param from the FROM of the search (`datasets d`, with the word index joined when q has words)
 * @param clause the WHERE clause of the search over `d`, or ''
 * @param matchIdsUpTo when given, the answer also holds the ids of every match (`matchIds`) if
 *   there are at most this many (PostgreSQL only: the ids are read as text)
 */
export async function countWithFacets(
  db: Database, from: string, clause: string, params: Record<string, unknown>, query: FacetQuery, transaction?: Transaction, matchIdsUpTo?: number,
): Promise<{ count: number; facets: FacetAnswer; matchIds?: string[] }> {
  const p: Record<string, unknown> = { ...params, mincount: query.mincount };
  const parts = [`SELECT 0 AS f, NULL AS value, NULL AS label, COUNT(*) AS n FROM m`];
  if (matchIdsUpTo !== undefined) {
    // The ids of the matches too, when there are few, read from the same pass over them.
    p.matchIdsUpTo = matchIdsUpTo;
    parts.push(`SELECT -1 AS f, CAST(m.id AS TEXT) AS value, NULL AS label, 0 AS n FROM m WHERE (SELECT COUNT(*) FROM m) <= :matchIdsUpTo`);
  }
  query.fields.forEach((field, i) => {
    const select = facetSelect(field, db.dialect, p, i);
    if (select) parts.push(`SELECT ${i + 1} AS f, value, label, n FROM (${select}) g${i} WHERE n >= :mincount`);
  });
  const materialized = db.dialect === 'postgres' ? 'MATERIALIZED ' : '';
  const sql = `WITH m AS ${materialized}(SELECT d.id, d.owner_org_id, d.license_id, d.type, d.tags FROM ${from} ${clause}) ${parts.join(' UNION ALL ')}`;
  const rows = await db.sequelize.query<{ f: number | string; value: string | null; label: string | null; n: number | string }>(sql, { replacements: p, type: QueryTypes.SELECT, transaction });
  let count = 0;
  const matchIds: string[] = [];
  const grouped = new Map<number, Array<{ value: string; label: string | null; n: number }>>();
  for (const row of rows) {
    const f = Number(row.f);
    if (f === 0) count = Number(row.n);
    else if (f === -1) matchIds.push(String(row.value));
    else if (row.value !== null) (grouped.get(f) ?? grouped.set(f, []).get(f)!).push({ value: String(row.value), label: row.label, n: Number(row.n) });
  }
  const answer: FacetAnswer = { facets: {}, search_facets: {} };
  query.fields.forEach((field, i) => {
    // Solr's order: most frequent first (ties by value), then facet.limit.
    const values = (grouped.get(i + 1) ?? []).sort((a, b) => b.n - a.n || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    const kept = query.limit < 0 ? values : values.slice(0, query.limit);
    answer.facets[field] = Object.fromEntries(kept.map((v) => [v.value, v.n]));
    const items = kept.map((v) => ({ name: v.value, display_name: v.label && v.label.trim() ? v.label : v.value, count: v.n }));
    // CKAN sorts search_facets items by display_name, reverse=True (get.py package_search).
    items.sort((a, b) => (a.display_name < b.display_name ? 1 : a.display_name > b.display_name ? -1 : 0));
    answer.search_facets[field] = { title: field, items };
  });
  return { count, facets: answer, ...(matchIdsUpTo !== undefined && count <= matchIdsUpTo ? { matchIds } : {}) };
}

/** The answer when no facet is asked for. */
export const NO_FACETS: FacetAnswer = { facets: {}, search_facets: {} };
