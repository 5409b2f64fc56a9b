// CLI: `platform distribution send|folders load|folders list|history|read-log`.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ActionRunnerId, AuditLogId, UserServiceId, UsageError, printTable, stringOption, type Actor, type CommandArgs, type CommandContext, type CommandDefinition } from '../../core/api.js';
import type { DistributionRuntime } from './distribution-runtime.js';
import { parseRemoteFolders } from './remote-folders-csv.js';
import { history } from './distribution-actions.js';
import { parseHistoryFilter } from './history-filter.js';
import { PlatformError } from '../../core/api.js';

const CLI: Actor = { kind: 'system', name: 'cli' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A file named on the command line by its id, or by its name (the live file of that name). */
async function fileId(runtime: DistributionRuntime, given: string): Promise<string> {
  if (UUID.test(given)) return given;
  const live = await runtime.store.findLive(given, undefined);
  if (!live || live.by !== 'name') throw new UsageError(`no file named "${given}" in distribution; give its name or id (see platform distribution history)`);
  return live.file.id;
}

/** Runs a distribution write action as the CLI; refusals become usage errors with their message. */
async function runAction(ctx: CommandContext, name: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  try {
    return (await ctx.services.get(ActionRunnerId).run(name, input, { actor: CLI })) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof PlatformError) throw new UsageError(error.message);
    throw error;
  }
}

const short = (iso: unknown): string => (typeof iso === 'string' ? iso.replace('T', ' ').slice(0, 16) : '-');

