// The distribution pages: the searchable history of files (name, state, dates, label,
// folder), the files that wait and why, the files sent and never acknowledged, and each file's
// life line (received, checked, sent, acknowledged by whom, archived); a failed delivery can
// be sent again. Everything is read through the distribution actions (or, for one file, with
// the same sysadmin rule), because the trail names recipients and their addresses.
import type { Context, Hono } from 'hono';
import { AuditLogId, NotFoundError, PermissionServiceId, ValidationError, type AppEnv, type WebKit, type WebPage } from '../../core/api.js';
import { fileView } from './distribution-actions.js';
import type { DistributionRuntime } from './distribution-runtime.js';
import { HOLDABLE_STATES } from './delivery-hold.js';

interface FileRow {
  id: string; name: string; state: string; reason: string | null; label: string | null; folder: string | null; destination: string | null;
  received_at: string; sent_at: string | null; archived_at: string | null; acknowledged_at: string | null; acknowledged_by: string | null;
  acknowledged_user: string | null; acknowledged_agent: string | null;
  events?: Array<{ kind: string; at: string; actor: string | null; address: string | null; user: string | null; user_agent: string | null; detail: string | null }>;
}

const VIEWS = { all: 'All files', pending: 'Waiting to be sent', unacknowledged: 'Sent, not acknowledged' } as const;
type View = keyof typeof VIEWS;
/** Files shown on one page of the history. */
const SHOWN = 200;
const STATES = ['received', 'routed', 'unroutable', 'sending', 'sent', 'archived', 'failed', 'rejected', 'held', 'acknowledged'];

function time(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—';
}

