// The permission check of actions that have no dataset to check against: core's rule for
// the action, then every AuthPolicy, which may deny even what anyone may do.
import type { ActionContext } from '../plugins/hooks/actions.js';
import type { AuthRequest } from '../plugins/hooks/auth-policy.js';
import { PermissionServiceId } from '../services/service-ids.js';

/**
 * Throws unless the actor may run the current action on `target`.
 * @throws AuthorizationError naming what is missing or which policy denied.
 */
export async function requireAllowed(ctx: ActionContext, input: Record<string, unknown>, target: AuthRequest['target'] = {}): Promise<void> {
  await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target, input }, undefined, ctx.transaction);
}
