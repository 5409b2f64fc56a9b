// A populated installation for API tests: organisations `lab` and `other`, a user for each
// role, a sysadmin, API tokens for all of them, and a revoked and an expired token; plus
// small helpers for raw requests (with a client address), Basic credentials, expiring
// tokens and reading the audit trail. Everything is made through core's services, as the
// CLI would make it, never through the API under test.
import type { TestHost, ActionBody } from './test-host.js';
import { ApiTokenServiceId, AuditLogId, DatabaseId, OrganizationServiceId, UserServiceId } from '../../core/services/service-ids.js';
import type { MemberRole } from '../../core/auth/organization-service.js';
import type { AuditEvent } from '../../core/audit/audit-log.js';

/** The roles an API test acts in. */
export type Role = 'anonymous' | 'member' | 'editor' | 'admin' | 'other' | 'sysadmin' | 'revoked' | 'expired';
/** Every role, in the order the matrix reports them. */
export const ROLES: readonly Role[] = ['anonymous', 'member', 'editor', 'admin', 'other', 'sysadmin', 'revoked', 'expired'];

/** The roles that stand for a real user (not anonymous, not a dead token). */
export type UserRole = Exclude<Role, 'anonymous' | 'revoked' | 'expired'>;

/** Tokens by role ('' for anonymous) and the users behind them. */
export interface ApiFixtures {
  /** The `Authorization` value of each role; `revoked` and `expired` belong to `editor-user`. */
  tokens: Record<Role, string>;
  users: Record<UserRole, { id: string; name: string }>;
  /** Ids of the organisations `lab` (member, editor, admin) and `other` (other). */
  orgs: { lab: string; other: string };
}

/**
 * Creates the organisations, users (without passwords: scrypt is slow), memberships and
 * tokens: `member-user`, `editor-user` and `admin-user` in `lab`, `other-user` as editor
 * of `other`, and `sysadmin-user`.
 */
export async function createApiFixtures(t: TestHost): Promise<ApiFixtures> {
  const users = t.host.services.get(UserServiceId);
  const orgs = t.host.services.get(OrganizationServiceId);
  const tokens = t.host.services.get(ApiTokenServiceId);
  const lab = await orgs.create({ name: 'lab', title: 'The Lab' });
  const other = await orgs.create({ name: 'other' });
  const made: Partial<ApiFixtures['users']> = {};
  const tokenOf: Partial<Record<Role, string>> = { anonymous: '' };
  const roles: Array<[UserRole, MemberRole | undefined, string | undefined]> = [
    ['member', 'member', lab.id], ['editor', 'editor', lab.id], ['admin', 'admin', lab.id], ['other', 'editor', other.id], ['sysadmin', undefined, undefined],
  ];
  for (const [role, memberRole, orgId] of roles) {
    const user = await users.create({ name: `${role}-user`, email: `${role}@example.org`, sysadmin: role === 'sysadmin' });
    if (memberRole && orgId) await orgs.setMember(orgId, user.id, memberRole);
    made[role] = { id: user.id, name: user.name };
    tokenOf[role] = (await tokens.create(user, `${role} token`)).token;
  }
  const editor = await users.get('editor-user');
  const revoked = await tokens.create(editor, 'revoked token');
  await tokens.revoke(revoked.record.id);
  tokenOf.revoked = revoked.token;
  const expired = await tokens.create(editor, 'expired token', 1);
  await expireToken(t, expired.record.id);
  tokenOf.expired = expired.token;
  return { tokens: tokenOf as Record<Role, string>, users: made as ApiFixtures['users'], orgs: { lab: lab.id, other: other.id } };
}

/** Makes a token expired a second ago, as time would (the API offers no way to do it). */
export async function expireToken(t: TestHost, tokenId: string): Promise<void> {
  await t.host.services.get(DatabaseId).models.ApiToken.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: tokenId } });
}

/** An `Authorization` value for HTTP Basic (password) login. */
export function basicAuth(name: string, password: string): string {
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
}

/** What a raw request answers. */
export interface RawAnswer {
  status: number;
  body: ActionBody;
  headers: Headers;
}

/** Options of a raw action request. */
export interface RawOptions {
  method?: 'GET' | 'POST';
  /** A string or bytes are sent as they are; an object as JSON. */
  body?: string | Uint8Array | ReadableStream<Uint8Array> | Record<string, unknown>;
  /** The `Authorization` header value. */
  auth?: string;
  headers?: Record<string, string>;
  /** The peer address the server sees on its socket. */
  address?: string;
}

/**
 * Sends one request to `/api/3/action/<action>` as a client would, with full control of
 * body, headers and the socket's peer address (which `app.request` otherwise leaves empty).
 */
export async function rawAction(t: TestHost, action: string, options: RawOptions = {}): Promise<RawAnswer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth) headers.authorization = options.auth;
  let body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
  if (options.body instanceof Uint8Array || typeof options.body === 'string' || options.body instanceof ReadableStream) body = options.body;
  else if (options.body) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const init: RequestInit & { duplex?: 'half' } = { method: options.method ?? 'POST', headers, ...(body === undefined ? {} : { body }) };
  if (options.body instanceof ReadableStream) init.duplex = 'half';
  const env = options.address ? { incoming: { socket: { remoteAddress: options.address } } } : undefined;
  const response = await t.app.request(`/api/3/action/${action}`, init, env);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as ActionBody, headers: response.headers };
}

/** Audit events, oldest first, optionally of one action. */
export async function auditEvents(t: TestHost, action?: string): Promise<AuditEvent[]> {
  const events = await t.host.services.get(AuditLogId).list({ ...(action ? { action } : {}), limit: 100_000 });
  return events.reverse();
}

/** How many audit events there are. */
export async function auditCount(t: TestHost): Promise<number> {
  return t.host.services.get(DatabaseId).models.AuditEvent.count();
}

/** Row counts of everything the action API can create, to show that a refused request changed nothing. */
export async function tableCounts(t: TestHost): Promise<Record<string, number>> {
  const { models } = t.host.services.get(DatabaseId);
  return {
    datasets: await models.Dataset.count(),
    resources: await models.Resource.count(),
    organizations: await models.Organization.count(),
    memberships: await models.Membership.count(),
    users: await models.User.count(),
    tokens: await models.ApiToken.count(),
    audit: await models.AuditEvent.count(),
  };
}
