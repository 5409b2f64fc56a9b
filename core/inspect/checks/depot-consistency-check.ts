// Depot consistency: every stored resource's file exists with the recorded size (and, with
// --deep, the recorded sha256); files no resource points at are orphans. Repairs move
// orphans to a quarantine folder (never delete outright) and mark resources whose file is
// missing as invalid, listing them for the admin.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { QueryTypes } from 'sequelize';
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import type { Depot, DepotEntry } from '../../plugins/hooks/depot.js';
import { AuditLogId, DatabaseId, HookRegistriesId, PlatformConfigId, ReadCacheId, ThreadPoolId } from '../../services/service-ids.js';
import type { ThreadPool } from '../../jobs/thread-pool.js';
import type { FileHash } from '../hash-files-thread.js';
import { forEachLimited } from '../../util/for-each-limited.js';

/** Files hashed at once with --deep on depots without local files (streams on this thread). */
const STREAM_HASH_CONCURRENCY = 2;
/** A --deep hashing task for a pool thread holds at least this many bytes (a thread per task costs ~30 ms to start)... */
const MIN_BATCH_BYTES = 256 * 2 ** 20;
/** ...and at most this many files. */
const MAX_BATCH_FILES = 20_000;
/** Local paths looked up at once (each is a realpath check in the depot). */
const PATH_LOOKUPS = 64;

async function sha256Of(depot: Depot, location: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await depot.open(location)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A resource row as the check reads it. */
interface StoredRow {
  id: string;
  name: string;
  depot: string | null;
  location: string;
  size: number | string | null;
  sha256: string | null;
  state: string;
  metadata: string | Record<string, unknown> | null;
}

/** A file to hash with --deep; `path` when the depot's listing gave its local path. */
interface HashItem {
  row: StoredRow;
  depot: Depot;
  size: number;
  path?: string;
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
    // Read the rows while the depots are walked (the walk runs on threads, the query on the
    // driver's): only the columns the check needs, the hash only for --deep.
    const rowsRead = db.sequelize.query<StoredRow>(
      `SELECT id, name, depot, location, size, ${ctx.deep ? 'sha256' : 'NULL AS sha256'}, state, CASE WHEN state = 'invalid' THEN metadata END AS metadata ` +
        `FROM resources WHERE location IS NOT NULL AND state <> 'deleted'`,
      { type: QueryTypes.SELECT },
    );
    rowsRead.catch(() => undefined); // awaited below; a walk that fails first must not leave it unhandled
    // One walk of each depot gives every stored object's size: far cheaper than a stat per
    // resource. A resource whose file the walk did not see is asked for once more (it may be
    // a link the walk skips, or have arrived since).
    const listings = new Map<string, Map<string, DepotEntry>>();
    let listed = 0;
    for (const { value: depot } of registries.depots.contributions()) {
      const sizes = new Map<string, DepotEntry>();
      for await (const entry of depot.list()) {
        sizes.set(entry.location, entry);
        if (++listed % 1000 === 0) ctx.progress(listed, undefined);
      }
      listings.set(depot.name, sizes);
    }
    const rows = await rowsRead;
    const missing: StoredRow[] = [];
    const wrongSize: string[] = [];
    const wrongHash: string[] = [];
    const toHash: HashItem[] = [];
    let done = 0;
    for (const row of rows) {
      const depot = row.depot ? registries.depots.get(row.depot) : undefined;
      if (!depot) {
        findings.push({ severity: 'problem', title: `resource ${row.id} is stored in depot "${row.depot}", which no enabled plugin provides`, why: 'its file cannot be read', fix: 'enable the depot plugin again' });
        continue;
      }
      const seen = listings.get(depot.name)?.get(row.location);
      const size = seen?.size ?? (await depot.stat(row.location))?.size;
      if (size === undefined) missing.push(row);
      else if (row.size !== null && size !== Number(row.size)) wrongSize.push(`${row.id} (${row.name}): recorded ${row.size} bytes, stored ${size}`);
      else if (ctx.deep && row.sha256) toHash.push({ row, depot, size, path: seen?.path });
      if (!ctx.deep && ++done % 1000 === 0) ctx.progress(done, rows.length);
    }
    if (ctx.deep) {
      const hashed = await hashAll(ctx.services.get(ThreadPoolId), toHash, (n) => ctx.progress(n, toHash.length));
      for (const { row } of toHash) {
        const result = hashed.get(row.id);
        if (result !== undefined && result !== row.sha256) wrongHash.push(`${row.id} (${row.name}): ${result.startsWith('error ') ? `cannot be read (${result.slice(6)})` : `sha256 differs from the recorded ${row.sha256}`}`);
      }
    }
    ctx.progress(rows.length, rows.length);

    const marked = (r: StoredRow): boolean => {
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
      const recorded = new Set(rows.filter((r) => r.depot === depot.name).map((r) => r.location));
      // Resources whose rows are deleted still own their files until purged: not orphans.
      const deletedRows = await db.models.Resource.findAll({ where: { depot: depot.name, state: 'deleted' }, attributes: ['location'] });
      for (const r of deletedRows) recorded.add(r.get({ plain: true }).location ?? '');
      for (const location of listings.get(depot.name)?.keys() ?? []) if (!recorded.has(location)) orphans.push(location);
      if (!orphans.length) continue;
      const inPlace = depot.quarantine?.bind(depot);
      const where = inPlace ? `the quarantine of depot "${depot.name}"` : `${quarantine}/${depot.name}/`;
      findings.push({
        severity: 'problem',
        title: `${orphans.length} file(s) in depot "${depot.name}" belong to no resource`,
        why: 'they take space and may be left from failed or removed uploads',
        fix: `--repair moves them to ${where} (delete them from there once checked)`,
        details: orphans.slice(0, 100),
        repair: {
          description: `move ${orphans.length} orphaned file(s) to ${where}`,
          apply: async () => {
            for (const location of orphans) {
              if (inPlace) {
                await inPlace(location);
                continue;
              }
              const target = join(quarantine, depot.name, location.replace(/\.\./g, '_'));
              mkdirSync(dirname(target), { recursive: true, mode: 0o750 });
              await pipeline(await depot.open(location), createWriteStream(target, { mode: 0o640 }));
              await depot.delete(location);
            }
            await ctx.services.get(AuditLogId).record({ actor: { kind: 'system', name: 'inspect' }, action: 'inspect.quarantine', objectType: 'depot', objectId: depot.name, details: { files: orphans.length } });
            return `moved ${orphans.length} file(s) to ${where}`;
          },
        },
      });
    }
    if (!findings.length) findings.push({ severity: 'ok', title: `${rows.length} stored file(s) present with the recorded size${ctx.deep ? ' and sha256' : ''}; no orphans` });
    return findings;
  },
};

