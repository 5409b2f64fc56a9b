// platform nginx-config: prints the nginx configuration generated from platform.ini.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { PlatformConfigId } from '../../services/service-ids.js';
import { nginxConfigOf } from '../../config/nginx-config.js';

/** The nginx-config command. */
export function nginxConfigCommands(): CommandDefinition[] {
  return [
    {
      name: 'nginx-config',
      summary: 'print the nginx configuration for this platform.ini (upstream nodes, TLS files, upload limit)',
      needs: 'config',
      options: {},
      async run(_args, ctx) {
        ctx.stdout.write(nginxConfigOf(ctx.services.get(PlatformConfigId)));
      },
    },
  ];
}
