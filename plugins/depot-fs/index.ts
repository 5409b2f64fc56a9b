// depot-fs: files on a local or shared filesystem, in DCOR's object layout.
import { definePlugin, Depot, directoryFindings, InspectChecks, Lifecycle, PlatformConfigId } from '../../core/api.js';
import { FsDepot } from './fs-depot.js';
import { staleTempFilesCheck } from './stale-temp-files-check.js';

export { depotFsPaths, incomingDir, type DepotFsPaths } from './depot-fs-paths.js';

export default definePlugin({
  name: 'depot-fs',
  version: '0.1.0',
  description: 'Filesystem depot: resources/<rid[0:3]>/<rid[3:6]>/<rid[6:]>, partial uploads under incoming/',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      root: { type: 'string', default: './data/depot', 'x-path': true, description: 'Directory the depot keeps its files in: resources/ (stored objects), incoming/ (partial uploads) and tmp/ (files being written). Relative paths resolve against the directory of platform.ini.' },
    },
  },
  register(ctx) {
    const depot = new FsDepot(ctx.resolvePath(ctx.config.root));
    ctx.contribute(Depot, depot);
    // Created when the server starts (not on every command, so inspect still sees missing ones).
    ctx.contribute(Lifecycle, { onStart: () => depot.ensureDirectories() });
    ctx.contribute(InspectChecks, {
      area: 'directories',
      name: 'depot-fs directories',
      async run({ services }) {
        const minFreeMb = services.get(PlatformConfigId).section<{ min_free_mb: number }>('inspect').min_free_mb;
        return [
          ...directoryFindings('depot', depot.paths.resources, { minFreeMb }),
          ...directoryFindings('incoming uploads', depot.paths.incoming, { minFreeMb }),
          ...directoryFindings('depot temporary', depot.paths.tmp),
        ];
      },
    });
    ctx.contribute(InspectChecks, staleTempFilesCheck(depot.paths.tmp));
  },
});
