// The hono app: request ids, client address, authentication, the CKAN-style action API,
// plugin routes and upload protocols, and one error mapping for everything.
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppEnv } from './app-env.js';
import type { Services } from '../services/services.js';
import type { Logger } from '../logger.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { ActionRunner } from '../actions/action-runner.js';
import { anonymous } from '../auth/actor.js';
import type { ApiTokenService } from '../auth/api-token-service.js';
import type { PasswordLogin } from '../auth/password-login.js';
import { AuthenticationError, AuthorizationError, NotFoundError, UnknownActionError, ValidationError, isPlatformError, retryAfterOf } from '../errors.js';
import { ResourceIntakeId, UserServiceId } from '../services/service-ids.js';
import { MULTIPART_ACTIONS, isMultipart, runMultipartAction } from './multipart-upload.js';
import { readJsonBody } from './read-json-body.js';
import { mountDownloads, type AccelRedirect } from './download-route.js';
import { mountWebFront, type WebFrontDependencies } from '../web/web-front.js';
import { SAFE_METHODS, sessionAuthentication } from '../web/web-middleware.js';
import { originAllowed, publicBaseUrl } from './request-origin.js';

/** What the app needs from the host. */
export interface AppDependencies {
  services: Services;
  registries: HookRegistries;
  actions: ActionRunner;
  tokens: ApiTokenService;
  login: PasswordLogin;
  logger: Logger;
  maxBodyBytes: number;
  /** `[upload] max_size`: the largest file a multipart upload may carry. */
  maxUploadBytes?: number;
  trustProxy: boolean;
  /** Hand downloads of local depot files to nginx (see download-route). */
  accel?: AccelRedirect;
  /** `[platform] site_url` ('' when not set: links then name the host the request was sent to). */
  siteUrl: string;
  /** The web pages (sessions, CSRF, pages); without it the app serves the API alone. */
  web?: Omit<WebFrontDependencies, 'registries' | 'actions' | 'users' | 'login' | 'logger' | 'maxFormBytes'>;
}

/** Builds the platform's HTTP app. */
export function createApp(deps: AppDependencies): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ strict: false });

  app.use('*', async (c, next) => {
    const requestId = randomUUID();
    c.set('requestId', requestId);
    c.set('services', deps.services);
    c.set('actor', anonymous);
    c.set('address', clientAddress(c, deps.trustProxy));
    c.header('X-Request-Id', requestId);
    await next();
  });

  app.use('*', async (c, next) => {
    // A browser attaches Basic credentials and cookies to requests any page sends, but it also
    // names that page's origin: a write carrying them from another site is refused before
    // any password is checked (CSRF). Clients outside browsers send no Origin.
    const origin = c.req.header('origin');
    if (origin !== undefined && !SAFE_METHODS.has(c.req.method)) {
      const authorization = c.req.header('authorization');
      const ambient = authorization ? /^basic\s/i.test(authorization) : Boolean(c.req.header('cookie'));
      if (ambient && !originAllowed(origin, c, deps.siteUrl, deps.trustProxy)) {
        throw new AuthorizationError(`a write with a password or session cookie may only come from this site, not from Origin ${JSON.stringify(origin.slice(0, 200))}; other sites' pages must use an API token`);
      }
    }
    await next();
  });

  app.use('*', async (c, next) => {
    const header = c.req.header('authorization');
    if (header) c.set('actor', await authenticate(header, c.get('address'), deps));
    await next();
  });
  if (deps.web) app.use('*', sessionAuthentication(deps.web));

  app.onError((error, c) => errorResponse(c, error, deps.logger, publicBaseUrl(c, deps.siteUrl, deps.trustProxy)));
  let notFoundPage: ((c: Context<AppEnv>) => Promise<Response>) | undefined;
  app.notFound((c) => {
    // A person's browser gets a page; API clients and uploads keep CKAN's JSON, through the error catalogue.
    const browser = notFoundPage && c.req.method === 'GET' && /text\/html/.test(c.req.header('accept') ?? '') && !/^\/(api|upload)(\/|$)/.test(c.req.path);
    if (browser) return notFoundPage!(c);
    return errorResponse(c, new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), deps.logger, publicBaseUrl(c, deps.siteUrl, deps.trustProxy));
  });

  app.get('/api/3', (c) => c.json({ version: 3 }));
  const actionRoute = async (c: Context<AppEnv>): Promise<Response> => {
    const name = c.req.param('name') ?? '';
    const action = deps.actions.get(name);
    const call = { actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId') };
    const help = helpUrl(publicBaseUrl(c, deps.siteUrl, deps.trustProxy), name);
    await deps.actions.requireAccess(name, call);
    let input: Record<string, unknown>;
    if (c.req.method === 'GET') {
      if (action.kind === 'write') {
        throw new ValidationError(`action "${name}" changes data: send it as POST with a JSON body`, {});
      }
      input = Object.fromEntries(new URL(c.req.url).searchParams);
    } else if (MULTIPART_ACTIONS.has(name) && isMultipart(c.req.raw)) {
      // CKAN's file upload: fields and an `upload` part, streamed to the depot.
      const limits = { maxFileBytes: deps.maxUploadBytes ?? deps.maxBodyBytes, maxFieldBytes: deps.maxBodyBytes };
      const result = await runMultipartAction(name, c.req.raw, call, deps.actions, deps.services.get(ResourceIntakeId), limits);
      return c.json({ help, success: true, result });
    } else {
      input = await readJsonBody(c.req.raw, deps.maxBodyBytes);
    }
    if (action.readJson) {
      // An answer kept as JSON text goes into the envelope as it is.
      const text = await deps.actions.runJson(name, input, call);
      if (text !== undefined) return c.body(`{"help":${JSON.stringify(help)},"success":true,"result":${text}}`, 200, { 'Content-Type': 'application/json' });
    }
    const result = await deps.actions.run(name, input, call);
    return c.json({ help, success: true, result });
  };
  for (const prefix of ['/api/3/action', '/api/action']) {
    app.get(`${prefix}/:name`, actionRoute);
    app.post(`${prefix}/:name`, actionRoute);
  }

  mountDownloads(app, deps.accel);
  if (deps.web) notFoundPage = mountWebFront(app, { ...deps.web, registries: deps.registries, actions: deps.actions, users: deps.services.get(UserServiceId), login: deps.login, logger: deps.logger, maxFormBytes: deps.maxBodyBytes }).notFoundPage;

  for (const { value: protocol } of deps.registries.uploadProtocols.contributions()) {
    const sub = new Hono<AppEnv>({ strict: false });
    protocol.mount(sub);
    app.route(`/upload/${protocol.name}`, sub);
  }
  for (const { value: route } of deps.registries.routes.contributions()) {
    const sub = new Hono<AppEnv>({ strict: false });
    route.mount(sub);
    app.route(route.path, sub);
  }
  return app;
}

