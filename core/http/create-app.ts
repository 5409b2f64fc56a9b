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
import { UnknownActionError } from '../actions/action-runner.js';
import { anonymous } from '../auth/actor.js';
import type { ApiTokenService } from '../auth/api-token-service.js';
import type { UserService } from '../auth/user-service.js';
import { AuthenticationError, NotFoundError, ValidationError, isPlatformError } from '../errors.js';
import { AccountLockedError } from '../auth/user-service.js';
import { AuditLogId } from '../services/service-ids.js';
import { readJsonBody } from './read-json-body.js';
import { mountDownloads, type AccelRedirect } from './download-route.js';

/** What the app needs from the host. */
export interface AppDependencies {
  services: Services;
  registries: HookRegistries;
  actions: ActionRunner;
  tokens: ApiTokenService;
  users: UserService;
  logger: Logger;
  maxBodyBytes: number;
  trustProxy: boolean;
  /** Hand downloads of local depot files to nginx (see download-route). */
  accel?: AccelRedirect;
  siteUrl: string;
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
    const header = c.req.header('authorization');
    if (header) c.set('actor', await authenticate(header, c.get('address'), deps));
    await next();
  });

  app.onError((error, c) => errorResponse(c, error, deps.logger, deps.siteUrl));
  app.notFound((c) => errorResponse(c, new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), deps.logger, deps.siteUrl));

  app.get('/api/3', (c) => c.json({ version: 3 }));
  const actionRoute = async (c: Context<AppEnv>): Promise<Response> => {
    const name = c.req.param('name') ?? '';
    const action = deps.actions.get(name);
    let input: Record<string, unknown>;
    if (c.req.method === 'GET') {
      if (action.kind === 'write') {
        throw new ValidationError(`action "${name}" changes data: send it as POST with a JSON body`, {});
      }
      input = Object.fromEntries(new URL(c.req.url).searchParams);
    } else {
      input = await readJsonBody(c.req.raw, deps.maxBodyBytes);
    }
    const call = { actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId') };
    if (action.readJson) {
      // An answer kept as JSON text goes into the envelope as it is.
      const text = await deps.actions.runJson(name, input, call);
      if (text !== undefined) return c.body(`{"help":${JSON.stringify(helpUrl(deps.siteUrl, name))},"success":true,"result":${text}}`, 200, { 'Content-Type': 'application/json' });
    }
    const result = await deps.actions.run(name, input, call);
    return c.json({ help: helpUrl(deps.siteUrl, name), success: true, result });
  };
  for (const prefix of ['/api/3/action', '/api/action']) {
    app.get(`${prefix}/:name`, actionRoute);
    app.post(`${prefix}/:name`, actionRoute);
  }

  mountDownloads(app, deps.accel);

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

function helpUrl(siteUrl: string, action: string): string {
  return `${siteUrl.replace(/\/$/, '')}/api/3/action/help_show?name=${encodeURIComponent(action)}`;
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

/** `Authorization: <token>`, `Bearer <token>` (API tokens) or `Basic` (name and password, with lockout). */
async function authenticate(header: string, address: string, deps: AppDependencies): Promise<AppEnv['Variables']['actor']> {
  const trimmed = header.trim();
  if (/^basic\s+/i.test(trimmed)) {
    const decoded = Buffer.from(trimmed.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AuthenticationError('Basic credentials must be name:password');
    try {
      const user = await deps.users.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
      return { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin } };
    } catch (error) {
      if (error instanceof AccountLockedError && error.lockedNow) {
        // Locking an account changes it: record who was locked, until when, and from where.
        await deps.services.get(AuditLogId).record({ actor: anonymous, action: 'user.lockout', objectType: 'user', objectId: error.userId, address, details: { name: error.userName, until: error.until.toISOString() } });
      }
      throw error;
    }
  }
  const token = trimmed.replace(/^bearer\s+/i, '');
  const { user, token: record, memberships } = await deps.tokens.authenticate(token);
  return { kind: 'user', user: { id: user.id, name: user.name, sysadmin: user.sysadmin }, tokenId: record.id, memberships };
}

/** Keys of the error object that field messages may not replace. */
const ENVELOPE_KEYS = new Set(['__type', 'code', 'message', 'suggestions']);

/** Maps any error to CKAN's envelope; unexpected errors are logged and reveal nothing. */
export function errorResponse(c: Context<AppEnv>, error: unknown, logger: Logger, siteUrl: string): Response {
  const name = c.req.param('name');
  const help = name ? helpUrl(siteUrl, name) : undefined;
  if (isPlatformError(error)) {
    // Field messages sit beside __type and message, as in CKAN; a field that shares one of
    // those names must not overwrite them, so its messages go into the message instead.
    const clashing = Object.entries(error.fields).filter(([field]) => ENVELOPE_KEYS.has(field));
    const message = clashing.length ? `${error.message}; ${clashing.map(([field, messages]) => `${field}: ${messages.join(', ')}`).join('; ')}` : error.message;
    // `code` is the catalogue's (PLATFORM_ERR_...): clients key on it, not on the message.
    const body: Record<string, unknown> = { ...error.fields, __type: error.ckanType, code: error.code, message };
    if (error instanceof UnknownActionError) body.suggestions = error.suggestions;
    return c.json({ ...(help ? { help } : {}), success: false, error: body }, error.status as ContentfulStatusCode);
  }
  const requestId = c.get('requestId');
  logger.error('request failed', { requestId, method: c.req.method, path: c.req.path, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), stack: error instanceof Error ? error.stack : undefined });
  return c.json({ ...(help ? { help } : {}), success: false, error: { __type: 'Internal Server Error', message: `internal error; quote request id ${requestId} to the site admin` } }, 500);
}