/** Who fetched, beyond the address: the authenticated user and the user agent the log line names. */
function clientWords(user: string | null | undefined, agent: string | null | undefined): string {
  const parts = [user ? `user ${user}` : '', agent ? `with ${agent}` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** A state in words: an archived file that was sent first says so. */
export function stateWords(file: Pick<FileRow, 'state' | 'sent_at' | 'acknowledged_at'>): string {
  const base = file.state === 'archived' && file.sent_at ? 'sent, then archived' : file.state;
  return file.acknowledged_at ? `${base}, acknowledged` : base;
}

async function requireSysadmin(c: Context<AppEnv>, action: string): Promise<void> {
  await c.get('services').get(PermissionServiceId).require({ actor: c.get('actor'), action, target: {}, input: {} }, 'sysadmin');
}

function listPage(app: Hono<AppEnv>, kit: WebKit): void {
  app.get('/', async (c) => {
    const q = c.req.query();
    const view: View = q.view === 'pending' || q.view === 'unacknowledged' ? q.view : 'all';
    // One more than shown, to say whether more files match.
    const filter: Record<string, unknown> = { limit: SHOWN + 1, events: false };
    for (const key of ['name', 'label', 'folder', 'since', 'until'] as const) if (q[key]) filter[key] = q[key]!.slice(0, 200);
    if (view === 'all' && q.state && STATES.includes(q.state)) filter.state = q.state;
    if (view === 'unacknowledged') filter.state = 'unacknowledged';
    const found = await kit.run<FileRow[]>(c, view === 'pending' ? 'distribution_pending' : 'distribution_history', filter);
    const more = found.length > SHOWN;
    const files = found.slice(0, SHOWN);
    return kit.page(c, 'Distribution', <div>
      <nav aria-label="Distribution views"><ul class="tags">{(Object.keys(VIEWS) as View[]).map((v) => <li>{v === view ? <strong aria-current="page">{VIEWS[v]}</strong> : <a href={`/distribution?view=${v}`}>{VIEWS[v]}</a>}</li>)}</ul></nav>
      <form method="get" action="/distribution" role="search">
        <input type="hidden" name="view" value={view} />
        <label for="dist-name">File name (part of it)</label><input type="search" id="dist-name" name="name" value={q.name ?? ''} />
        <label for="dist-label">Label</label><input type="text" id="dist-label" name="label" value={q.label ?? ''} />
        <label for="dist-folder">Folder</label><input type="text" id="dist-folder" name="folder" value={q.folder ?? ''} />
        <label for="dist-since">Received on or after (YYYY-MM-DD)</label><input type="text" id="dist-since" name="since" value={q.since ?? ''} />
        <label for="dist-until">Received before (YYYY-MM-DD)</label><input type="text" id="dist-until" name="until" value={q.until ?? ''} />
        {view === 'all' && <><label for="dist-state">State</label>
          <select id="dist-state" name="state"><option value="">any</option>{STATES.map((s) => <option value={s} selected={q.state === s}>{s}</option>)}</select></>}
        <p><button type="submit">Show</button></p>
      </form>
      <p role="status">{files.length === 1 ? '1 file' : `${files.length} files`}{more ? ` (the newest ${SHOWN}; more match: narrow the search to see the others)` : ''}</p>
      <table>
        <thead><tr><th scope="col">File</th><th scope="col">State</th><th scope="col">{view === 'pending' ? 'Why it waits' : 'Label / folder'}</th><th scope="col">Received</th><th scope="col">Sent</th><th scope="col">Acknowledged</th></tr></thead>
        <tbody>{files.map((f) => (
          <tr>
            <td><a href={`/distribution/file/${encodeURIComponent(f.id)}`}>{f.name}</a></td>
            <td>{stateWords(f)}</td>
            <td>{view === 'pending' ? (f.reason ?? f.state) : `${f.label ?? '—'} / ${f.folder ?? '—'}`}</td>
            <td>{time(f.received_at)}</td><td>{time(f.sent_at)}</td>
            <td>{f.acknowledged_at ? `${time(f.acknowledged_at)} by ${f.acknowledged_by ?? '?'}${clientWords(f.acknowledged_user, f.acknowledged_agent)}` : '—'}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>);
  });
}

function filePage(app: Hono<AppEnv>, kit: WebKit, runtime: () => DistributionRuntime): void {
  const load = async (c: Context<AppEnv>): Promise<FileRow> => {
    await runtime().staff.requireReader(c.get('services'), c.get('actor'), 'distribution_history', {});
    const store = runtime().store;
    const file = await store.get(c.req.param('id') ?? '');
    if (!file) throw new NotFoundError(`no file ${c.req.param('id')} in distribution`);
    return fileView(file, await store.events({ fileIds: [file.id] })) as unknown as FileRow;
  };
  app.get('/file/:id', async (c) => {
    const f = await load(c);
    // Lab staff read the trail; holding, re-sending and the archive stay with site administrators.
    const actor = c.get('actor');
    const admin = actor.kind === 'user' && actor.user.sysadmin;
    return kit.page(c, f.name, <div>
      <p><a href="/distribution">Back to the history</a></p>
      <dl>
        <dt>State</dt><dd>{stateWords(f)}{f.reason ? ` (${f.reason})` : ''}</dd>
        <dt>Label</dt><dd>{f.label ?? '—'}</dd>
        <dt>Destination</dt><dd>{f.destination ?? '—'}{f.folder ? `: ${f.folder}` : ''}</dd>
      </dl>
      {admin && f.state === 'archived' && <p><a href={`/distribution/archive/${encodeURIComponent(f.id)}`}>Download the archived file</a></p>}
      {admin && f.state === 'failed' && <form method="post" action={`/distribution/file/${encodeURIComponent(f.id)}/resend`}>
        {kit.csrfField(c)}
        <button type="submit">Send again</button>
      </form>}
      {admin && (HOLDABLE_STATES as readonly string[]).includes(f.state) && <form method="post" action={`/distribution/file/${encodeURIComponent(f.id)}/hold`}>
        {kit.csrfField(c)}
        <label for="hold-reason">Why it is held (optional)</label><input type="text" id="hold-reason" name="reason" maxlength={500} />
        <button type="submit">Hold</button>
      </form>}
      {admin && f.state === 'held' && <form method="post" action={`/distribution/file/${encodeURIComponent(f.id)}/release`}>
        {kit.csrfField(c)}
        <button type="submit">Release</button>
      </form>}
      <h2>Life line</h2>
      <ol class="life-line">{(f.events ?? []).map((e) => (
        <li><strong>{e.kind}</strong> {time(e.at)}{e.actor ? ` by ${e.actor}` : ''}{e.address ? ` from ${e.address}` : ''}{clientWords(e.user, e.user_agent)}{e.detail ? `: ${e.detail}` : ''}</li>
      ))}</ol>
    </div>);
  });
  app.post('/file/:id/resend', async (c) => {
    await kit.form(c);
    await requireSysadmin(c, 'distribution_resend');
    const f = await load(c);
    if (f.state !== 'failed') throw new ValidationError(`"${f.name}" is ${f.state}; only a failed delivery can be sent again`, { state: [f.state] });
    await runtime().schedule([f.id]);
    const actor = c.get('actor');
    await c.get('services').get(AuditLogId).record({ actor, action: 'distribution.resend', objectType: 'distribution_file', objectId: f.id, address: c.get('address'), details: { name: f.name } });
    return c.redirect(`/distribution/file/${encodeURIComponent(f.id)}`, 303);
  });
  // Holding and releasing go through their actions (sysadmin rule, audit, one transaction).
  app.post('/file/:id/hold', async (c) => {
    const form = await kit.form(c);
    const id = c.req.param('id') ?? '';
    await kit.run(c, 'distribution_hold', { id, ...(form.reason?.trim() ? { reason: form.reason.trim().slice(0, 500) } : {}) });
    return c.redirect(`/distribution/file/${encodeURIComponent(id)}`, 303);
  });
  app.post('/file/:id/release', async (c) => {
    await kit.form(c);
    const id = c.req.param('id') ?? '';
    await kit.run(c, 'distribution_release', { id });
    return c.redirect(`/distribution/file/${encodeURIComponent(id)}`, 303);
  });
}

/** The pages, mounted at /distribution; the navigation link shows to those who may read the trail (site administrators and lab staff). */
export function distributionPages(runtime: () => DistributionRuntime): WebPage {
  return {
    path: '/distribution',
    nav: { label: 'Distribution', order: 60, audience: async (c) => runtime().staff.mayRead(c.get('actor')) },
    mount(app, kit) {
      listPage(app, kit);
      filePage(app, kit, runtime);
    },
  };
}
