// Making a draft dataset and filling it from the browser: the new-dataset form (package_create
// as the viewer) and the upload page, whose script sends each file with tus-js-client to the
// tus upload protocol, resumes after a reload, shows the checks' verdicts as they arrive, and
// offers activation once every file passed.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import type { DatasetDict } from './dataset-page.js';
import { ConflictError } from '../../errors.js';

/** The form for a new draft dataset. */
export async function newDatasetPage(c: Context<AppEnv>, kit: CoreWebKit, options: { message?: string; values?: Record<string, string>; status?: 200 | 400 | 403 | 409 } = {}): Promise<Response> {
  const orgs = await kit.run<Array<{ name: string; title?: string }>>(c, 'organization_list', { all_fields: true });
  const v = options.values ?? {};
  return kit.page(c, 'New dataset', <form method="post" action="/dataset/new">
    {kit.csrfField(c)}
    {options.message && <p class="notice error" role="alert">{options.message}</p>}
    <label for="ds-name">Name (in the URL: lower-case letters, digits, - and _)</label>
    <input type="text" id="ds-name" name="name" required pattern="[a-z0-9_-]{2,100}" value={v.name ?? ''} />
    <label for="ds-title">Title</label>
    <input type="text" id="ds-title" name="title" value={v.title ?? ''} />
    <label for="ds-org">Organisation</label>
    <select id="ds-org" name="owner_org" required>
      {orgs.map((o) => <option value={o.name} selected={o.name === v.owner_org}>{o.title || o.name}</option>)}
    </select>
    <label for="ds-license">License</label>
    <input type="text" id="ds-license" name="license_id" value={v.license_id ?? 'CC-BY-4.0'} />
    <label for="ds-tags">Tags (separated by commas)</label>
    <input type="text" id="ds-tags" name="tags" value={v.tags ?? ''} />
    <label for="ds-notes">Description</label>
    <textarea id="ds-notes" name="notes" rows={4}>{v.notes ?? ''}</textarea>
    <p><input type="checkbox" id="ds-private" name="private" value="true" checked={v.private === 'true'} /> <label for="ds-private" class="inline">Private (only members of the organisation see it)</label></p>
    <p><button type="submit">Create draft and add files</button></p>
  </form>, { status: options.status ?? 200 });
}

/** package_create input from the form's fields. */
export function datasetInputOf(fields: Record<string, string>): Record<string, unknown> {
  const tags = (fields.tags ?? '').split(',').map((t) => t.trim()).filter(Boolean).map((name) => ({ name }));
  return {
    name: fields.name ?? '', owner_org: fields.owner_org ?? '', state: 'draft', private: fields.private === 'true',
    ...(fields.title ? { title: fields.title } : {}), ...(fields.notes ? { notes: fields.notes } : {}),
    ...(fields.license_id ? { license_id: fields.license_id } : {}), ...(tags.length ? { tags } : {}),
  };
}

/** The upload page of a draft dataset. */
export async function uploadPage(c: Context<AppEnv>, kit: CoreWebKit, id: string, chunkBytes: number): Promise<Response> {
  const dataset = await kit.run<DatasetDict>(c, 'package_show', { id });
  if (dataset.state !== 'draft') throw new ConflictError(`dataset "${dataset.name}" is ${dataset.state}; files can be added only to drafts`);
  return kit.page(c, `Add files to ${dataset.title || dataset.name}`, <div id="uploader" data-dataset={dataset.id} data-dataset-name={dataset.name} data-endpoint="/upload/tus/" data-chunk-bytes={String(chunkBytes)}>
    <p>Choose one or more files. An upload that stops (a closed tab, a lost connection) resumes when you choose the same file again on this page.</p>
    <label for="files">Files</label>
    <input type="file" id="files" name="files" multiple />
    <p><button type="button" id="start-upload">Upload</button></p>
    <ul id="upload-list" aria-live="polite"></ul>
    <h2>Files in this dataset</h2>
    <table>
      <thead><tr><th scope="col">File</th><th scope="col">State</th></tr></thead>
      <tbody id="resource-states">
        {dataset.resources.map((r) => <tr data-resource={r.id}><td>{r.name}</td><td class={`state-${r.state}`}>{r.state}</td></tr>)}
      </tbody>
    </table>
    <p id="verdict" role="status"></p>
    <form method="post" action={`/dataset/${encodeURIComponent(dataset.name)}/activate`}>
      {kit.csrfField(c)}
      <button type="submit" id="activate" disabled={!(dataset.resources.length > 0 && dataset.resources.every((r) => r.state === 'active'))}>Activate dataset</button>
    </form>
    <noscript><p class="notice">Uploading from this page needs JavaScript; the command line (<code>platform upload</code>) works without it.</p></noscript>
  </div>, { scripts: [kit.assetUrl('core', 'tus.min.js'), kit.assetUrl('core', 'upload.js')] });
}