function helpUrl(baseUrl: string, action: string): string {
  return `${baseUrl}/api/3/action/help_show?name=${encodeURIComponent(action)}`;
}

function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one our proxy wrote; entries before it come from the client
    // (or proxies we do not know) and can say anything.
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? '';
}

/** `Authorization: <token>`, `Bearer <token>` (API tokens) or `Basic` (name and password, rate-limited; see PasswordLogin). */
async function authenticate(header: string, address: string, deps: AppDependencies): Promise<AppEnv['Variables']['actor']> {
  const trimmed = header.trim();
  if (/^basic\s+/i.test(trimmed)) {
    const decoded = Buffer.from(trimmed.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AuthenticationError('Basic credentials must be name:password');
    const user = await deps.login.login({ name: decoded.slice(0, colon), password: decoded.slice(colon + 1), address, via: 'basic' });
    return { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin } };
  }
  const token = trimmed.replace(/^bearer\s+/i, '');
  const { user, token: record, memberships } = await deps.tokens.authenticate(token);
  return { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin }, tokenId: record.id, memberships };
}

/** Keys of the error object that field messages may not replace. */
const ENVELOPE_KEYS = new Set(['__type', 'code', 'message', 'suggestions']);

/**
 * Maps any error to CKAN's envelope; unexpected errors are logged and reveal nothing.
 * @param baseUrl what the `help` link starts with (see publicBaseUrl).
 */
export function errorResponse(c: Context<AppEnv>, error: unknown, logger: Logger, baseUrl: string): Response {
  const name = c.req.param('name');
  const help = name ? helpUrl(baseUrl, name) : undefined;
  if (isPlatformError(error)) {
    // Field messages sit beside __type and message, as in CKAN; a field that shares one of
    // those names must not overwrite them, so its messages go into the message instead.
    const clashing = Object.entries(error.fields).filter(([field]) => ENVELOPE_KEYS.has(field));
    const message = clashing.length ? `${error.message}; ${clashing.map(([field, messages]) => `${field}: ${messages.join(', ')}`).join('; ')}` : error.message;
    // `code` is the catalogue's (PLATFORM_ERR_...): clients key on it, not on the message.
    const body: Record<string, unknown> = { ...error.fields, __type: error.ckanType, code: error.code, message };
    if (error instanceof UnknownActionError) body.suggestions = error.suggestions;
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
    return c.json({ ...(help ? { help } : {}), success: false, error: body }, error.status as ContentfulStatusCode);
  }
  const requestId = c.get('requestId');
  logger.error('request failed', { requestId, method: c.req.method, path: c.req.path, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined });
  return c.json({ ...(help ? { help } : {}), success: false, error: { __type: 'Internal Server Error', message: `internal error; quote request id ${requestId} to the site admin` } }, 500);
}