/**
 * sha256 of every file, by resource id ("error CODE" when it cannot be read). Files with a
 * local path are hashed on the thread pool in batches (every core busy, the event loop free);
 * the rest are streamed from their depot here.
 */
async function hashAll(pool: ThreadPool, files: HashItem[], progress: (done: number) => void): Promise<Map<string, string>> {
  const hashes = new Map<string, string>();
  const local: Array<{ id: string; path: string; size: number }> = [];
  const streamed: typeof files = [];
  await forEachLimited(files, PATH_LOOKUPS, async (file) => {
    const path = file.path ?? (file.depot.localPath ? await file.depot.localPath(file.row.location).catch(() => undefined) : undefined);
    if (path) local.push({ id: file.row.id, path, size: file.size });
    else streamed.push(file);
  });
  let done = 0;
  const total = local.reduce((sum, f) => sum + f.size, 0);
  const target = Math.max(MIN_BATCH_BYTES, Math.ceil(total / (pool.size * 4)));
  const batches: Array<typeof local> = [];
  for (let batch: typeof local = [], bytes = 0, i = 0; i < local.length; i++) {
    batch.push(local[i]!);
    bytes += local[i]!.size;
    if (bytes >= target || batch.length >= MAX_BATCH_FILES || i === local.length - 1) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
  }
  const module = new URL('../hash-files-thread.js', import.meta.url);
  await Promise.all([
    ...batches.map(async (batch) => {
      const results = await pool.run<FileHash[]>({ module, export: 'sha256Files', args: [batch.map((f) => f.path)] });
      batch.forEach((f, i) => {
        const result = results[i]!;
        hashes.set(f.id, 'sha256' in result ? result.sha256 : `error ${result.error}`);
      });
      progress((done += batch.length));
    }),
    forEachLimited(streamed, STREAM_HASH_CONCURRENCY, async ({ row, depot }) => {
      hashes.set(row.id, await sha256Of(depot, row.location).catch((error: NodeJS.ErrnoException) => `error ${error.code ?? error.message}`));
      progress(++done);
    }),
  ]);
  return hashes;
}
