// platform plugins list: each loaded plugin, its version and every hook it contributes.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { HookRegistriesId, LoadedPluginsId } from '../../services/service-ids.js';
import { printJson } from './command-support.js';

/** The plugins command. */
export function pluginsCommands(): CommandDefinition[] {
  return [
    {
      name: 'plugins list',
      summary: 'list enabled plugins, their versions and what they contribute',
      needs: 'config',
      options: { json: { type: 'boolean', description: 'print JSON' } },
      async run(args, ctx) {
        const registries = ctx.services.get(HookRegistriesId);
        const plugins = ctx.services.get(LoadedPluginsId);
        const view = plugins.map((p) => ({ name: p.definition.name, version: p.definition.version, origin: p.origin, location: p.location, description: p.definition.description ?? '', contributes: registries.contributionsOf(p.definition.name) }));
        if (args.options.json) return printJson(ctx.stdout, view);
        if (!view.length) ctx.stdout.write('no plugins enabled ([platform] plugins is empty)\n');
        for (const p of view) {
          ctx.stdout.write(`${p.name} ${p.version} (${p.origin}: ${p.location})${p.description ? ` - ${p.description}` : ''}\n`);
          for (const hook of p.contributes) ctx.stdout.write(`  ${hook}\n`);
        }
      },
    },
  ];
}
