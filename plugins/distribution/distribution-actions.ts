// API actions over the audit trail: distribution_history (every file's life),
// distribution_pending (received, not sent) and distribution_acknowledgements, for site
// administrators and lab staff (the trail names recipients and their addresses); holding and
// releasing a delivery, for site administrators.
import { AuditLogId, PermissionServiceId, ValidationError, type ActionContext, type ActionDefinition } from '../../core/api.js';
import type { DeliveryHold } from './delivery-hold.js';
import { requireTrailReader, type DistributionStaff } from './distribution-staff.js';
import type { DistributionStore, DistributedFile, FileEvent } from './distribution-store.js';
import { historyFilterSchema, parseDate, parseHistoryFilter } from './history-filter.js';

/** A file with its events, as the actions answer. */
export function fileView(file: DistributedFile, events: FileEvent[] | undefined): Record<string, unknown> {
  return {
    id: file.id, name: file.name, state: file.state, reason: file.reason ?? null, sha256: file.sha256 ?? null, size: file.size ?? null, sent_sha256: file.sentSha256 ?? null, sent_name: file.sentName ?? null, mime_type: file.mimeType ?? null,
    source: file.source, label: file.label ?? null, tag: file.tag ?? null, destination: file.destination ?? null, folder: file.folder ?? null,
    remote_location: file.remoteLocation ?? null, received_at: file.receivedAt.toISOString(), sent_at: file.sentAt?.toISOString() ?? null,
    archived_at: file.archivedAt?.toISOString() ?? null, acknowledged_at: file.acknowledgedAt?.toISOString() ?? null,
    acknowledged_by: file.acknowledgedBy ?? null, acknowledged_from: file.acknowledgedFrom ?? null, acknowledged_user: file.acknowledgedUser ?? null, acknowledged_agent: file.acknowledgedAgent ?? null,
    ...(events ? { events: events.map((e) => ({ kind: e.kind, at: e.at.toISOString(), actor: e.actor ?? null, address: e.address ?? null, user: e.remoteUser ?? null, user_agent: e.userAgent ?? null, detail: e.detail ?? null })) } : {}),
  };
}

async function requireSysadmin(ctx: ActionContext, action: string, input: Record<string, unknown>): Promise<void> {
  await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action, target: {}, input }, 'sysadmin');
}

/** Files matching the filter, each with its events unless `events` is false. */
export async function history(store: DistributionStore, input: Record<string, unknown>, forced: Partial<ReturnType<typeof parseHistoryFilter>> = {}): Promise<Record<string, unknown>[]> {
  const filter = { ...parseHistoryFilter(input), ...forced };
  const files = await store.list(filter);
  const withEvents = input.events !== false && input.events !== 'false';
  const events = withEvents ? await store.events({ fileIds: files.map((f) => f.id) }) : [];
  const byFile = new Map<string, FileEvent[]>();
  for (const e of events) if (e.fileId) byFile.set(e.fileId, [...(byFile.get(e.fileId) ?? []), e]);
  return files.map((f) => fileView(f, withEvents ? (byFile.get(f.id) ?? []) : undefined));
}

/** Who acts, as the life line names them. */
function actorName(ctx: ActionContext): string {
  return ctx.actor.kind === 'user' ? ctx.actor.user.name : ctx.actor.kind === 'system' ? `system:${ctx.actor.name}` : 'anonymous';
}

// A uuid: anything else is refused at the boundary (PostgreSQL would refuse it as a uuid with a 500).
const fileIdSchema = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description: 'the file\'s id (the `id` of distribution_history)' } as const;

