// status_show and site_read.
import type { ActionDefinition } from '../plugins/hooks/actions.js';
import { PlatformConfigId } from '../services/service-ids.js';
import { PLATFORM_VERSION } from '../version.js';

const noInput = { type: 'object', additionalProperties: false, properties: {} } as const;

/** Site-level read actions. */
export function siteActions(pluginNames: () => string[]): ActionDefinition[] {
  return [
    {
      name: 'status_show',
      kind: 'read',
      help: 'Returns the site title, URL, platform version and the enabled plugins.',
      inputSchema: noInput,
      run: async (_input, ctx) => {
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
      name: 'site_read',
      kind: 'read',
      help: 'Returns true: the site can be read.',
      inputSchema: noInput,
      run: async () => true,
    },
  ];
}
