// The search page: free text, facets (when the search answers them), sort, paging and counts,
// all in the URL so that a search can be shared. It reads through package_search.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import { isPlatformError } from '../../errors.js';

/** The default of `[web] facets`: facets asked for, in the order shown; a filter on one is `<field>=<value>` in the URL. */
export const DEFAULT_FACETS = 'organization, tags, res_format, license_id';
const FACET_TITLES: Record<string, string> = { organization: 'Organisations', tags: 'Tags', res_format: 'Formats', license_id: 'Licenses' };

/** `[web] facets` as a list: comma-separated, so resource metadata keys may hold spaces. */
export function facetFields(setting: string): string[] {
  return [...new Set(setting.split(',').map((f) => f.trim()).filter(Boolean))];
}

/** A facet's heading: its known title, or the last part of a metadata key (`res_extras_dc:setup:channel width` is "channel width"). */
function facetTitle(field: string, answered: string | undefined): string {
  if (answered && answered !== field) return answered;
  return FACET_TITLES[field] ?? field.replace(/^res_extras_/, '').split(':').at(-1)!;
}

/** One filter as `fq` writes it; resource metadata terms are quoted whole, as package_search reads them. */
function filterTerm(field: string, value: string): string {
  return field.startsWith('res_extras_') ? `"${field}:${value}"` : `${field}:"${value}"`;
}
const PAGE_SIZE = 20;
const SORTS: Array<[string, string]> = [
  ['score desc, metadata_modified desc', 'Relevance'], ['metadata_modified desc', 'Last modified'], ['metadata_created desc', 'Newest'],
  ['title asc', 'Title'], ['name asc', 'Name'],
];

interface FacetItem { name: string; display_name?: string; count: number }
interface SearchAnswer {
  count: number;
  results: Array<{ name: string; title?: string; notes?: string; private?: boolean; state?: string; organization?: { title?: string; name?: string } | null; num_resources?: number; tags?: Array<{ name: string }> }>;
  search_facets?: Record<string, { title?: string; items: FacetItem[] }>;
}

/** Renders the search page for the request's query. */
export async function searchPage(c: Context<AppEnv>, kit: CoreWebKit, FACET_FIELDS: readonly string[]): Promise<Response> {
  const url = new URL(c.req.url);
  const q = (url.searchParams.get('q') ?? '').slice(0, 500);
  const sort = SORTS.some(([value]) => value === url.searchParams.get('sort')) ? url.searchParams.get('sort')! : SORTS[0]![0];
  const page = Math.max(1, Math.min(50_000, Number.parseInt(url.searchParams.get('page') ?? '1', 10) || 1));
  const filters: Array<[string, string]> = [];
  // A value with a quote (or, in resource metadata, a colon) cannot be written as a filter term.
  const writable = (field: string, value: string): boolean => value.length > 0 && value.length <= 200 && !value.includes('"') && !(field.startsWith('res_extras_') && value.includes(':'));
  for (const field of FACET_FIELDS) for (const value of url.searchParams.getAll(field)) if (writable(field, value)) filters.push([field, value]);
  const input = {
    q, sort, rows: PAGE_SIZE, start: (page - 1) * PAGE_SIZE,
    fq: filters.map(([field, value]) => filterTerm(field, value)).join(' '),
    'facet.field': JSON.stringify(FACET_FIELDS),
  };
  let answer: SearchAnswer;
  try {
    answer = await kit.run<SearchAnswer>(c, 'package_search', input);
  } catch (error) {
    if (!isPlatformError(error) || error.status >= 500) throw error;
    const fields = Object.entries(error.fields).map(([field, messages]) => `${field}: ${messages.join(', ')}`).join('; ');
    return kit.page(c, 'Datasets', <div>
      <SearchForm q={q} sort={sort} filters={filters} />
      <p class="notice error" role="alert">This search cannot run: {error.message}{fields ? ` (${fields})` : ''}</p>
    </div>, { status: 400 });
  }
  const link = (changes: Record<string, string | undefined>, drop?: [string, string]): string => {
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    if (sort !== SORTS[0]![0]) params.set('sort', sort);
    for (const [field, value] of filters) if (!(drop && drop[0] === field && drop[1] === value)) params.append(field, value);
    for (const [key, value] of Object.entries(changes)) if (value === undefined) params.delete(key); else if (key === 'page') params.set(key, value); else params.append(key, value);
    const text = params.toString();
    return text ? `/dataset?${text}` : '/dataset';
  };
  const pages = Math.max(1, Math.ceil(answer.count / PAGE_SIZE));
  const facets = answer.search_facets ?? {};
  return kit.page(c, 'Datasets', <div class="layout">
    <aside class="facets" aria-label="Filters">
      {filters.length > 0 && <section>
        <h2 class="h3">Filtered by</h2>
        <ul>{filters.map(([field, value]) => <li><a href={link({}, [field, value])} aria-label={`Remove filter ${facetTitle(field, undefined)}: ${value}`}>✕ {value}</a></li>)}</ul>
      </section>}
      {FACET_FIELDS.filter((field) => facets[field]?.items?.length).map((field) => (
        <section>
          <h3>{facetTitle(field, facets[field]!.title)}</h3>
          <ul>
            {facets[field]!.items.map((item) => {
              const active = filters.some(([f, v]) => f === field && v === item.name);
              return <li>{active ? <strong>{item.display_name ?? item.name} ({item.count})</strong> : <a href={link({ [field]: item.name, page: undefined })}>{item.display_name ?? item.name} ({item.count})</a>}</li>;
            })}
          </ul>
        </section>
      ))}
    </aside>
    <section class="results" aria-label="Results">
      <SearchForm q={q} sort={sort} filters={filters} />
      <p role="status">{answer.count === 1 ? '1 dataset found' : `${answer.count} datasets found`}</p>
      <ol>
        {answer.results.map((d) => (
          <li>
            <h2 class="h3"><a href={`/dataset/${encodeURIComponent(d.name)}`}>{d.title || d.name}</a></h2>
            <p class="muted">
              {d.organization?.title || d.organization?.name || ''}{d.private ? ' · private' : ''}{d.state && d.state !== 'active' ? ` · ${d.state}` : ''} · {d.num_resources ?? 0} files
            </p>
            {d.notes && <p>{d.notes.length > 240 ? `${d.notes.slice(0, 240)}…` : d.notes}</p>}
          </li>
        ))}
      </ol>
      {pages > 1 && <nav class="pager" aria-label="Pages">
        {page > 1 && <a href={link({ page: String(page - 1) })} rel="prev">Previous</a>}
        <span>Page {page} of {pages}</span>
        {page < pages && <a href={link({ page: String(page + 1) })} rel="next">Next</a>}
      </nav>}
    </section>
  </div>);
}

function SearchForm(props: { q: string; sort: string; filters: Array<[string, string]> }) {
  return (
    <form method="get" action="/dataset" role="search">
      <label for="q">Search datasets</label>
      <input type="search" id="q" name="q" value={props.q} />
      {props.filters.map(([field, value]) => <input type="hidden" name={field} value={value} />)}
      <label for="sort">Sort by</label>
      <select id="sort" name="sort">
        {SORTS.map(([value, label]) => <option value={value} selected={value === props.sort}>{label}</option>)}
      </select>
      <p><button type="submit">Search</button></p>
    </form>
  );
}
