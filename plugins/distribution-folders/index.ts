// distribution-folders: the drop folder of the distribution plugin. It owns the
// `[plugin:distribution-folders]` section and, when the platform serves, has the folder
// watched through the distribution plugin's DistributionDropFolders service; files dropped
// there enter distribution (moved) once complete and stable.
import { definePlugin, Lifecycle, type ConfigSectionSchema } from '../../core/api.js';
import { dropFoldersService } from './drop-folders-client.js';

/** The `[plugin:distribution-folders]` section. */
export const distributionFoldersConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    watch: { type: 'string', 'x-path': true, description: 'Drop folder: files there are taken into distribution at start and whenever they change.' },
    stable_ms: { type: 'integer', minimum: 0, maximum: 600_000, default: 1000, description: 'A dropped file is taken once its size and time stayed unchanged this long.' },
    scan_seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'Rescan of the drop folder, in case a change notification was missed.' },
  },
} as const satisfies ConfigSectionSchema;

export default definePlugin({
  name: 'distribution-folders',
  version: '0.1.0',
  description: 'The drop folder of the distribution plugin: files dropped there are distributed',
  coreVersion: '^0.1.0',
  config: distributionFoldersConfigSchema,
  register(ctx) {
    if (!ctx.platformConfig.pluginNames().includes('distribution')) {
      throw new Error('needs the distribution plugin: add "distribution" to [platform] plugins');
    }
    const watch = ctx.config.watch ? ctx.resolvePath(ctx.config.watch) : undefined;
    let watching: { dispose(): Promise<void> } | undefined;
    ctx.contribute(Lifecycle, {
      onStart: async (services) => {
        if (!watch) return void ctx.logger.warn('[plugin:distribution-folders] watch is not set: no drop folder is watched');
        watching = await dropFoldersService(services).watch(watch, { stableMs: ctx.config.stable_ms, scanMs: ctx.config.scan_seconds * 1000, owner: ctx.name });
      },
      onStop: async () => {
        await watching?.dispose();
        watching = undefined;
      },
    });
  },
});
