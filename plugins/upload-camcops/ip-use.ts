// Each group's intellectual-property use flags, as CamCOPS keeps them per group: in which
// contexts (clinical, commercial, educational, research) the group uses CamCOPS. Tablets
// registered to a patient receive them (register_patient's ip_use_info) and do not offer
// tasks whose licence prohibits one of those contexts; the server refuses to schedule such
// tasks and leaves them out of get_task_schedules.
import { AuditLogId, type ActionDefinition } from '../../core/api.js';
import { IP_CONTEXTS, type ClientTableDefinition, type IpContext } from './client-table-definition.js';
import { organizationOf, sqlOf } from './camcops-action-support.js';
import { replaceRow } from './camcops-settings.js';
import type { SqlRunner } from './sql-runner.js';

/** A group's flags; `configured` is false when an admin never set them (all false then). */
export interface GroupIpUse {
  readonly configured: boolean;
  readonly flags: Readonly<Record<IpContext, boolean>>;
}

/** The group's IP-use flags. */
export async function groupIpUse(sql: SqlRunner, organizationId: string): Promise<GroupIpUse> {
  const [row] = await sql.select<Record<IpContext, number | string>>('SELECT clinical, commercial, educational, research FROM camcops_group_ip_use WHERE organization_id = $1', [organizationId]);
  const flags = Object.fromEntries(IP_CONTEXTS.map((c) => [c, Boolean(Number(row?.[c] ?? 0))])) as Record<IpContext, boolean>;
  return { configured: Boolean(row), flags };
}

/** register_patient's ip_use_info: each context as 0 or 1, in CamCOPS's key order. */
export function ipUseInfo(ipUse: GroupIpUse): string {
  const { commercial, clinical, educational, research } = ipUse.flags;
  return JSON.stringify({ commercial: Number(commercial), clinical: Number(clinical), educational: Number(educational), research: Number(research) });
}

/** The contexts of the group in which the task's licence prohibits its use (empty: permitted). */
export function prohibitedContexts(table: ClientTableDefinition, ipUse: GroupIpUse): IpContext[] {
  return IP_CONTEXTS.filter((c) => table.prohibits.has(c) && ipUse.flags[c]);
}

/**
 * Why a task may not be scheduled in a group, as CamCOPS's schedule item form says it, or
 * undefined when it may.
 */
export function whyNotSchedulable(table: ClientTableDefinition, ipUse: GroupIpUse, groupName: string): string | undefined {
  if (!table.prohibits.size) return undefined;
  if (!ipUse.configured) {
    return `task "${table.name}" prohibits use in certain contexts, and organization "${groupName}" has no intellectual property settings; set them with camcops_group_ip_use_set`;
  }
  const prohibited = prohibitedContexts(table, ipUse);
  if (prohibited.length) return `task "${table.name}" prohibits ${prohibited.join(' and ')} use, and organization "${groupName}" operates in that context`;
  return undefined;
}

const flag = { type: 'boolean' } as const;

/** camcops_group_ip_use_set and camcops_group_ip_use_show. */
export function ipUseActions(): ActionDefinition[] {
  return [
    {
      name: 'camcops_group_ip_use_set',
      kind: 'write',
      help: 'Sets the contexts in which an organisation uses CamCOPS (clinical, commercial, educational, research: true/false; unset ones become false). Patient tablets are told (ip_use_info) and tasks whose licence prohibits one of them are not offered. Organisation admins.',
      inputSchema: {
        type: 'object', additionalProperties: false, required: ['organization'],
        properties: { organization: { type: 'string', maxLength: 200 }, clinical: flag, commercial: flag, educational: flag, research: flag },
      },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'admin');
        const values = Object.fromEntries(IP_CONTEXTS.map((c) => [c, input[c] === true ? 1 : 0])) as Record<IpContext, number>;
        await replaceRow(sqlOf(ctx), 'camcops_group_ip_use', 'organization_id', { organization_id: organizationId, ...values });
        const flags = Object.fromEntries(IP_CONTEXTS.map((c) => [c, values[c] === 1]));
        await ctx.services.get(AuditLogId).record({ actor: ctx.actor, action: 'camcops.ip_use_set', objectType: 'organization', objectId: organizationId, address: ctx.address, details: flags }, ctx.transaction);
        return { organization_id: organizationId, ...flags };
      },
    },
    {
      name: 'camcops_group_ip_use_show',
      kind: 'read',
      help: 'The contexts in which an organisation uses CamCOPS (its intellectual-property use flags); configured is false until an admin sets them. Members of the organisation.',
      inputSchema: { type: 'object', additionalProperties: false, required: ['organization'], properties: { organization: { type: 'string', maxLength: 200 } } },
      async run(input, ctx) {
        const organizationId = await organizationOf(ctx, input, 'member');
        const ipUse = await groupIpUse(sqlOf(ctx), organizationId);
        return { organization_id: organizationId, configured: ipUse.configured, ...ipUse.flags };
      },
    },
  ];
}
