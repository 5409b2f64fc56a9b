// Inspect: files sent and not acknowledged after `unacknowledged_days`, and files held
// (unroutable or failed) that need someone's attention.
import type { InspectCheck, InspectFinding } from '../../core/api.js';
import type { DistributionStore } from './distribution-store.js';

/** The distribution checks' single entry: area `distribution`. */
export function unacknowledgedCheck(store: () => DistributionStore, days: number): InspectCheck {
  return {
    area: 'distribution',
    name: 'unacknowledged and held files',
    async run() {
      const findings: InspectFinding[] = [];
      const late = await store().list({ state: 'unacknowledged', sentBefore: new Date(Date.now() - days * 86_400_000), limit: 10_000 });
      if (late.length) {
        findings.push({
          severity: 'warning',
          title: `${late.length} file(s) sent more than ${days} day(s) ago were never acknowledged`,
          why: 'nobody has fetched them: the recipient may not have received the result',
          fix: 'platform distribution history --unacknowledged; contact the recipients, or check that the access logs are read (platform distribution read-log)',
          details: late.slice(0, 50).map((f) => `${f.name}: sent ${f.sentAt?.toISOString()} to ${f.destination}:${f.folder ?? ''}`),
        });
      }
      const held = [...(await store().list({ state: 'unroutable', limit: 10_000 })), ...(await store().list({ state: 'failed', limit: 10_000 }))];
      if (held.length) {
        findings.push({
          severity: 'warning',
          title: `${held.length} file(s) are held (unroutable or failed)`,
          why: 'they wait and will not reach their recipients by themselves',
          fix: 'platform distribution history --pending; load the missing remote folders (platform distribution folders load FILE.csv) or fix the destination, then retry the dead delivery jobs (platform jobs retry ID)',
          details: held.slice(0, 50).map((f) => `${f.name} (${f.state}): ${f.reason ?? ''}`),
        });
      }
      if (!findings.length) findings.push({ severity: 'ok', title: `every file sent more than ${days} day(s) ago was acknowledged; none is held` });
      return findings;
    },
  };
}