/** The commands, over the runtime. */
export function distributionCommands(runtime: () => DistributionRuntime): CommandDefinition[] {
  return [
    {
      name: 'distribution send',
      usage: 'FILE...',
      summary: 'hand files to distribution (copied; the originals stay); delivery runs as jobs',
      needs: 'database',
      async run(args: CommandArgs, ctx: CommandContext) {
        if (!args.positionals.length) throw new UsageError('name at least one file: platform distribution send FILE...');
        const results = await runtime().intake.takeFiles(args.positionals.map((p) => resolve(p)), { source: 'cli', mode: 'copy', actor: 'system:cli' });
        let refused = 0;
        for (const r of results) {
          if (r.outcome === 'routed') ctx.stdout.write(`${r.name}: routed to ${r.file.destination}:${r.file.folder || '/'} (label ${r.file.label}, tag ${r.file.tag}); queued for delivery\n`);
          else if (r.outcome === 'unroutable') ctx.stdout.write(`${r.name}: held as unroutable: ${r.reason}\n`);
          else {
            refused++;
            ctx.stdout.write(`${r.name}: ${r.outcome === 'rejected' ? 'rejected' : 'not taken'}: ${r.reason}\n`);
          }
        }
        return refused ? 1 : 0;
      },
    },
    {
      name: 'distribution folders load',
      usage: 'FILE.csv',
      summary: 'load the remote folders table (label,tag,folder,base) from CSV; reports added, updated, unchanged and bad rows',
      needs: 'database',
      async run(args, ctx) {
        if (args.positionals.length !== 1) throw new UsageError('name one CSV file: platform distribution folders load FILE.csv');
        const r = runtime();
        const text = await readFile(resolve(args.positionals[0]!), 'utf8').catch((error: NodeJS.ErrnoException) => {
          throw new UsageError(`cannot read ${args.positionals[0]}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
        });
        const parsed = parseRemoteFolders(text, r.destinationNames());
        const counts = await r.store.upsertFolders(parsed.rows);
        ctx.stdout.write(`added ${counts.added}, updated ${counts.updated}, unchanged ${counts.unchanged}, rejected ${parsed.bad.length}\n`);
        for (const bad of parsed.bad) ctx.stderr.write(`line ${bad.line}: ${bad.reason}\n`);
        const rerouted = await r.intake.rerouteHeld();
        if (rerouted.routed || rerouted.stillUnroutable) ctx.stdout.write(`held files: ${rerouted.routed} now routed, ${rerouted.stillUnroutable} still unroutable\n`);
        return parsed.bad.length ? 1 : 0;
      },
    },
    {
      name: 'distribution folders list',
      summary: 'print the remote folders table',
      needs: 'database',
      options: { json: { type: 'boolean', description: 'print JSON' } },
      async run(args, ctx) {
        const folders = await runtime().store.folders();
        if (args.options.json) return void ctx.stdout.write(`${JSON.stringify(folders, null, 2)}\n`);
        printTable(ctx.stdout, ['LABEL', 'TAG', 'BASE', 'FOLDER'], folders.map((f) => [f.label, f.tag, f.base, f.folder]));
      },
    },
    {
      name: 'distribution history',
      summary: 'files in distribution and what happened to them',
      needs: 'database',
      options: {
        pending: { type: 'boolean', description: 'only files received and not sent (with why they wait)' },
        unacknowledged: { type: 'boolean', description: 'only files sent and not acknowledged' },
        since: { type: 'string', value: 'DATE', description: 'received on or after DATE (YYYY-MM-DD, or an ISO time)' },
        until: { type: 'string', value: 'DATE', description: 'received before DATE (YYYY-MM-DD, or an ISO time)' },
        label: { type: 'string', value: 'LABEL', description: 'only files routed by this rule label' },
        folder: { type: 'string', value: 'FOLDER', description: 'only files routed to this folder' },
        state: { type: 'string', value: 'STATE', description: 'only files in this state (sent: every file that was sent, archived since or not)' },
        name: { type: 'string', value: 'TEXT', description: 'only files whose name contains TEXT (in any case)' },
        limit: { type: 'string', value: 'N', description: 'at most N files, the newest (default 100); says when more match' },
        events: { type: 'boolean', description: 'print every event of each file' },
        json: { type: 'boolean', description: 'print JSON (with events)' },
      },
      async run(args, ctx) {
        if (args.options.pending && args.options.unacknowledged) throw new UsageError('give --pending or --unacknowledged, not both');
        const input: Record<string, unknown> = {};
        for (const key of ['since', 'until', 'label', 'folder', 'state', 'name', 'limit']) if (stringOption(args, key) !== undefined) input[key] = stringOption(args, key);
        if (args.options.pending) input.state = 'pending';
        if (args.options.unacknowledged) input.state = 'unacknowledged';
        let files: Record<string, unknown>[];
        let limit: number;
        try {
          limit = parseHistoryFilter(input).limit!;
          // One more than asked for, to say whether more files match.
          files = await history(runtime().store, { ...input, events: Boolean(args.options.json || args.options.events) }, { limit: limit + 1 });
        } catch (error) {
          if (error instanceof PlatformError) throw new UsageError(error.message);
          throw error;
        }
        const more = files.length > limit;
        if (more) files = files.slice(0, limit);
        if (args.options.json) {
          ctx.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
          if (more) ctx.stderr.write(`${files.length} file(s), the newest; more match: raise --limit (at most 10000) or narrow the search\n`);
          return;
        }
        printTable(
          ctx.stdout,
          ['NAME', 'STATE', 'LABEL', 'TO', 'RECEIVED', 'SENT', 'ACKNOWLEDGED', 'REASON'],
          files.map((f) => [String(f.name), String(f.state), String(f.label ?? '-'), f.destination ? `${String(f.destination)}:${String(f.folder ?? '')}` : '-', short(f.received_at), short(f.sent_at), f.acknowledged_at ? `${short(f.acknowledged_at)} by ${String(f.acknowledged_by)}` : '-', String(f.reason ?? '').slice(0, 80)]),
        );
        if (args.options.events) {
          for (const f of files) for (const e of f.events as Array<Record<string, unknown>>) ctx.stdout.write(`${String(f.name)}\t${short(e.at)}\t${String(e.kind)}\t${String(e.detail ?? '')}${e.user ? `\tuser ${String(e.user)}` : ''}${e.user_agent ? `\tagent ${String(e.user_agent)}` : ''}\n`);
        }
        ctx.stderr.write(more ? `${files.length} file(s), the newest; more match: raise --limit (at most 10000) or narrow the search\n` : `${files.length} file(s)\n`);
      },
    },
    {
      name: 'distribution hold',
      usage: 'FILE',
      summary: 'hold a file not yet sent (by name or id): it is not sent until released',
      needs: 'database',
      options: { reason: { type: 'string', value: 'TEXT', description: 'why (shown in its life line)' } },
      async run(args, ctx) {
        if (args.positionals.length !== 1) throw new UsageError('name one file: platform distribution hold FILE [--reason TEXT]');
        const reason = stringOption(args, 'reason');
        const file = await runAction(ctx, 'distribution_hold', { id: await fileId(runtime(), args.positionals[0]!), ...(reason ? { reason } : {}) });
        ctx.stdout.write(`${String(file.name)}: held; release it with platform distribution release ${String(file.name)}\n`);
      },
    },
    {
      name: 'distribution release',
      usage: 'FILE',
      summary: 'release a held file (by name or id): queued for delivery again',
      needs: 'database',
      async run(args, ctx) {
        if (args.positionals.length !== 1) throw new UsageError('name one file: platform distribution release FILE');
        const file = await runAction(ctx, 'distribution_release', { id: await fileId(runtime(), args.positionals[0]!) });
        ctx.stdout.write(file.state === 'routed' ? `${String(file.name)}: released; queued for delivery to ${String(file.destination)}:${String(file.folder ?? '') || '/'}\n` : `${String(file.name)}: released; ${String(file.reason)}\n`);
      },
    },
    {
      name: 'distribution staff add',
      usage: 'USER',
      summary: 'let a user read the distribution trail (history, pending, unacknowledged, life lines) without being a site administrator',
      needs: 'database',
      async run(args, ctx) {
        if (args.positionals.length !== 1) throw new UsageError('name one user: platform distribution staff add USER');
        const user = await ctx.services.get(UserServiceId).find(args.positionals[0]!);
        if (!user) throw new UsageError(`no user "${args.positionals[0]}"; create it first (platform user add)`);
        const added = await runtime().staff.add(user, 'system:cli');
        if (added) await ctx.services.get(AuditLogId).record({ actor: CLI, action: 'distribution.staff.add', objectType: 'user', objectId: user.id, details: { name: user.name } });
        ctx.stdout.write(added ? `${user.name} may now read the distribution trail\n` : `${user.name} already may read the distribution trail\n`);
      },
    },
    {
      name: 'distribution staff remove',
      usage: 'USER',
      summary: 'take back a user\'s reading of the distribution trail',
      needs: 'database',
      async run(args, ctx) {
        if (args.positionals.length !== 1) throw new UsageError('name one user: platform distribution staff remove USER');
        const user = await ctx.services.get(UserServiceId).find(args.positionals[0]!);
        if (!user) throw new UsageError(`no user "${args.positionals[0]}"`);
        const removed = await runtime().staff.remove(user.id);
        if (removed) await ctx.services.get(AuditLogId).record({ actor: CLI, action: 'distribution.staff.remove', objectType: 'user', objectId: user.id, details: { name: user.name } });
        ctx.stdout.write(removed ? `${user.name} may no longer read the distribution trail\n` : `${user.name} was not distribution staff\n`);
      },
    },
    {
      name: 'distribution staff list',
      summary: 'users who may read the distribution trail besides site administrators',
      needs: 'database',
      async run(_args, ctx) {
        printTable(ctx.stdout, ['USER', 'GRANTED', 'BY'], (await runtime().staff.list()).map((m) => [m.userName, short(m.grantedAt.toISOString()), m.grantedBy]));
      },
    },
    {
      name: 'distribution read-log',
      summary: 'read the configured access logs and the platform\'s download events now, recording acknowledgements',
      needs: 'database',
      async run(_args, ctx) {
        const { logs, downloads } = await runtime().readAcknowledgements();
        for (const l of logs) ctx.stdout.write(l.missing ? `${l.log}: does not exist (check [plugin:distribution] access_logs)\n` : `${l.log}: ${l.lines} line(s), ${l.acknowledged} acknowledgement(s)${l.unparsed ? `, ${l.unparsed} line(s) not in the configured format` : ''}${l.rotated ? `; ${l.rotated}` : ''}\n`);
        ctx.stdout.write(`platform downloads: ${downloads.events} event(s), ${downloads.acknowledged} acknowledgement(s)\n`);
      },
    },
  ];
}
