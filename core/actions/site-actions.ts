// status_show and site_read.
import type { ActionDefinition } from '../plugins/hooks/actions.js';
import { ActionRunnerId, PlatformConfigId } from '../services/service-ids.js';
import { PLATFORM_VERSION } from '../version.js';
import { requireAllowed } from './require-allowed.js';

const noInput = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Site-level read actions. */
export function siteActions(pluginNames: () => string[]): ActionDefinition[] {
  return [
    {
      name: 'status_show',
      kind: 'read',
      help: 'Returns the site title, URL, platform version and the enabled plugins.',
      inputSchema: noInput,
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        const config = ctx.services.get(PlatformConfigId);
        return {
          site_title: config.string('platform', 'site_title') ?? '',
          site_url: config.string('platform', 'site_url') ?? '',
          platform_version: PLATFORM_VERSION,
          ckan_version: '2.10',
          extensions: pluginNames(),
        };
      },
    },
    {
      name: 'help_show',
      kind: 'read',
      help: 'Returns the help text of an action. Required: name.',
      inputSchema: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 100 } } },
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        return ctx.services.get(ActionRunnerId).get(input.name as string).help;
      },
    },
    {
      name: 'site_read',
      kind: 'read',
      help: 'Returns true: the site can be read.',
      inputSchema: noInput,
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        return true;
      },
    },
  ];
}
