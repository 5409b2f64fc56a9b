// platform user add|list|show|set-password|sysadmin|delete
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { AuditLogId, UserServiceId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import { cliActor, obtainPassword, positionals, printJson, printTable, requireOption, stringOption } from './command-support.js';

const passwordFile = { type: 'string', value: 'FILE', description: 'read the password from the first line of FILE (otherwise asked on the terminal)' } as const;
const json = { type: 'boolean', description: 'print JSON' } as const;

/** The user commands. */
export function userCommands(): CommandDefinition[] {
  return [
    {
      name: 'user add',
      usage: 'NAME',
      summary: 'create a user',
      description: 'The password is read from --password-file, or asked on the terminal; it is never taken as an argument.',
      needs: 'database',
      options: { email: { type: 'string', value: 'EMAIL', description: 'email address (required)' }, 'password-file': passwordFile, fullname: { type: 'string', value: 'TEXT', description: 'display name' }, sysadmin: { type: 'boolean', description: 'make the user a sysadmin' } },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'user add');
        const email = requireOption(args, 'email', 'user add');
        const users = ctx.services.get(UserServiceId);
        const password = await obtainPassword(args, ctx);
        const user = await users.create({ name: name!, email, password, fullname: stringOption(args, 'fullname') ?? '', sysadmin: args.options.sysadmin === true });
        await ctx.services.get(AuditLogId).record({ actor: cliActor, action: 'user_create', objectType: 'user', objectId: user.id, details: { name: user.name, sysadmin: user.sysadmin } });
        ctx.stderr.write(`created user ${user.name}${user.sysadmin ? ' (sysadmin)' : ''}\n`);
        ctx.stdout.write(`${user.id}\n`);
      },
    },
    {
      name: 'user list',
      summary: 'list users',
      needs: 'database',
      options: { json },
      async run(args, ctx) {
        const users = await ctx.services.get(UserServiceId).list();
        if (args.options.json) return printJson(ctx.stdout, users.map((u) => ({ id: u.id, name: u.name, email: u.email, fullname: u.fullname, sysadmin: u.sysadmin, created: u.createdAt })));
        printTable(ctx.stdout, ['NAME', 'EMAIL', 'SYSADMIN', 'CREATED'], users.map((u) => [u.name, u.email, u.sysadmin ? 'yes' : '', u.createdAt.toISOString()]));
      },
    },
    {
      name: 'user show',
      usage: 'NAME',
      summary: 'show a user',
      needs: 'database',
      options: { json },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'user show');
        const u = await ctx.services.get(UserServiceId).get(name!);
        const view = { id: u.id, name: u.name, email: u.email, fullname: u.fullname, sysadmin: u.sysadmin, locked_until: u.lockedUntil ?? null, created: u.createdAt };
        if (args.options.json) return printJson(ctx.stdout, view);
        for (const [key, value] of Object.entries(view)) ctx.stdout.write(`${key}: ${value instanceof Date ? value.toISOString() : String(value ?? '')}\n`);
      },
    },
    {
      name: 'user set-password',
      usage: 'NAME',
      summary: 'set a user\'s password (and clear a lockout)',
      needs: 'database',
      options: { 'password-file': passwordFile },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'user set-password');
        const users = ctx.services.get(UserServiceId);
        const user = await users.get(name!);
        await users.setPassword(user.id, await obtainPassword(args, ctx, 'New password'));
        await ctx.services.get(AuditLogId).record({ actor: cliActor, action: 'user_set_password', objectType: 'user', objectId: user.id, details: { name: user.name } });
        ctx.stderr.write(`password of ${user.name} changed\n`);
      },
    },
    {
      name: 'user sysadmin',
      usage: 'NAME',
      summary: 'grant sysadmin rights (or remove them with --off)',
      needs: 'database',
      options: { off: { type: 'boolean', description: 'remove sysadmin rights instead' } },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'user sysadmin');
        const user = await ctx.services.get(UserServiceId).setSysadmin(name!, args.options.off !== true);
        await ctx.services.get(AuditLogId).record({ actor: cliActor, action: 'user_sysadmin', objectType: 'user', objectId: user.id, details: { name: user.name, sysadmin: user.sysadmin } });
        ctx.stderr.write(`${user.name} is ${user.sysadmin ? 'now' : 'no longer'} a sysadmin\n`);
      },
    },
    {
      name: 'user delete',
      usage: 'NAME',
      summary: 'delete a user and revoke their tokens',
      needs: 'database',
      options: { yes: { type: 'boolean', description: 'do not ask for confirmation' } },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'user delete');
        const users = ctx.services.get(UserServiceId);
        const user = await users.get(name!);
        if (args.options.yes !== true && !(await ctx.confirm(`Delete user ${user.name} and revoke their tokens?`))) {
          throw new UsageError('not confirmed; add --yes to delete without asking');
        }
        await users.delete(user.id);
        await ctx.services.get(AuditLogId).record({ actor: cliActor, action: 'user_delete', objectType: 'user', objectId: user.id, details: { name: user.name } });
        ctx.stderr.write(`deleted user ${user.name}\n`);
      },
    },
  ];
}
