// The web front: core's pages, the plugins' pages and the assets they declare, behind the
// session and CSRF middleware of web-middleware.ts.
// Pages read and write through the action runner as the viewer, so the API's permission
// rules are the only ones (a private dataset is a 404 here exactly when it is there).
import { Hono, type Context } from 'hono';
import type { AppEnv } from '../http/app-env.js';
import type { ActionRunner } from '../actions/action-runner.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { UserService } from '../auth/user-service.js';
import type { PasswordLogin } from '../auth/password-login.js';
import type { Logger } from '../logger.js';
import { actorUser, type UserIdentity } from '../auth/actor.js';
import { AuthenticationError, AuthorizationError, NotFoundError, TooManyRequestsError, isPlatformError, retryAfterOf } from '../errors.js';
import { AuditLogId, JobQueueId } from '../services/service-ids.js';
import { CoreWebKit } from './web-kit.js';
import type { WebSessions } from './web-sessions.js';
import type { WebSecurity } from './web-security.js';
import { coreAssets, pluginAssets } from './web-assets.js';
import { SAFE_METHODS, csrfGuard } from './web-middleware.js';
import { facetFields, searchPage } from './pages/search-page.js';
import { datasetPage } from './pages/dataset-page.js';
import { safeNext, signInPage } from './pages/sign-in-page.js';
import { accountPage } from './pages/account-page.js';
import { adminPage } from './pages/admin-page.js';
import { datasetInputOf, newDatasetPage, uploadPage } from './pages/upload-pages.js';
import { accessTokenFilePage } from './pages/access-token-file-page.js';

/** What the web front needs from the host. */
export interface WebFrontDependencies {
  registries: HookRegistries;
  actions: ActionRunner;
  users: UserService;
  /** Core's password sign-in (rate-limited, one answer for every refusal). */
  login: PasswordLogin;
  sessions: WebSessions;
  security: WebSecurity;
  siteTitle: string;
  logger: Logger;
  /** Size of the chunks the browser uploads with (tus PATCH requests). */
  uploadChunkBytes: number;
  /** `[web] facets`: the search page's facets, comma-separated. */
  facets: string;
  /** Largest form body a page accepts (`[http] max_body_bytes`). */
  maxFormBytes: number;
  /** Reads the server certificate (PEM) that access-token files carry, when one is configured. */
  serverCertificate?: () => string | undefined;
}

/** The signed-in viewer, or a redirect to the sign-in page. */
function viewer(c: Context<AppEnv>): UserIdentity {
  const user = actorUser(c.get('actor'));
  if (!user) throw new SignInNeeded();
  return user;
}

class SignInNeeded extends Error {}

/** Error pages: a PlatformError's status and message, anything else a 500 naming the request id. */
function errorPage(kit: CoreWebKit, logger: Logger) {
  return async (error: Error, c: Context<AppEnv>): Promise<Response> => {
    // Refused to someone not signed in: signing in may help, so offer it instead of a dead end.
    const refusedAnonymous = error instanceof AuthorizationError && c.get('actor').kind === 'anonymous' && SAFE_METHODS.has(c.req.method);
    if (error instanceof SignInNeeded || refusedAnonymous) return c.redirect(`/user/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`, 303);
    if (isPlatformError(error)) {
      const status = ([400, 403, 404, 409, 413, 422].includes(error.status) ? error.status : 400) as 400 | 403 | 404 | 409 | 413 | 422;
      const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Cannot do that';
      const fields = Object.entries(error.fields).map(([field, messages]) => `${field}: ${messages.join(', ')}`);
      return kit.page(c, title, <div class="notice error" role="alert"><p>{error.message}</p>{fields.length > 0 && <ul>{fields.map((f) => <li>{f}</li>)}</ul>}</div>, { status });
    }
    const requestId = c.get('requestId');
    logger.error('page failed', { requestId, path: c.req.path, error: `${error.name}: ${error.message}`, stack: error.stack });
    c.header('Content-Type', 'text/plain; charset=utf-8');
    return c.text(`Something went wrong on our side; quote request id ${requestId} to the site admin.`, 500);
  };
}

