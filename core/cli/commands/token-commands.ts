// platform token create|list|revoke. `create` prints the token alone on stdout, so
// KEY=$(platform token create ...) works; everything else goes to stderr.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { ActionRunnerId, ApiTokenServiceId, UserServiceId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import { cliActor, positionals, printJson, printTable, requireOption, stringOption } from './command-support.js';

/** The API token commands. */
export function tokenCommands(): CommandDefinition[] {
  return [
    {
      name: 'token create',
      summary: 'create an API token for a user; prints only the token',
      needs: 'database',
      options: {
        user: { type: 'string', value: 'NAME', description: 'the user the token acts as (required)' },
        name: { type: 'string', value: 'LABEL', description: 'a label to tell tokens apart (required)' },
        'expires-days': { type: 'string', value: 'N', description: 'expire after N days (default: never)' },
      },
      async run(args, ctx) {
        const user = requireOption(args, 'user', 'token create');
        const name = requireOption(args, 'name', 'token create');
        const days = stringOption(args, 'expires-days');
        if (days !== undefined && !/^\d+$/.test(days)) throw new UsageError(`--expires-days must be a whole number of days, not "${days}"`);
        const input: Record<string, unknown> = { user, name, ...(days !== undefined ? { expires_days: Number(days) } : {}) };
        const created = (await ctx.services.get(ActionRunnerId).run('api_token_create', input, { actor: cliActor })) as { token: string; prefix: string; expires_at: string | null };
        ctx.stderr.write(`created token ${created.prefix} for ${user}${created.expires_at ? `, expires ${created.expires_at}` : ''}; it is shown only now\n`);
        ctx.stdout.write(`${created.token}\n`);
      },
    },
    {
      name: 'token list',
      summary: 'list a user\'s API tokens (never their secrets)',
      needs: 'database',
      options: { user: { type: 'string', value: 'NAME', description: 'whose tokens (required)' }, json: { type: 'boolean', description: 'print JSON' } },
      async run(args, ctx) {
        const user = await ctx.services.get(UserServiceId).get(requireOption(args, 'user', 'token list'));
        const tokens = await ctx.services.get(ApiTokenServiceId).list(user.id);
        if (args.options.json) return printJson(ctx.stdout, tokens);
        const now = new Date();
        printTable(
          ctx.stdout,
          ['PREFIX', 'NAME', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'],
          tokens.map((t) => [t.prefix, t.name, t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt <= now ? 'expired' : 'active', t.createdAt.toISOString(), t.expiresAt?.toISOString() ?? 'never', t.lastUsedAt?.toISOString() ?? 'never']),
        );
      },
    },
    {
      name: 'token revoke',
      usage: 'PREFIX',
      summary: 'revoke an API token at once (by its prefix or id)',
      needs: 'database',
      async run(args, ctx) {
        const [id] = positionals(args, ['PREFIX'], 'token revoke');
        await ctx.services.get(ActionRunnerId).run('api_token_revoke', { id }, { actor: cliActor });
        ctx.stderr.write(`revoked token ${id}\n`);
      },
    },
  ];
}