/** The actions: the trail (history, pending, acknowledgements) and holding a delivery. */
export function distributionActions(store: () => DistributionStore, hold: () => DeliveryHold, staff: () => DistributionStaff): ActionDefinition[] {
  return [
    {
      name: 'distribution_hold',
      kind: 'write',
      help: 'Holds a file not yet sent (received, routed, unroutable, failed): it is not sent until distribution_release. Input: id, reason (optional, shown in its life line). Sysadmins only; audited.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: fileIdSchema, reason: { type: 'string', maxLength: 500 } } },
      async run(input, ctx) {
        await requireSysadmin(ctx, 'distribution_hold', input);
        const reason = typeof input.reason === 'string' && input.reason.trim() ? input.reason.trim() : undefined;
        const file = await hold().hold(String(input.id), { actor: actorName(ctx), address: ctx.address }, reason, ctx.transaction!);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'distribution.hold', objectType: 'distribution_file', objectId: file.id, address: ctx.address, details: { name: file.name, ...(reason ? { reason } : {}) } }, ctx.transaction);
        return fileView(file, undefined);
      },
    },
    {
      name: 'distribution_release',
      kind: 'write',
      help: 'Releases a held file: routed again and queued for delivery (or back to unroutable when no rule routed it yet). Input: id. Sysadmins only; audited.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: fileIdSchema } },
      async run(input, ctx) {
        await requireSysadmin(ctx, 'distribution_release', input);
        const file = await hold().release(String(input.id), { actor: actorName(ctx), address: ctx.address }, ctx.transaction!);
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'distribution.release', objectType: 'distribution_file', objectId: file.id, address: ctx.address, details: { name: file.name, state: file.state } }, ctx.transaction);
        return fileView(file, undefined);
      },
    },
    {
      name: 'distribution_history',
      kind: 'read',
      help: 'Files in distribution with the events of their lives (received, checked, routed, sent, failed, archived, acknowledged, rejected). Filters: since, until (YYYY-MM-DD or an ISO time), label, folder, state (sent: every file that was sent, archived since or not; or pending, acknowledged, unacknowledged), name (part of it, in any case), limit, events.',
      inputSchema: historyFilterSchema,
      async run(input, ctx) {
        await requireTrailReader(staff(), ctx, 'distribution_history', input);
        return history(store(), input);
      },
    },
    {
      name: 'distribution_pending',
      kind: 'read',
      help: 'Files received and not yet sent (received, routed, unroutable, sending, failed), with the reason they wait. Same filters as distribution_history, without state.',
      inputSchema: historyFilterSchema,
      async run(input, ctx) {
        await requireTrailReader(staff(), ctx, 'distribution_pending', input);
        return history(store(), input, { state: 'pending' });
      },
    },
    {
      name: 'distribution_acknowledgements',
      kind: 'read',
      help: 'Acknowledgements (who fetched which file, when, from where, as which authenticated user and with which user agent). Filters: since, until (of the acknowledgement), name, label, limit. With unacknowledged_days=N: instead the files sent N or more days ago and never acknowledged.',
      inputSchema: { ...historyFilterSchema, properties: { ...historyFilterSchema.properties, unacknowledged_days: { type: ['integer', 'string'], minimum: 0, maximum: 36_500, pattern: '^\\d{1,5}$' } } },
      async run(input, ctx) {
        await requireTrailReader(staff(), ctx, 'distribution_acknowledgements', input);
        const s = store();
        if (input.unacknowledged_days !== undefined) {
          const days = Number(input.unacknowledged_days);
          if (!Number.isFinite(days) || days < 0) throw new ValidationError(`unacknowledged_days "${String(input.unacknowledged_days)}" must be a number of days`, { unacknowledged_days: ['a number of days'] });
          return history(s, { ...input, events: false }, { state: 'unacknowledged', sentBefore: new Date(Date.now() - days * 86_400_000) });
        }
        const since = parseDate(input.since, 'since');
        const until = parseDate(input.until, 'until');
        const events = await s.events({ kind: 'acknowledged', ...(since ? { since } : {}), ...(until ? { until } : {}) });
        const files = new Map((await s.getMany([...new Set(events.map((e) => e.fileId).filter((id): id is string => Boolean(id)))])).map((f) => [f.id, f]));
        const limit = parseHistoryFilter({ limit: input.limit }).limit!;
        return events
          .filter((e) => {
            const f = e.fileId ? files.get(e.fileId) : undefined;
            return f && (!input.name || f.name.toLowerCase().includes(String(input.name).toLowerCase())) && (!input.label || f.label === input.label);
          })
          .slice(-limit)
          .map((e) => {
            const f = files.get(e.fileId!)!;
            return { file_id: f.id, name: f.name, label: f.label ?? null, folder: f.folder ?? null, by: e.actor ?? null, at: e.at.toISOString(), from: e.address ?? null, user: e.remoteUser ?? null, user_agent: e.userAgent ?? null, via: e.detail ?? null };
          });
      },
    },
  ];
}