/** Mounts the pages on the platform's app (after the API and download routes); returns the 404 page for browsers. */
export function mountWebFront(app: Hono<AppEnv>, deps: WebFrontDependencies): { notFoundPage(c: Context<AppEnv>): Promise<Response> } {
  const kit = new CoreWebKit(deps.security, deps.registries, deps.actions, deps.siteTitle);
  const guard = csrfGuard(deps.security, deps.maxFormBytes);
  const onError = errorPage(kit, deps.logger);
  const web = new Hono<AppEnv>({ strict: false });
  web.onError(onError);

  const assets = coreAssets();
  for (const [key, asset] of pluginAssets(deps.registries)) assets.set(key, asset);
  web.get('/assets/:plugin/:name', (c) => {
    const key = `${c.req.param('plugin')}/${c.req.param('name')}`;
    const asset = c.req.param('plugin') === 'core' ? assets.get(c.req.param('name')) : assets.get(key);
    if (!asset) throw new NotFoundError(`no asset ${key}`);
    return c.body(typeof asset.body === 'string' ? asset.body : new Uint8Array(asset.body), 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=300', 'X-Content-Type-Options': 'nosniff' });
  });

  for (const path of ['/dataset/*', '/user/*', '/account', '/account/*', '/admin', '/admin/*']) web.use(path, guard);

  const facets = facetFields(deps.facets);
  web.get('/', (c) => searchPage(c, kit, facets));
  web.get('/dataset', (c) => searchPage(c, kit, facets));
  web.get('/dataset/new', (c) => (viewer(c), newDatasetPage(c, kit)));
  web.post('/dataset/new', async (c) => {
    viewer(c);
    const fields = await kit.form(c);
    try {
      const created = await kit.run<{ name: string }>(c, 'package_create', datasetInputOf(fields));
      return c.redirect(`/dataset/${encodeURIComponent(created.name)}/upload`, 303);
    } catch (error) {
      if (!isPlatformError(error) || error.status >= 500) throw error;
      const details = Object.entries(error.fields).map(([f, m]) => `${f}: ${m.join(', ')}`).join('; ');
      return newDatasetPage(c, kit, { message: `${error.message}${details ? ` (${details})` : ''}`, values: fields, status: error.status === 403 ? 403 : error.status === 409 ? 409 : 400 });
    }
  });
  web.get('/dataset/:id', (c) => datasetPage(c, kit, deps.registries, c.req.param('id')));
  web.get('/dataset/:id/upload', (c) => (viewer(c), uploadPage(c, kit, c.req.param('id'), deps.uploadChunkBytes)));
  web.post('/dataset/:id/activate', async (c) => {
    viewer(c);
    await kit.form(c);
    const dataset = await kit.run<{ name: string }>(c, 'package_patch', { id: c.req.param('id'), state: 'active' });
    return c.redirect(`/dataset/${encodeURIComponent(dataset.name)}`, 303);
  });

  web.get('/user/login', (c) => signInPage(c, kit));
  web.post('/user/login', async (c) => {
    const fields = await kit.form(c);
    const name = (fields.name ?? '').trim();
    let user;
    try {
      // Core's password sign-in: limited per address and per name before any hashing, every refusal alike.
      user = await deps.login.login({ name, password: fields.password ?? '', address: c.get('address'), via: 'web' });
    } catch (error) {
      if (error instanceof AuthenticationError) return signInPage(c, kit, { message: error.message, name, next: fields.next, status: 400 });
      const wait = retryAfterOf(error);
      if (wait !== undefined) {
        c.header('Retry-After', String(wait));
        return signInPage(c, kit, { message: (error as Error).message, name, next: fields.next, status: error instanceof TooManyRequestsError ? 429 : 503 });
      }
      throw error;
    }
    const old = c.get('webSession');
    if (old) await deps.sessions.end(old.id);
    const { secret, session } = await deps.sessions.create(user.id);
    deps.security.setSession(c, secret, session.expiresAt);
    // A new CSRF seed with the new session: a token seen before signing in is worth nothing after.
    deps.security.csrfToken(c, true);
    await c.get('services').get(AuditLogId).record({ actor: { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin } }, action: 'user.login', objectType: 'user', objectId: user.id, address: c.get('address'), details: { via: 'web' } });
    return c.redirect(safeNext(fields.next), 303);
  });
  web.post('/user/logout', async (c) => {
    await kit.form(c);
    const session = c.get('webSession');
    if (session) await deps.sessions.end(session.id);
    deps.security.clearSession(c);
    deps.security.csrfToken(c, true);
    return c.redirect('/', 303);
  });

  web.get('/account', (c) => accountPage(c, kit, viewer(c)));
  web.post('/account/tokens', async (c) => {
    const user = viewer(c);
    const fields = await kit.form(c);
    const days = fields.expires_days?.trim();
    const created = await kit.run<{ token: string; name: string }>(c, 'api_token_create', { user: user.id, name: fields.name ?? '', ...(days ? { expires_days: /^\d{1,4}$/.test(days) ? Number(days) : days } : {}) });
    return accountPage(c, kit, user, created);
  });
  web.post('/account/tokens/:id/revoke', async (c) => {
    viewer(c);
    await kit.form(c);
    await kit.run(c, 'api_token_revoke', { id: c.req.param('id') });
    return c.redirect('/account', 303);
  });

  const admin = (c: Context<AppEnv>): void => {
    if (!viewer(c).sysadmin) throw new AuthorizationError('only site administrators may open the admin page');
  };
  web.get('/admin', (c) => (admin(c), adminPage(c, kit)));
  web.post('/admin/jobs/:id/retry', async (c) => {
    admin(c);
    await kit.form(c);
    const job = await c.get('services').get(JobQueueId).retry(c.req.param('id'));
    await c.get('services').get(AuditLogId).record({ actor: c.get('actor'), action: 'job.retry', objectType: 'job', objectId: job.id, address: c.get('address'), details: { type: job.type } });
    return adminPage(c, kit, `Job ${job.type} queued again.`);
  });

  /** Runs an admin form's action; a refusal is shown on the admin page with its status. */
  const adminAction = async (c: Context<AppEnv>, action: string, input: Record<string, unknown>, done: string): Promise<Response> => {
    try {
      await kit.run(c, action, input);
    } catch (error) {
      if (!isPlatformError(error) || error.status >= 500) throw error;
      const fields = Object.entries(error.fields).map(([f, m]) => `${f}: ${m.join(', ')}`).join('; ');
      const status = ([400, 403, 404, 409].includes(error.status) ? error.status : 400) as 400 | 403 | 404 | 409;
      return adminPage(c, kit, undefined, { message: `${error.message}${fields ? ` (${fields})` : ''}`, status });
    }
    return adminPage(c, kit, done);
  };
  web.post('/admin/users', async (c) => {
    admin(c);
    const f = await kit.form(c);
    return adminAction(c, 'user_create', { name: f.name ?? '', email: f.email ?? '', password: f.password ?? '' }, `User ${f.name} added.`);
  });
  web.post('/admin/organizations', async (c) => {
    admin(c);
    const f = await kit.form(c);
    return adminAction(c, 'organization_create', { name: f.name ?? '', ...(f.title ? { title: f.title } : {}) }, `Organisation ${f.name} created.`);
  });
  web.post('/admin/members', async (c) => {
    admin(c);
    const f = await kit.form(c);
    return adminAction(c, 'organization_member_create', { id: f.organization ?? '', username: f.user ?? '', role: f.role ?? '' }, `${f.user} is now ${f.role} of ${f.organization}.`);
  });
  web.post('/admin/members/remove', async (c) => {
    admin(c);
    const f = await kit.form(c);
    return adminAction(c, 'organization_member_delete', { id: f.organization ?? '', username: f.user ?? '' }, `${f.user} removed from ${f.organization}.`);
  });
  const subject = async (c: Context<AppEnv>): Promise<{ id: string; name: string; sysadmin: boolean }> => {
    admin(c);
    const user = await deps.users.find(c.req.param('name') ?? '');
    if (!user) throw new NotFoundError(`no user "${c.req.param('name')}"`);
    return user;
  };
  web.get('/admin/users/:name', async (c) => {
    const user = await subject(c);
    return accountPage(c, kit, user, undefined, `/admin/users/${encodeURIComponent(user.name)}`);
  });
  web.post('/admin/users/:name/tokens', async (c) => {
    const user = await subject(c);
    const fields = await kit.form(c);
    const days = fields.expires_days?.trim();
    const created = await kit.run<{ token: string; name: string }>(c, 'api_token_create', { user: user.id, name: fields.name ?? '', ...(days ? { expires_days: /^\d{1,4}$/.test(days) ? Number(days) : days } : {}) });
    return accountPage(c, kit, user, created, `/admin/users/${encodeURIComponent(user.name)}`);
  });
  web.post('/admin/users/:name/tokens/:id/revoke', async (c) => {
    const user = await subject(c);
    await kit.form(c);
    await kit.run(c, 'api_token_revoke', { id: c.req.param('id') });
    return c.redirect(`/admin/users/${encodeURIComponent(user.name)}`, 303);
  });
  web.post('/admin/access-token', async (c) => {
    admin(c);
    return accessTokenFilePage(c, kit, await kit.form(c), deps.serverCertificate?.());
  });

  app.route('/', web);

  for (const { value: page } of deps.registries.webPages.contributions()) {
    const sub = new Hono<AppEnv>({ strict: false });
    sub.onError(onError);
    sub.use('*', guard);
    page.mount(sub, kit);
    app.route(page.path, sub);
  }
  return { notFoundPage: (c) => kit.page(c, 'Not found', <p class="notice error" role="alert">There is no page at {c.req.path}. <a href="/dataset">Search the datasets</a>.</p>, { status: 404 }) };
}
