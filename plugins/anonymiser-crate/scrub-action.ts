// `anonymise_scrub`: scrubbing on demand over the action API (POST only: the text and the
// identifiers are patient data and never go in a URL). Sysadmins only, since the caller hands
// over identifiers and gets text back; each call is audited with counts, never the text or the
// identifiers.
import { AuditLogId, PermissionServiceId, type ActionDefinition } from '../../core/api.js';
import { scrubOnDemand, scrubRequestSchema, type ScrubRequest } from './scrub-on-demand.js';

/** The action. */
export function anonymiseScrubAction(): ActionDefinition {
  return {
    name: 'anonymise_scrub',
    // A write only in that it is POST-only and audited in its transaction: nothing is stored.
    kind: 'write',
    help: 'Scrubs texts of identifiers, as CRATE\'s scrub API: {"text": {"a": "..."}, "patient": {"words": [...], "phrases": [...], "non_numeric_phrases": [...], "numbers": [...], "codes": [...], "dates": ["YYYY-MM-DD"], "addresses": [...]}, "third_party": {...}, "allowlist": {"words": [...]}, "denylist": {"words": [...]}, "scrub_all_dates": false, ...}; answers {"anonymised": {"a": "..."}}. Sysadmins only; audited without the text.',
    inputSchema: scrubRequestSchema,
    async run(input, ctx) {
      // The text and identifiers are not handed to authorisation policies: they need only who asks.
      await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: 'anonymise_scrub', target: {}, input: {} }, 'sysadmin');
      const { anonymised, counts } = scrubOnDemand(input as unknown as ScrubRequest);
      await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'anonymise.scrub', objectType: 'text', objectId: ctx.requestId, address: ctx.address, details: counts }, ctx.transaction);
      return { anonymised };
    },
  };
}
