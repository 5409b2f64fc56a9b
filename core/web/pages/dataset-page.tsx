// The dataset page: what package_show shows this viewer (a private dataset is a 404 to those
// who may not see it, exactly as in the API), its resources with size, sha256, state and
// reasons, extracted metadata grouped by section, downloads, and the plugins' sections.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import type { HookRegistries } from '../../plugins/hook-registries.js';
import type { DatasetSectionInput } from '../../plugins/hooks/web-pages.js';
import { actorUser } from '../../auth/actor.js';

/** The dataset as the page reads it. */
export type DatasetDict = DatasetSectionInput['dataset'] & {
  title?: string; notes?: string; license_id?: string | null; private?: boolean; state?: string;
  organization?: { name: string; title?: string } | null; tags?: Array<{ name: string }>; metadata_modified?: string;
};

/** Core fields of a resource dict; everything else is metadata a schema extracted. */
const RESOURCE_FIELDS = new Set(['id', 'package_id', 'name', 'format', 'description', 'url', 'size', 'sha256', 'state', 'position', 'created', 'last_modified']);

/** `1.5 MB` style sizes, in SI units. */
export function formatBytes(bytes: unknown): string {
  if (typeof bytes !== 'number') return '—';
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** What a state means, in words. */
const STATE_WORDS: Record<string, string> = { uploading: 'uploading', validating: 'being checked', active: 'checked and valid', invalid: 'invalid', deleted: 'deleted' };

/** Problems recorded by the checks, as sentences. */
export function problemsOf(resource: Record<string, unknown>): string[] {
  const out: string[] = [];
  const list = resource['platform:problems'];
  if (Array.isArray(list)) for (const p of list) out.push(String(p));
  if (typeof resource['platform:problem'] === 'string') out.push(resource['platform:problem']);
  return out;
}

/** Metadata keys `prefix:section:key` grouped by `section`; other keys under "Other". */
export function metadataSections(resource: Record<string, unknown>): Array<[string, Array<[string, string]>]> {
  const groups = new Map<string, Array<[string, string]>>();
  for (const [key, value] of Object.entries(resource)) {
    if (RESOURCE_FIELDS.has(key) || key.startsWith('platform:') || value === null || value === undefined) continue;
    const parts = key.split(':');
    const [section, name] = parts.length >= 3 ? [parts[1]!, parts.slice(2).join(':')] : ['other', parts.at(-1)!];
    const text = typeof value === 'object' ? (Array.isArray(value) && value.every((v) => typeof v !== 'object') ? value.join(', ') : undefined) : String(value);
    if (text === undefined) continue; // structured values (statistics) belong to the sections that understand them
    if (!groups.has(section)) groups.set(section, []);
    groups.get(section)!.push([name, text]);
  }
  return [...groups.entries()].sort(([a], [b]) => (a === 'other' ? 1 : b === 'other' ? -1 : a.localeCompare(b)));
}

/** Renders a dataset's page. */
export async function datasetPage(c: Context<AppEnv>, kit: CoreWebKit, registries: HookRegistries, id: string): Promise<Response> {
  const dataset = await kit.run<DatasetDict>(c, 'package_show', { id });
  const user = actorUser(c.get('actor'));
  const sections: Array<{ name: string; order: number; content: Child; scripts: string[] }> = [];
  for (const [index, { value: section }] of registries.datasetSections.contributions().entries()) {
    const content = await section.render({ c, dataset, kit });
    if (content === undefined || content === null) continue;
    sections.push({ name: section.name, order: (section.order ?? 100) * 10_000 + index, content, scripts: section.scripts?.(kit) ?? [] });
  }
  sections.sort((a, b) => a.order - b.order);
  const canEdit = Boolean(user) && dataset.state === 'draft';
  return kit.page(c, dataset.title || dataset.name, <div>
    <dl>
      <dt>Name</dt><dd>{dataset.name}</dd>
      <dt>Organisation</dt><dd>{dataset.organization?.title || dataset.organization?.name || '—'}</dd>
      <dt>License</dt><dd>{dataset.license_id || '—'}</dd>
      <dt>State</dt><dd>{dataset.state}{dataset.private ? ' (private)' : ''}</dd>
    </dl>
    {dataset.notes && <section aria-labelledby="about"><h2 id="about">Description</h2><p>{dataset.notes}</p></section>}
    {dataset.tags && dataset.tags.length > 0 && <section aria-labelledby="tags"><h2 id="tags">Tags</h2><ul class="tags">{dataset.tags.map((t) => <li><a href={`/dataset?tags=${encodeURIComponent(t.name)}`}>{t.name}</a></li>)}</ul></section>}
    {canEdit && <p><a class="button" href={`/dataset/${encodeURIComponent(dataset.name)}/upload`}>Add files and activate</a></p>}
    <section aria-labelledby="resources">
      <h2 id="resources">Files</h2>
      {dataset.resources.length === 0 ? <p class="muted">No files yet.</p> : dataset.resources.map((r) => {
        const problems = problemsOf(r);
        const meta = metadataSections(r);
        return (
          <article class="resource" id={`resource-${r.id}`}>
            <h3>{r.name}</h3>
            <table>
              <tbody>
                <tr><th scope="row">Size</th><td>{formatBytes(r.size)}</td></tr>
                <tr><th scope="row">SHA-256</th><td><code>{String(r.sha256 ?? '—')}</code></td></tr>
                <tr><th scope="row">State</th><td class={`state-${r.state}`}>{STATE_WORDS[r.state] ?? r.state}</td></tr>
              </tbody>
            </table>
            {problems.length > 0 && <div class="notice error"><p>Why it is invalid:</p><ul>{problems.map((p) => <li>{p}</li>)}</ul></div>}
            {typeof r.size === 'number' && <p><a href={`/dataset/${encodeURIComponent(dataset.id)}/resource/${encodeURIComponent(r.id)}/download/${encodeURIComponent(r.name)}`} download>Download {r.name}</a></p>}
            {meta.length > 0 && <details>
              <summary>Metadata</summary>
              {meta.map(([section, rows]) => (
                <table>
                  <caption>{section}</caption>
                  <tbody>{rows.map(([k, v]) => <tr><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody>
                </table>
              ))}
            </details>}
          </article>
        );
      })}
    </section>
    {sections.map((s) => <section class="plugin-section" data-section={s.name}>{s.content}</section>)}
  </div>, { scripts: [...new Set(sections.flatMap((s) => s.scripts))] });
}
