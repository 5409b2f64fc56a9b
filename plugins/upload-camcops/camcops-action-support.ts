// What the plugin's actions share: input schema fragments, a SQL runner on the action's
// transaction, and the organisation an input names, checked against the caller's role in it.
import { DatabaseId, NotFoundError, OrganizationServiceId, PermissionServiceId, type ActionContext } from '../../core/api.js';
import { SqlRunner } from './sql-runner.js';

/** A short text input (names, organisation references). */
export const shortText = { type: 'string', maxLength: 200 } as const;
/** A longer text input (descriptions, free values). */
export const longText = { type: 'string', maxLength: 2000 } as const;
/**
 * A row id, count or offset, as JSON (a number) or in a query string (digits): never negative
 * and never past what a 32-bit INTEGER column holds, so no value reaches the database that it
 * would refuse with an error.
 */
export const rowId = { type: ['integer', 'string'], minimum: 0, maximum: 2_147_483_647, pattern: '^\\d{1,9}$' } as const;

/** A SQL runner bound to the action's transaction. */
export function sqlOf(ctx: ActionContext): SqlRunner {
  const db = ctx.services.get(DatabaseId);
  return new SqlRunner(db.sequelize, db.dialect, ctx.transaction);
}

/**
 * The organisation `input.organization` names, once the caller is known to have `rule` in it.
 * @throws NotFoundError for an unknown organisation; AuthorizationError without the role.
 */
export async function organizationRefOf(ctx: ActionContext, input: Record<string, unknown>, rule: 'member' | 'editor' | 'admin'): Promise<{ id: string; name: string }> {
  const ref = input.organization;
  const org = await ctx.services.get(OrganizationServiceId).find(String(ref ?? ''), ctx.transaction);
  if (!org) throw new NotFoundError(`organization "${String(ref ?? '')}" not found`);
  await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input }, rule, ctx.transaction);
  return { id: org.id, name: org.name };
}

/** The id of the organisation `input.organization` names (see organizationRefOf). */
export async function organizationOf(ctx: ActionContext, input: Record<string, unknown>, rule: 'member' | 'editor' | 'admin'): Promise<string> {
  return (await organizationRefOf(ctx, input, rule)).id;
}
