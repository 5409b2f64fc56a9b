// The admin page (site administrators only): users, organisations with their members, and
// jobs with their state and progress, where a dead job can be retried.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import { DatabaseId, JobQueueId, OrganizationServiceId, UserServiceId } from '../../services/service-ids.js';
import { lastInspectReport } from '../../inspect/inspect-report-store.js';
import { formatTime } from './account-page.js';

/** Renders the admin page; the caller has checked that the viewer is a sysadmin. `error` is the refusal of the last form. */
export async function adminPage(c: Context<AppEnv>, kit: CoreWebKit, notice?: string, error?: { message: string; status: 400 | 403 | 404 | 409 }): Promise<Response> {
  const services = c.get('services');
  const users = await services.get(UserServiceId).list();
  const orgService = services.get(OrganizationServiceId);
  const orgs = await Promise.all((await orgService.list()).map(async (o) => ({ org: o, members: await orgService.members(o.id) })));
  const queue = services.get(JobQueueId);
  const counts = await queue.counts();
  const jobs = await queue.list({ limit: 50 });
  const report = await lastInspectReport(services.get(DatabaseId));
  const attention = report?.checks.filter((check) => check.status !== 'ok') ?? [];
  return kit.page(c, 'Administration', <div>
    {notice && <p class="notice" role="status">{notice}</p>}
    {error && <p class="notice error" role="alert">{error.message}</p>}
    <h2>Users</h2>
    <table>
      <thead><tr><th scope="col">Name</th><th scope="col">E-mail</th><th scope="col">Role</th><th scope="col">Locked until</th><th scope="col">Created</th></tr></thead>
      <tbody>{users.map((u) => <tr><td><a href={`/admin/users/${encodeURIComponent(u.name)}`} aria-label={`API tokens of ${u.name}`}>{u.name}</a></td><td>{u.email}</td><td>{u.sysadmin ? 'site administrator' : 'user'}</td><td>{u.lockedUntil ? formatTime(u.lockedUntil.toISOString()) : '—'}</td><td>{formatTime(u.createdAt.toISOString())}</td></tr>)}</tbody>
    </table>
    <form method="post" action="/admin/users">
      {kit.csrfField(c)}
      <h3>Add a user</h3>
      <label for="nu-name">User name</label><input type="text" id="nu-name" name="name" required autocomplete="off" />
      <label for="nu-email">E-mail</label><input type="text" id="nu-email" name="email" required autocomplete="off" />
      <label for="nu-password">Password</label><input type="password" id="nu-password" name="password" required autocomplete="new-password" />
      <p><button type="submit">Add user</button></p>
    </form>
    <h2>Access-token files</h2>
    <form method="post" action="/admin/access-token">
      {kit.csrfField(c)}
      <label for="atf-user">User</label>
      <select id="atf-user" name="user" required>{users.map((u) => <option value={u.name}>{u.name}</option>)}</select>
      <label for="atf-days">Token expires after (days, empty for never)</label>
      <input type="text" id="atf-days" name="expires_days" inputmode="numeric" pattern="[0-9]*" />
      <p><button type="submit">Create access-token file</button></p>
    </form>
    <h2>Organisations</h2>
    {orgs.length === 0 ? <p class="muted">None yet.</p> : <table>
      <thead><tr><th scope="col">Organisation</th><th scope="col">Members</th></tr></thead>
      <tbody>{orgs.map(({ org, members }) => <tr><td>{org.title || org.name}</td><td>
        {members.length === 0 ? '—' : <ul>{members.map((m) => <li>
          {m.userName} ({m.role})
          <form method="post" action="/admin/members/remove" class="inline">
            {kit.csrfField(c)}
            <input type="hidden" name="organization" value={org.name} /><input type="hidden" name="user" value={m.userName} />
            <button type="submit" class="link" aria-label={`Remove ${m.userName} from ${org.name}`}>remove</button>
          </form>
        </li>)}</ul>}
      </td></tr>)}</tbody>
    </table>}
    {orgs.length > 0 && <form method="post" action="/admin/members">
      {kit.csrfField(c)}
      <h3>Add or change a member</h3>
      <label for="m-org">Organisation</label><select id="m-org" name="organization">{orgs.map(({ org }) => <option value={org.name}>{org.title || org.name}</option>)}</select>
      <label for="m-user">User</label><select id="m-user" name="user">{users.map((u) => <option value={u.name}>{u.name}</option>)}</select>
      <label for="m-role">Role</label><select id="m-role" name="role"><option value="member">member (sees private datasets)</option><option value="editor">editor (adds and changes datasets)</option><option value="admin">admin (manages members)</option></select>
      <p><button type="submit">Save membership</button></p>
    </form>}
    <form method="post" action="/admin/organizations">
      {kit.csrfField(c)}
      <h3>New organisation</h3>
      <label for="no-name">Name (lower-case letters, digits, - and _)</label><input type="text" id="no-name" name="name" required />
      <label for="no-title">Title</label><input type="text" id="no-title" name="title" />
      <p><button type="submit">Create organisation</button></p>
    </form>
    <h2>Last inspection</h2>
    {!report ? <p class="muted">No report yet: run <code>platform inspect</code>.</p> : <div>
      <p>{formatTime(report.finishedAt)}: {report.exitCode === 0 ? 'nothing left wrong' : report.exitCode === 1 ? 'problems remain' : 'inspect could not run'} ({report.summary.checks} checks, {report.summary.ok} ok, {report.summary.warnings} warnings, {report.summary.problems} problems, {report.summary.repaired} repaired, {report.summary.errors} failed to run){report.repair ? ', with repairs' : ''}.</p>
      {attention.length > 0 && <ul>{attention.map((check) => (
        <li><strong>{check.area}: {check.name}</strong> ({check.status}){check.error ? `: ${check.error}` : ''}
          <ul>{check.findings.filter((f) => f.severity !== 'ok').map((f) => <li>{f.title}{f.fix ? ` Fix: ${f.fix}` : ''}</li>)}</ul>
        </li>
      ))}</ul>}
    </div>}
    <h2>Jobs</h2>
    <p>{Object.entries(counts).map(([state, n]) => `${state}: ${n}`).join(' · ')}</p>
    <table>
      <thead><tr><th scope="col">Type</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Progress</th><th scope="col">Updated</th><th scope="col">Last error</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody>{jobs.map((j) => (
        <tr>
          <td>{j.type}</td><td>{j.state}</td><td>{j.attempts} of {j.maxAttempts}</td>
          <td>{j.progress ? `${j.progress.done}${j.progress.total !== undefined ? ` of ${j.progress.total}` : ''}${j.progress.detail ? ` (${j.progress.detail})` : ''}` : '—'}</td>
          <td>{formatTime(j.updatedAt.toISOString())}</td><td>{j.lastError ?? ''}</td>
          <td>{j.state === 'dead' && <form method="post" action={`/admin/jobs/${encodeURIComponent(j.id)}/retry`}>{kit.csrfField(c)}<button type="submit" class="secondary" aria-label={`Retry job ${j.type}`}>Retry</button></form>}</td>
        </tr>
      ))}</tbody>
    </table>
  </div>, { status: error?.status ?? 200 });
}
