// Depot consistency: every stored resource's file exists with the recorded size (and, with
// --deep, the recorded sha256); files no resource points at are orphans. Repairs move
// orphans to a quarantine folder (never delete outright) and mark resources whose file is
// missing as invalid, listing them for the admin.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Op } from 'sequelize';
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import type { Depot } from '../../plugins/hooks/depot.js';
import { AuditLogId, DatabaseId, HookRegistriesId, PlatformConfigId, ReadCacheId } from '../../services/service-ids.js';

/** Files hashed at once with --deep (both cores busy: one hashing while the other reads). */
const HASH_CONCURRENCY = 2;

async function sha256Of(depot: Depot, location: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await depot.open(location)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The depot consistency check. */
export const depotConsistencyCheck: InspectCheck = {
  area: 'depot',
  name: 'depot consistency',
  async run(ctx) {
    const db = ctx.services.get(DatabaseId);
    const registries = ctx.services.get(HookRegistriesId);
    const config = ctx.services.get(PlatformConfigId);
    const findings: InspectFinding[] = [];
    const rows = (await db.models.Resource.findAll({ where: { location: { [Op.ne]: null }, state: { [Op.ne]: 'deleted' } }, attributes: ['id', 'datasetId', 'name', 'depot', 'location', 'size', 'sha256', 'state', 'metadata'] })).map((r) => r.get({ plain: true }));
    const recordedLocations = new Map<string, Set<string>>();
    const missing: typeof rows = [];
    const wrongSize: string[] = [];
    const wrongHash: string[] = [];
    let done = 0;
    const queue = [...rows];
    const worker = async (): Promise<void> => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        const depot = row.depot ? registries.depots.get(row.depot) : undefined;
        (recordedLocations.get(row.depot ?? '') ?? recordedLocations.set(row.depot ?? '', new Set()).get(row.depot ?? ''))!.add(row.location!);
        if (!depot) {
          findings.push({ severity: 'problem', title: `resource ${row.id} is stored in depot "${row.depot}", which no enabled plugin provides`, why: 'its file cannot be read', fix: 'enable the depot plugin again' });
        } else {
          const stat = await depot.stat(row.location!);
          if (!stat) missing.push(row);
          else if (row.size !== null && stat.size !== Number(row.size)) wrongSize.push(`${row.id} (${row.name}): recorded ${row.size} bytes, stored ${stat.size}`);
          else if (ctx.deep && row.sha256 && (await sha256Of(depot, row.location!)) !== row.sha256) wrongHash.push(`${row.id} (${row.name}): sha256 differs from the recorded ${row.sha256}`);
        }
        ctx.progress(++done, rows.length);
      }
    };
    await Promise.all(Array.from({ length: ctx.deep ? HASH_CONCURRENCY : 1 }, worker));

    const marked = (r: (typeof rows)[number]): boolean => {
      const metadata = typeof r.metadata === 'string' ? (JSON.parse(r.metadata) as Record<string, unknown>) : r.metadata;
      return r.state === 'invalid' && metadata?.['platform:problem'] === 'file missing from depot';
    };
    const known = missing.filter(marked);
    if (known.length) {
      findings.push({
        severity: 'warning',
        title: `${known.length} resource(s) are marked invalid because their file is missing`,
        why: 'users see them as invalid until the file is restored or the resource deleted',
        fix: 'restore the files from backup, or delete the resources',
        details: known.map((r) => `${r.id} (${r.name}) at ${r.depot}:${r.location}`),
      });
    }
    missing.splice(0, missing.length, ...missing.filter((r) => !marked(r)));
    if (missing.length) {
      findings.push({
        severity: 'problem',
        title: `${missing.length} resource file(s) are missing from the depot`,
        why: 'downloads of these resources fail',
        fix: 'restore the files from backup; --repair marks the resources invalid so users see it',
        details: missing.map((r) => `${r.id} (${r.name}) at ${r.depot}:${r.location}`),
        repair: {
          description: `mark ${missing.length} resource(s) with missing files as invalid`,
          apply: async () => {
            for (const r of missing) {
              const current = await db.models.Resource.findByPk(r.id);
              const metadata = { ...((current?.get({ plain: true }).metadata as Record<string, unknown>) ?? {}), 'platform:problem': 'file missing from depot' };
              await db.models.Resource.update({ state: 'invalid', metadata }, { where: { id: r.id } });
            }
            await ctx.services.get(ReadCacheId).invalidate();
            return `marked invalid: ${missing.map((r) => r.id).join(', ')}`;
          },
        },
      });
    }
    if (wrongSize.length) findings.push({ severity: 'problem', title: `${wrongSize.length} stored file(s) have the wrong size (truncated or replaced)`, why: 'their content is not what was uploaded', fix: 'restore from backup or re-upload', details: wrongSize });
    if (wrongHash.length) findings.push({ severity: 'problem', title: `${wrongHash.length} stored file(s) do not match their sha256`, why: 'their content is corrupt', fix: 'restore from backup or re-upload', details: wrongHash });

    const quarantine = join(config.path('platform', 'data_dir')!, 'quarantine');
    for (const { value: depot } of registries.depots.contributions()) {
      const orphans: string[] = [];
      const recorded = recordedLocations.get(depot.name) ?? new Set<string>();
      // Resources whose rows are deleted still own their files until purged: not orphans.
      const deletedRows = await db.models.Resource.findAll({ where: { depot: depot.name, state: 'deleted' }, attributes: ['location'] });
      for (const r of deletedRows) recorded.add(r.get({ plain: true }).location ?? '');
      for await (const entry of depot.list()) if (!recorded.has(entry.location)) orphans.push(entry.location);
      if (!orphans.length) continue;
      findings.push({
        severity: 'problem',
        title: `${orphans.length} file(s) in depot "${depot.name}" belong to no resource`,
        why: 'they take space and may be left from failed or removed uploads',
        fix: `--repair moves them to ${quarantine}/${depot.name}/ (delete them from there once checked)`,
        details: orphans.slice(0, 100),
        repair: {
          description: `move ${orphans.length} orphaned file(s) to ${quarantine}/${depot.name}/`,
          apply: async () => {
            for (const location of orphans) {
              const target = join(quarantine, depot.name, location.replace(/\.\./g, '_'));
              mkdirSync(dirname(target), { recursive: true, mode: 0o750 });
              await pipeline(await depot.open(location), createWriteStream(target, { mode: 0o640 }));
              await depot.delete(location);
            }
            await ctx.services.get(AuditLogId).record({ actor: { kind: 'system', name: 'inspect' }, action: 'inspect.quarantine', objectType: 'depot', objectId: depot.name, details: { files: orphans.length } });
            return `moved ${orphans.length} file(s) to ${quarantine}/${depot.name}/`;
          },
        },
      });
    }
    if (!findings.length) findings.push({ severity: 'ok', title: `${rows.length} stored file(s) present with the recorded size${ctx.deep ? ' and sha256' : ''}; no orphans` });
    return findings;
  },
};
