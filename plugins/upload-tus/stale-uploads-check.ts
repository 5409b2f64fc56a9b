// Inspect: unfinished uploads past their expiry, and partial files no upload owns.
import { HookRegistriesId, type InspectCheck, type InspectFinding } from '../../core/api.js';
import type { TusUploadProtocol } from './tus-upload-protocol.js';

/** The stale-uploads check of the tus plugin. */
export function staleUploadsCheck(protocol: TusUploadProtocol): InspectCheck {
  return {
    area: 'uploads',
    name: 'stale tus uploads',
    async run(ctx) {
      const findings: InspectFinding[] = [];
      const expired = await protocol.uploads().expired();
      if (expired.length) {
        findings.push({
          severity: 'problem',
          title: `${expired.length} unfinished upload(s) are past their expiry`,
          why: 'their partial bytes take disk space and their resources wait forever',
          fix: 'platform inspect --only uploads --repair',
          details: expired.map((u) => `${u.id}: ${u.offset} of ${u.length} bytes of "${u.metadata.filename}", expired ${u.expiresAt.toISOString()}`),
          repair: { description: `remove ${expired.length} expired upload(s)`, apply: async () => `removed ${(await protocol.removeExpired()).join(', ')}` },
        });
      }
      const known = await protocol.uploads().ids();
      for (const { value: depot } of ctx.services.get(HookRegistriesId).depots.contributions()) {
        if (!depot.partials) continue;
        const orphans: string[] = [];
        for await (const entry of depot.partials.list()) if (!known.has(entry.uploadId)) orphans.push(entry.uploadId);
        if (!orphans.length) continue;
        findings.push({
          severity: 'problem',
          title: `${orphans.length} partial upload(s) in depot "${depot.name}" belong to no upload`,
          why: 'they are left from crashed or removed uploads and take space',
          fix: 'platform inspect --only uploads --repair',
          details: orphans,
          repair: {
            description: `delete ${orphans.length} orphaned partial upload(s)`,
            apply: async () => {
              for (const id of orphans) await depot.partials!.delete(id);
              return `deleted ${orphans.join(', ')}`;
            },
          },
        });
      }
      if (!findings.length) findings.push({ severity: 'ok', title: 'no stale uploads' });
      return findings;
    },
  };
}
