// distribution: result files from drop folders (watched for the distribution-folders plugin
// through the DistributionDropFolders service), the CLI or uploads are checked, routed to
// their recipients' folders (local, WebDAV, a dataset here, another platform), anonymised when
// their rule says so, archived, and acknowledged when recipients fetch them; the whole trail
// is searchable. After getresults-distribute.
import { Actions, Commands, definePlugin, Distribution, EventObserver, InspectChecks, JobHandlers, Lifecycle, Migrations, Routes, WebPages, type PluginDefinition } from '../../core/api.js';
import { distributionPages } from './distribution-pages.js';
import { archiveRoute } from './archive-route.js';
import { distributionConfigSchema, readDistributionSettings } from './distribution-settings.js';
import { createDistributionTables } from './distribution-tables-migration.js';
import { addDistributionTransfers } from './distribution-transfers-migration.js';
import { addDistributionSentName } from './distribution-sent-name-migration.js';
import { addAcknowledgementClient } from './distribution-acknowledgement-client-migration.js';
import { createDistributionStaff } from './distribution-staff-migration.js';
import { DistributionRuntime, type RuntimeOptions } from './distribution-runtime.js';
import { deliveryJobHandler } from './delivery-job.js';
import { readLogsJobHandler } from './read-logs-job.js';
import { takeResourceJobHandler, uploadObserver } from './resource-intake-job.js';
import { distributionActions } from './distribution-actions.js';
import { distributionCommands } from './distribution-commands.js';
import { unacknowledgedCheck } from './unacknowledged-check.js';
import { DistributionDropFoldersId, type DistributionDropFolders } from './drop-folders-service.js';

/** The plugin, with optional seams (extra file checks, a source opener) for tests and embedding. */
export function createDistributionPlugin(options: RuntimeOptions = {}): PluginDefinition {
  return definePlugin({
    name: 'distribution',
    version: '0.1.0',
    description: 'Delivers result files to recipients (folders, WebDAV, datasets) with an audit trail and acknowledgements',
    coreVersion: '^0.1.0',
    config: distributionConfigSchema,
    register(ctx) {
      const settings = readDistributionSettings(ctx);
      const runtime = new DistributionRuntime(settings, ctx.services, ctx.logger, options);
      const store = () => runtime.store;
      ctx.contribute(Migrations, { migrations: [createDistributionTables, addDistributionTransfers, addDistributionSentName, addAcknowledgementClient, createDistributionStaff] });
      ctx.contribute(Distribution, runtime.distribution());
      ctx.contribute(JobHandlers, deliveryJobHandler(() => runtime.deliverer, settings.maxAttempts));
      ctx.contribute(JobHandlers, readLogsJobHandler(() => runtime));
      ctx.contribute(JobHandlers, takeResourceJobHandler(() => runtime));
      ctx.contribute(EventObserver, uploadObserver(settings.uploadDatasetTypes, () => ctx.services));
      for (const action of distributionActions(store, () => runtime.hold, () => runtime.staff)) ctx.contribute(Actions, action);
      for (const command of distributionCommands(() => runtime)) ctx.contribute(Commands, command);
      ctx.contribute(InspectChecks, unacknowledgedCheck(store, settings.unacknowledgedDays));
      ctx.contribute(Routes, archiveRoute(store, settings.archiveDir, () => ctx.services));
      ctx.contribute(WebPages, distributionPages(() => runtime));
      ctx.provide<DistributionDropFolders>(DistributionDropFoldersId, () => runtime.dropFolders());
      ctx.contribute(Lifecycle, { initialize: () => runtime.initialize(), onStart: () => runtime.start(), onStop: () => runtime.stop() });
    },
  });
}

export default createDistributionPlugin();
