// platform org add|list|member-add|member-remove (through the actions, so every hook fires).
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { ActionRunnerId, OrganizationServiceId } from '../../services/service-ids.js';
import { cliActor, positionals, printJson, printTable, requireOption, stringOption } from './command-support.js';

/** The organisation commands. */
export function orgCommands(): CommandDefinition[] {
  return [
    {
      name: 'org add',
      usage: 'NAME',
      summary: 'create an organization',
      needs: 'database',
      options: { title: { type: 'string', value: 'TEXT', description: 'display title' }, description: { type: 'string', value: 'TEXT', description: 'description' } },
      async run(args, ctx) {
        const [name] = positionals(args, ['NAME'], 'org add');
        const input: Record<string, unknown> = { name };
        for (const key of ['title', 'description']) if (stringOption(args, key) !== undefined) input[key] = stringOption(args, key);
        const org = (await ctx.services.get(ActionRunnerId).run('organization_create', input, { actor: cliActor })) as { id: string; name: string };
        ctx.stderr.write(`created organization ${org.name}\n`);
        ctx.stdout.write(`${org.id}\n`);
      },
    },
    {
      name: 'org list',
      summary: 'list organizations with their members',
      needs: 'database',
      options: { json: { type: 'boolean', description: 'print JSON' } },
      async run(args, ctx) {
        const service = ctx.services.get(OrganizationServiceId);
        const orgs = await Promise.all((await service.list()).map(async (o) => ({ ...o, members: await service.members(o.id) })));
        if (args.options.json) return printJson(ctx.stdout, orgs.map((o) => ({ id: o.id, name: o.name, title: o.title, members: o.members.map((m) => ({ user: m.userName, role: m.role })) })));
        printTable(ctx.stdout, ['NAME', 'TITLE', 'MEMBERS'], orgs.map((o) => [o.name, o.title, o.members.map((m) => `${m.userName}(${m.role})`).join(' ')]));
      },
    },
    {
      name: 'org member-add',
      usage: 'ORG USER',
      summary: 'add a user to an organization, or change their role',
      needs: 'database',
      options: { role: { type: 'string', value: 'ROLE', description: 'member, editor or admin (required)' } },
      async run(args, ctx) {
        const [org, user] = positionals(args, ['ORG', 'USER'], 'org member-add');
        const role = requireOption(args, 'role', 'org member-add');
        await ctx.services.get(ActionRunnerId).run('organization_member_create', { id: org, username: user, role }, { actor: cliActor });
        ctx.stderr.write(`${user} is ${role} of ${org}\n`);
      },
    },
    {
      name: 'org member-remove',
      usage: 'ORG USER',
      summary: 'remove a user from an organization',
      needs: 'database',
      async run(args, ctx) {
        const [org, user] = positionals(args, ['ORG', 'USER'], 'org member-remove');
        await ctx.services.get(ActionRunnerId).run('organization_member_delete', { id: org, username: user }, { actor: cliActor });
        ctx.stderr.write(`${user} removed from ${org}\n`);
      },
    },
  ];
}
