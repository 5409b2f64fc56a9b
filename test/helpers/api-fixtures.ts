// A populated installation for API tests: organisations `lab` and `other`, a user for each
// role, a sysadmin, API tokens for all of them, and a revoked and an expired token.
import type { TestHost } from './test-host.js';
import { ApiTokenServiceId, DatabaseId, OrganizationServiceId, UserServiceId } from '../../core/services/service-ids.js';
import type { MemberRole } from '../../core/auth/organization-service.js';

/** The roles an API test acts in. */
export type Role = 'anonymous' | 'member' | 'editor' | 'admin' | 'other' | 'sysadmin' | 'revoked' | 'expired';
export const ROLES: readonly Role[] = ['anonymous', 'member', 'editor', 'admin', 'other', 'sysadmin', 'revoked', 'expired'];

/** Tokens by role ('' for anonymous) and the users behind them. */
export interface ApiFixtures {
  tokens: Record<Role, string>;
  users: Record<Exclude<Role, 'anonymous' | 'revoked' | 'expired'>, { id: string; name: string }>;
}

/** Creates the users, organisations and tokens. */
export async function createApiFixtures(t: TestHost): Promise<ApiFixtures> {
  const users = t.host.services.get(UserServiceId);
  const orgs = t.host.services.get(OrganizationServiceId);
  const tokens = t.host.services.get(ApiTokenServiceId);
  const lab = await orgs.create({ name: 'lab', title: 'The Lab' });
  const other = await orgs.create({ name: 'other' });
  const made: Partial<ApiFixtures['users']> = {};
  const tokenOf: Partial<Record<Role, string>> = { anonymous: '' };
  const roles: Array<[keyof ApiFixtures['users'], MemberRole | undefined, string | undefined]> = [
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
  await t.host.services.get(DatabaseId).models.ApiToken.update({ expiresAt: new Date(Date.now() - 1000) }, { where: { id: expired.record.id } });
  tokenOf.expired = expired.token;
  return { tokens: tokenOf as Record<Role, string>, users: made as ApiFixtures['users'] };
}
