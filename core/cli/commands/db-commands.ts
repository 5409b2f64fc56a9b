// platform db upgrade|status
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { MigratorId } from '../../services/service-ids.js';
import { ConfigError } from '../../errors.js';
import { printJson, printTable } from './command-support.js';

/** The database commands. */
export function dbCommands(): CommandDefinition[] {
  return [
    {
      name: 'db upgrade',
      summary: 'apply pending migrations of core and every enabled plugin',
      needs: 'database',
      async run(_args, ctx) {
        const migrator = ctx.services.get(MigratorId);
        const pending = await migrator.pending();
        if (!pending.length) {
          ctx.stderr.write('database is up to date\n');
          return;
        }
        ctx.stderr.write(`applying ${pending.length} migration(s): ${pending.join(', ')}\n`);
        for (const name of await migrator.up()) ctx.stdout.write(`applied ${name}\n`);
      },
    },
    {
      name: 'db status',
      summary: 'list applied and pending migrations; exit 1 when some are pending',
      needs: 'database',
      options: { json: { type: 'boolean', description: 'print JSON' } },
      async run(args, ctx) {
        const status = await ctx.services.get(MigratorId).status();
        if (args.options.json) printJson(ctx.stdout, status);
        else printTable(ctx.stdout, ['MIGRATION', 'STATE'], status.map((m) => [m.name, m.applied ? 'applied' : 'pending']));
        const pending = status.filter((m) => !m.applied).length;
        if (pending) {
          ctx.stderr.write(`${pending} pending; run: platform db upgrade\n`);
          return 1;
        }
        if (!status.length) throw new ConfigError('no migrations are known');
        return 0;
      },
    },
  ];
}
