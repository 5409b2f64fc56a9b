// platform depot migrate --from A --to B [--verify]: moves every stored file from one depot
// to another (e.g. fs to s3), one resource at a time: copy with the recorded size and sha256
// checked while writing, optionally read back and hashed again, then the resource row is
// switched in one conditional UPDATE and the source object deleted. A run that is
// interrupted continues where it stopped (moved resources already name the target depot);
// running it again moves nothing.
import { createHash } from 'node:crypto';
import { Op } from 'sequelize';
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import type { Depot } from '../../plugins/hooks/depot.js';
import { DatabaseId, ReadCacheId, ResourceIntakeId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import { terminalProgress } from '../../inspect/inspect-output.js';
import { requireOption, stringOption } from './command-support.js';

async function sha256Of(depot: Depot, location: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of await depot.open(location)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** The depot commands. */
export function depotCommands(): CommandDefinition[] {
  return [
    {
      name: 'depot migrate',
      summary: 'move every stored file from one depot to another (resumable, checksummed)',
      needs: 'database',
      options: {
        from: { type: 'string', value: 'DEPOT', description: 'depot to move files out of (e.g. fs)' },
        to: { type: 'string', value: 'DEPOT', description: 'depot to move files into (e.g. s3)' },
        verify: { type: 'boolean', description: 'read each copy back and compare its sha256 before switching the resource' },
        limit: { type: 'string', value: 'N', description: 'move at most N files in this run' },
      },
      async run(args, ctx) {
        const fromName = requireOption(args, 'from', 'depot migrate');
        const toName = requireOption(args, 'to', 'depot migrate');
        const limitText = stringOption(args, 'limit');
        const limit = limitText === undefined ? Infinity : Number(limitText);
        if (!(limit === Infinity || (Number.isInteger(limit) && limit > 0))) throw new UsageError(`--limit must be a whole number of at least 1, not "${limitText}"`);
        if (fromName === toName) throw new UsageError(`--from and --to both name depot "${fromName}"`);
        const intake = ctx.services.get(ResourceIntakeId);
        const [from, to] = [intake.depot(fromName), intake.depot(toName)];
        for (const [name, depot] of [[fromName, from], [toName, to]] as const) {
          if (!depot) throw new UsageError(`no enabled plugin provides depot "${name}"; enable it in [platform] plugins`);
        }
        const db = ctx.services.get(DatabaseId);
        const rows = (await db.models.Resource.findAll({ where: { depot: fromName, location: { [Op.ne]: null } }, attributes: ['id', 'datasetId', 'location', 'size', 'sha256'], order: [['id', 'ASC']] })).map((r) => r.get({ plain: true }));
        const todo = rows.slice(0, limit);
        const progress = (ctx.stderr as NodeJS.WriteStream).isTTY ? terminalProgress(ctx.stderr) : undefined;
        progress?.start(`depot migrate ${fromName} -> ${toName}`);
        let moved = 0;
        let bytes = 0;
        const failed: string[] = [];
        for (const row of todo) {
          const old = row.location!;
          try {
            const expect = { ...(row.size !== null && row.size !== undefined ? { size: Number(row.size) } : {}), ...(row.sha256 ? { sha256: row.sha256 } : {}) };
            const stored = await to!.put(row.id, await from!.open(old), expect);
            if (args.options.verify) {
              const back = await sha256Of(to!, stored.location);
              if (back.sha256 !== stored.sha256 || back.size !== stored.size) {
                await to!.delete(stored.location);
                throw new Error(`read back ${back.size} bytes with sha256 ${back.sha256} from depot "${toName}", not ${stored.size} with ${stored.sha256}`);
              }
            }
            const [count] = await db.models.Resource.update(
              { depot: toName, location: stored.location, sha256: stored.sha256, size: stored.size },
              { where: { id: row.id, depot: fromName, location: old } },
            );
            if (count === 1) {
              await from!.delete(old);
              await ctx.services.get(ReadCacheId).invalidate([row.datasetId]);
              moved++;
              bytes += stored.size;
            } else if (stored.location !== old || toName !== fromName) {
              // The resource changed while its file was copied: the copy is not its file.
              await to!.delete(stored.location);
            }
          } catch (error) {
            failed.push(`${row.id}: ${(error as Error).message}`);
          }
          progress?.update(moved + failed.length, todo.length);
        }
        progress?.done();
        const left = rows.length - moved;
        ctx.stdout.write(`moved ${moved} file(s) (${bytes} bytes) from depot "${fromName}" to "${toName}"${left ? `; ${left} left in "${fromName}"` : ''}\n`);
        if (failed.length) {
          ctx.stderr.write(`${failed.length} file(s) could not be moved (they stay in "${fromName}"; run the command again after fixing):\n  ${failed.join('\n  ')}\n`);
          return 1;
        }
        return 0;
      },
    },
  ];
}
