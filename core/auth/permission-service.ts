// Who may do what. Core's rules decide first; AuthPolicy contributions may then deny what
// core allowed, never allow what core denied.
import type { Transaction } from 'sequelize';
import type { AuthPolicy, AuthRequest } from '../plugins/hooks/auth-policy.js';
import type { Contribution } from '../plugins/hook-id.js';
import { AuthorizationError } from '../errors.js';
import type { Actor } from './actor.js';
import type { MemberRole, OrganizationService } from './organization-service.js';

/**
 * Core's rule for an action:
 * - `anyone`: no login needed;
 * - `user`: any logged-in user;
 * - `visible`: the dataset is public and active, or the user belongs to its organisation;
 * - `member` / `editor` / `admin`: at least that role in the target organisation;
 * - `self`: the target user is the caller;
 * - `sysadmin`: sysadmins only.
 * Sysadmins pass every rule.
 */
export type CoreRule = 'anyone' | 'user' | 'visible' | 'member' | 'editor' | 'admin' | 'self' | 'sysadmin';

/** Core's rule for each core action. */
export const CORE_RULES: Readonly<Record<string, CoreRule>> = {
  status_show: 'anyone',
  site_read: 'anyone',
  help_show: 'anyone',
  package_list: 'anyone',
  package_search: 'anyone',
  package_show: 'visible',
  resource_show: 'visible',
  package_create: 'editor',
  package_update: 'editor',
  package_patch: 'editor',
  package_delete: 'editor',
  resource_create: 'editor',
  resource_update: 'editor',
  resource_patch: 'editor',
  resource_delete: 'editor',
  organization_list: 'anyone',
  organization_show: 'anyone',
  organization_create: 'sysadmin',
  organization_member_create: 'admin',
  organization_member_delete: 'admin',
  user_create: 'sysadmin',
  user_show: 'anyone',
  api_token_create: 'self',
  api_token_list: 'self',
  api_token_revoke: 'self',
};

const RANK: Record<MemberRole, number> = { member: 1, editor: 2, admin: 3 };

/** Decides permissions. */
export class PermissionService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly policies: readonly Contribution<AuthPolicy>[],
  ) {}

  /**
   * Throws unless the actor may perform the action on the target.
   * @param rule core's rule; defaults to the rule of a core action, else `sysadmin`.
   * @throws AuthorizationError saying what is missing, or which policy denied.
   */
  async require(request: AuthRequest, rule: CoreRule = CORE_RULES[request.action] ?? 'sysadmin', transaction?: Transaction): Promise<void> {
    const denial = await this.coreDenial(request.actor, rule, request.target, transaction);
    if (denial) throw new AuthorizationError(`${request.action}: ${denial}`);
    for (const { plugin, value } of this.policies) {
      const reason = await value.check(request);
      if (reason) throw new AuthorizationError(`${request.action}: denied by policy "${value.name}" of plugin ${plugin}: ${reason}`);
    }
  }

  /** True when `require` would pass. */
  async allows(request: AuthRequest, rule?: CoreRule, transaction?: Transaction): Promise<boolean> {
    try {
      await this.require(request, rule, transaction);
      return true;
    } catch (error) {
      if (error instanceof AuthorizationError) return false;
      throw error;
    }
  }

  /**
   * True when core's own rule lets the actor through, before any AuthPolicy is asked; for
   * questions such as "may this caller know the dataset exists?", which policies do not decide.
   */
  async coreAllows(actor: Actor, rule: CoreRule, target: AuthRequest['target'], transaction?: Transaction): Promise<boolean> {
    return (await this.coreDenial(actor, rule, target, transaction)) === undefined;
  }

  /**
   * CKAN's check_access before validation: the part of core's rule for a core action that
   * holds whatever the input says (logged in; sysadmin; some organisation in which the
   * caller has the role the rule needs). Run before the input is read, so anonymous and
   * under-privileged callers get 403 for any body and learn nothing of the schema.
   * Actions outside core's list (plugins' own) decide for themselves.
   * @throws AuthorizationError saying what is missing
   */
  async requireBeforeInput(actor: Actor, action: string): Promise<void> {
    const rule = CORE_RULES[action];
    if (!rule || rule === 'anyone' || rule === 'visible' || actor.kind === 'system') return;
    if (actor.kind !== 'user') throw new AuthorizationError(`${action}: log in first (send an API token in the Authorization header)`);
    if (actor.user.sysadmin) return;
    if (rule === 'sysadmin') throw new AuthorizationError(`${action}: only sysadmins may do this`);
    if (rule === 'member' || rule === 'editor' || rule === 'admin') {
      const roles = actor.memberships ?? (await this.organizations.membershipsOf(actor.user.id));
      const held = [...roles.values()];
      if (!held.some((role) => RANK[role] >= RANK[rule])) {
        const best = held.sort((a, b) => RANK[b] - RANK[a])[0];
        throw new AuthorizationError(`${action}: ${best ? `your role "${best}" is not enough in any organization; it needs "${rule}"` : `you need the role "${rule}" in an organization`}`);
      }
    }
  }

  /** The role of the actor in an organisation ('sysadmin' passes as admin). */
  async roleIn(actor: Actor, organizationId: string | undefined, transaction?: Transaction): Promise<MemberRole | undefined> {
    if (actor.kind === 'system') return 'admin';
    if (actor.kind !== 'user' || !organizationId) return undefined;
    if (actor.user.sysadmin) return 'admin';
    // Outside a transaction the roles read with the token at the start of the request will do.
    if (actor.memberships && !transaction) return actor.memberships.get(organizationId);
    return this.organizations.roleOf(actor.user.id, organizationId, transaction);
  }

  private async coreDenial(actor: Actor, rule: CoreRule, target: AuthRequest['target'], transaction?: Transaction): Promise<string | undefined> {
    if (rule === 'anyone') return undefined;
    if (actor.kind === 'system') return undefined;
    if (rule === 'visible' && target.datasetPrivate === false && target.datasetState === 'active') return undefined;
    if (actor.kind !== 'user') return 'log in first (send an API token in the Authorization header)';
    if (actor.user.sysadmin) return undefined;
    switch (rule) {
      case 'user':
        return undefined;
      case 'sysadmin':
        return 'only sysadmins may do this';
      case 'self':
        return target.userId === actor.user.id ? undefined : 'you may do this only for your own account';
      case 'visible': {
        const role = await this.roleIn(actor, target.organizationId, transaction);
        if (target.datasetState === 'deleted') return role && RANK[role] >= RANK.editor ? undefined : 'this dataset is deleted';
        return role ? undefined : 'this dataset is private to its organization';
      }
      case 'member':
      case 'editor':
      case 'admin': {
        const role = await this.roleIn(actor, target.organizationId, transaction);
        if (role && RANK[role] >= RANK[rule]) return undefined;
        return role ? `your role "${role}" in this organization is not enough; it needs "${rule}"` : `you need the role "${rule}" in this organization`;
      }
    }
  }
}
