// resource_* actions.
import type { ActionDefinition } from '../plugins/hooks/actions.js';
import { DatasetServiceId } from '../services/service-ids.js';
import { resourceDict } from '../datasets/dataset-view.js';
import { ValidationError } from '../errors.js';

const idInput = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

function split(input: Record<string, unknown>): { id: string; rest: Record<string, unknown> } {
  const { id, ...rest } = input;
  if (id === undefined || id === '') throw new ValidationError('resource is invalid', { id: ['Missing value'] });
  if (typeof id !== 'string') throw new ValidationError('resource is invalid', { id: [`must be a string (the resource's id), not ${Array.isArray(id) ? 'a list' : id === null ? 'null' : typeof id}`] });
  return { id, rest };
}

/** The resource actions. */
export function resourceActions(): ActionDefinition[] {
  return [
    {
      name: 'resource_show',
      kind: 'read',
      help: 'Returns a resource. Required: id.',
      inputSchema: idInput,
      run: async (input, ctx) => resourceDict((await ctx.services.get(DatasetServiceId).showResource(input.id as string, ctx)).resource),
    },
    {
      name: 'resource_create',
      kind: 'write',
      help: 'Adds a resource to a dataset. Required: package_id, name. Optional: url (a link), format, description. Without url the resource waits for an upload.',
      run: async (input, ctx) => resourceDict(await ctx.services.get(DatasetServiceId).createResource(input, ctx)),
    },
    {
      name: 'resource_update',
      kind: 'write',
      help: 'Replaces a resource\'s fields. Required: id.',
      run: async (input, ctx) => {
        const { id, rest } = split(input);
        return resourceDict(await ctx.services.get(DatasetServiceId).updateResource(id, rest, true, ctx));
      },
    },
    {
      name: 'resource_patch',
      kind: 'write',
      help: 'Changes only the given fields of a resource. Required: id.',
      run: async (input, ctx) => {
        const { id, rest } = split(input);
        return resourceDict(await ctx.services.get(DatasetServiceId).updateResource(id, rest, false, ctx));
      },
    },
    {
      name: 'resource_delete',
      kind: 'write',
      help: 'Marks a resource deleted. Required: id.',
      inputSchema: idInput,
      run: async (input, ctx) => {
        await ctx.services.get(DatasetServiceId).deleteResource(input.id as string, ctx);
        return null;
      },
    },
  ];
}
