// anonymiser-crate: de-identifies clinical databases as CRATE does, from a CRATE-format data
// dictionary: keyed research IDs, per-patient scrubbers compiled to one expression, non-specific
// scrubbing, a secret map in its own database, incremental and parallel runs; single CSV, JSON
// and text files through the Anonymiser hook (as distribution hands them); and scrubbing on
// demand (the anonymise_scrub action, the `anonymise scrub` command).
import { Actions, Anonymiser, Commands, JobHandlers, definePlugin } from '../../core/api.js';
import { anonymiseCommands } from './anonymise-commands.js';
import { anonymiseJobHandler } from './anonymise-job-handler.js';
import { CrateAnonymiser } from './crate-anonymiser.js';
import { anonymiseScrubAction } from './scrub-action.js';

export default definePlugin({
  name: 'anonymiser-crate',
  version: '0.1.0',
  description: 'CRATE-style de-identification of clinical databases (data dictionary, scrubbers, research IDs)',
  coreVersion: '^0.1.0',
  config: { type: 'object', additionalProperties: false, properties: {} },
  register(ctx) {
    ctx.contribute(Anonymiser, new CrateAnonymiser(ctx.services));
    for (const command of anonymiseCommands()) ctx.contribute(Commands, command);
    ctx.contribute(JobHandlers, anonymiseJobHandler());
    ctx.contribute(Actions, anonymiseScrubAction());
  },
});
