// schema-json: dataset types described by JSON Schemas (a built-in `dc` type with DCOR's
// rules, and one per file in `[plugin:schema-json] schemas`), and schema_show for clients.
import { Actions, definePlugin, NotFoundError, Schema, splitList } from '../../core/api.js';
import { DEFAULT_EXTENSIONS, DEFAULT_LICENSES } from './dc-dataset-schema.js';
import { loadDatasetTypeSchemas } from './dataset-type-schemas.js';
import { JsonDatasetSchema } from './json-dataset-schema.js';

export default definePlugin({
  name: 'schema-json',
  version: '0.1.0',
  description: 'Dataset types as JSON Schemas, the dc type with DCOR rules, and lifecycle rules',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      schemas: { type: 'string', 'x-path': true, description: 'Directory of <type>.json JSON Schemas of further dataset types.' },
      licenses: { type: 'string', default: DEFAULT_LICENSES.join(' '), description: 'Allowed licences, most restrictive first.' },
      resource_extensions: { type: 'string', default: DEFAULT_EXTENSIONS.join(' '), description: 'Allowed resource file extensions of dc datasets.' },
      lifecycle: { type: 'boolean', default: true, description: 'Enforce: resources only on drafts; active datasets change only licence (less restrictive), private to public and description.' },
    },
  },
  register(ctx) {
    const dir = ctx.config.schemas ? ctx.resolvePath(ctx.config.schemas) : undefined;
    const schema = new JsonDatasetSchema(loadDatasetTypeSchemas(dir), {
      licenses: splitList(ctx.config.licenses),
      extensions: splitList(ctx.config.resource_extensions).map((e) => e.replace(/^\./, '').toLowerCase()),
      lifecycle: ctx.config.lifecycle,
    });
    ctx.contribute(Schema, schema);
    ctx.contribute(Actions, {
      name: 'schema_show',
      kind: 'read',
      help: 'Returns the JSON Schema of a dataset type, for clients that build forms. Required: type.',
      inputSchema: { type: 'object', required: ['type'], additionalProperties: false, properties: { type: { type: 'string', minLength: 1, maxLength: 100 } } },
      run: async (input) => {
        const found = schema.jsonSchema(String(input.type));
        if (!found) throw new NotFoundError(`no dataset type "${String(input.type)}"; known types: ${schema.typeNames().join(', ')}`);
        return found;
      },
    });
  },
});
