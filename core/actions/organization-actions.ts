// organization_* actions: organisations and their members.
import type { ActionContext, ActionDefinition } from '../plugins/hooks/actions.js';
import { AuditLogId, OrganizationServiceId, PermissionServiceId, UserServiceId } from '../services/service-ids.js';
import type { Organization } from '../auth/organization-service.js';
import { ValidationError } from '../errors.js';
import { requireAllowed } from './require-allowed.js';

const name = { type: 'string', minLength: 1, maxLength: 100 } as const;

async function orgDict(org: Organization, ctx: ActionContext, withUsers: boolean): Promise<Record<string, unknown>> {
  const dict: Record<string, unknown> = { id: org.id, name: org.name, title: org.title, description: org.description, created: org.createdAt.toISOString(), type: 'organization', is_organization: true };
  if (withUsers) {
    const role = await ctx.services.get(PermissionServiceId).roleIn(ctx.actor, org.id, ctx.transaction);
    if (role) dict.users = (await ctx.services.get(OrganizationServiceId).members(org.id)).map((m) => ({ name: m.userName, id: m.userId, capacity: m.role }));
  }
  return dict;
}

/** The organisation actions. */
export function organizationActions(): ActionDefinition[] {
  return [
    {
      name: 'organization_list',
      kind: 'read',
      help: 'Returns the names of all organizations; with all_fields=true, their dicts.',
      inputSchema: { type: 'object', additionalProperties: false, properties: { all_fields: { type: ['boolean', 'string'], enum: [true, false, 'true', 'false'] } } },
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        const orgs = await ctx.services.get(OrganizationServiceId).list();
        if (input.all_fields === true || input.all_fields === 'true') return Promise.all(orgs.map((o) => orgDict(o, ctx, false)));
        return orgs.map((o) => o.name);
      },
    },
    {
      name: 'organization_show',
      kind: 'read',
      help: 'Returns an organization; its members are listed for its members and sysadmins. Required: id.',
      inputSchema: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: name, include_users: { type: ['boolean', 'string'] } } },
      run: async (input, ctx) => {
        const org = await ctx.services.get(OrganizationServiceId).get(input.id as string);
        await requireAllowed(ctx, input, { organizationId: org.id });
        return orgDict(org, ctx, true);
      },
    },
    {
      name: 'organization_create',
      kind: 'write',
      help: 'Creates an organization (sysadmins only). Required: name. Optional: title, description.',
      inputSchema: { type: 'object', required: ['name'], additionalProperties: false, properties: { name, title: { type: 'string', maxLength: 200 }, description: { type: 'string', maxLength: 10000 } } },
      run: async (input, ctx) => {
        await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: {}, input }, undefined, ctx.transaction);
        const org = await ctx.services.get(OrganizationServiceId).create(input as { name: string; title?: string; description?: string }, ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'organization', objectId: org.id, address: ctx.address, details: { name: org.name } }, ctx.transaction);
        ctx.emit('organization.created', { organization: { id: org.id, name: org.name }, actor: ctx.actor });
        return orgDict(org, ctx, false);
      },
    },
    {
      name: 'organization_member_create',
      kind: 'write',
      help: 'Adds a user to an organization or changes their role (organization admins). Required: id, username, role (member|editor|admin).',
      inputSchema: { type: 'object', required: ['id', 'username', 'role'], additionalProperties: false, properties: { id: name, username: name, role: { type: 'string', enum: ['member', 'editor', 'admin'] } } },
      run: async (input, ctx) => {
        const org = await ctx.services.get(OrganizationServiceId).get(input.id as string, ctx.transaction);
        await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input }, undefined, ctx.transaction);
        const user = await ctx.services.get(UserServiceId).find(input.username as string, ctx.transaction);
        if (!user) throw new ValidationError('member is invalid', { username: [`user "${input.username}" does not exist`] });
        await ctx.services.get(OrganizationServiceId).setMember(org.id, user.id, input.role as 'member' | 'editor' | 'admin', ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'organization', objectId: org.id, address: ctx.address, details: { user: user.name, role: input.role } }, ctx.transaction);
        return { organization: org.name, username: user.name, role: input.role };
      },
    },
    {
      name: 'organization_member_delete',
      kind: 'write',
      help: 'Removes a user from an organization (organization admins). Required: id, username.',
      inputSchema: { type: 'object', required: ['id', 'username'], additionalProperties: false, properties: { id: name, username: name } },
      run: async (input, ctx) => {
        const org = await ctx.services.get(OrganizationServiceId).get(input.id as string, ctx.transaction);
        await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input }, undefined, ctx.transaction);
        const user = await ctx.services.get(UserServiceId).find(input.username as string, ctx.transaction);
        if (!user) throw new ValidationError('member is invalid', { username: [`user "${input.username}" does not exist`] });
        await ctx.services.get(OrganizationServiceId).removeMember(org.id, user.id, ctx.transaction);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: ctx.action, objectType: 'organization', objectId: org.id, address: ctx.address, details: { user: user.name } }, ctx.transaction);
        return null;
      },
    },
  ];
}
