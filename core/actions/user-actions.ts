// user_* and api_token_* actions.
import type { ActionContext, ActionDefinition } from '../plugins/hooks/actions.js';
import { ApiTokenServiceId, AuditLogId, PermissionServiceId, UserServiceId } from '../services/service-ids.js';
import type { User } from '../auth/user-service.js';
import type { ApiToken } from '../auth/api-token-service.js';
import { AuthorizationError, NotFoundError } from '../errors.js';
import { requireAllowed } from './require-allowed.js';

const name = { type: 'string', minLength: 1, maxLength: 100 } as const;

function userDict(user: User, full: boolean): Record<string, unknown> {
  const dict: Record<string, unknown> = { id: user.id, name: user.name, fullname: user.fullname, created: user.createdAt.toISOString(), sysadmin: user.sysadmin, state: user.state };
  if (full) dict.email = user.email;
  return dict;
}

function tokenDict(token: ApiToken): Record<string, unknown> {
  return {
    id: token.id, name: token.name, prefix: token.prefix, user_id: token.userId, created_at: token.createdAt.toISOString(),
    expires_at: token.expiresAt?.toISOString() ?? null, last_access: token.lastUsedAt?.toISOString() ?? null, revoked_at: token.revokedAt?.toISOString() ?? null,
  };
}

async function requireSelf(ctx: ActionContext, userId: string, input: Record<string, unknown>): Promise<void> {
  await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { userId }, input }, undefined, ctx.transaction);
}

/** The user and API token actions. */
export function userActions(): ActionDefinition[] {
  return [
    {
      name: 'user_create',
      kind: 'write',
      help: 'Creates a user (sysadmins only). Required: name, email, password. Optional: fullname.',
      inputSchema: { type: 'object', required: ['name', 'email', 'password'], additionalProperties: false, properties: { name, email: { type: 'string', maxLength: 254 }, password: { type: 'string', maxLength: 1000 }, fullname: { type: 'string', maxLength: 200 } } },
      run: async (input, ctx) => {
        // Policies see who is to be created, never the password.
        const { password: _password, ...visible } = input;
        await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: {}, input: visible }, undefined, ctx.transaction);
        const user = await ctx.services.get(UserServiceId).create(input as { name: string; email: string; password: string; fullname?: string }, ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'user', objectId: user.id, address: ctx.address, details: { name: user.name } }, ctx.transaction);
        ctx.emit('user.created', { user: { id: user.id, name: user.name }, actor: ctx.actor });
        return userDict(user, true);
      },
    },
    {
      name: 'user_show',
      kind: 'read',
      help: 'Returns a user; the email only to the user and sysadmins. Required: id (name or id).',
      inputSchema: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: name } },
      run: async (input, ctx) => {
        const user = await ctx.services.get(UserServiceId).get(input.id as string);
        await requireAllowed(ctx, input, { userId: user.id });
        const full = ctx.actor.kind === 'system' || (ctx.actor.kind === 'user' && (ctx.actor.user.sysadmin || ctx.actor.user.id === user.id));
        return userDict(user, full);
      },
    },
    {
      name: 'api_token_create',
      kind: 'write',
      help: 'Creates an API token for a user (the user or a sysadmin). Required: user, name. Optional: expires_days. The token is shown only in this answer.',
      inputSchema: { type: 'object', required: ['user', 'name'], additionalProperties: false, properties: { user: name, name: { type: 'string', minLength: 1, maxLength: 200 }, expires_days: { type: 'integer', minimum: 1, maximum: 3650 } } },
      run: async (input, ctx) => {
        const user = await ctx.services.get(UserServiceId).find(input.user as string, ctx.transaction);
        if (!user) throw new NotFoundError(`user "${input.user}" not found`);
        await requireSelf(ctx, user.id, input);
        const created = await ctx.services.get(ApiTokenServiceId).create(user, input.name as string, input.expires_days as number | undefined, ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'api_token', objectId: created.record.id, address: ctx.address, details: { user: user.name, name: created.record.name, prefix: created.record.prefix } }, ctx.transaction);
        return { token: created.token, ...tokenDict(created.record) };
      },
    },
    {
      name: 'api_token_list',
      kind: 'read',
      help: 'Lists a user\'s API tokens, without secrets (the user or a sysadmin). Required: user_id (CKAN 2.10; user also accepted): name or id.',
      inputSchema: { type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1, properties: { user_id: name, user: name } },
      run: async (input, ctx) => {
        const reference = (input.user_id ?? input.user) as string;
        const user = await ctx.services.get(UserServiceId).find(reference);
        if (!user) throw new NotFoundError(`user "${reference}" not found`);
        await requireSelf(ctx, user.id, input);
        return (await ctx.services.get(ApiTokenServiceId).list(user.id)).map(tokenDict);
      },
    },
    {
      name: 'api_token_revoke',
      kind: 'write',
      help: 'Revokes an API token at once (its owner or a sysadmin). Required, one of: jti (the token id, as CKAN 2.10), token (the token itself), id (token id or prefix).',
      inputSchema: {
        type: 'object', additionalProperties: false, minProperties: 1, maxProperties: 1,
        properties: { id: { type: 'string', minLength: 1, maxLength: 100 }, jti: { type: 'string', minLength: 1, maxLength: 100 }, token: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      run: async (input, ctx) => {
        const tokens = ctx.services.get(ApiTokenServiceId);
        const token = typeof input.token === 'string' ? await tokens.findBySecret(input.token, ctx.transaction) : await tokens.get((input.jti ?? input.id) as string, ctx.transaction);
        try {
          await requireSelf(ctx, token.userId, { ...input, ...(input.token ? { token: '(hidden)' } : {}) });
        } catch (error) {
          // Another user's token answers as an unknown one does: the caller learns nothing of it.
          if (error instanceof AuthorizationError && ctx.actor.kind === 'user') throw new NotFoundError(`API token "${input.token ? '(hidden)' : String(input.jti ?? input.id)}" not found`);
          throw error;
        }
        const revoked = await tokens.revoke(token.id, ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'api_token', objectId: token.id, address: ctx.address, details: { prefix: token.prefix } }, ctx.transaction);
        return tokenDict(revoked);
      },
    },
  ];
}
