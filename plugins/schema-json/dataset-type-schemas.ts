// The dataset types the plugin knows: the built-in `dc`, and one per JSON file
// (`<type>.json`) in `[plugin:schema-json] schemas`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/api.js';
import { dcDatasetSchema } from './dc-dataset-schema.js';
import { validatorOf } from './dataset-type-validators.js';

/** Dataset type name -> JSON Schema of its fields. */
export function loadDatasetTypeSchemas(dir: string | undefined): Map<string, object> {
  const types = new Map<string, object>([['dc', dcDatasetSchema]]);
  if (!dir) return types;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (error) {
    throw new ConfigError(`[plugin:schema-json] schemas: cannot read directory ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  for (const file of files) {
    const type = file.slice(0, -'.json'.length);
    if (!/^[a-z0-9_-]{2,100}$/.test(type)) throw new ConfigError(`[plugin:schema-json] ${join(dir, file)}: "${type}" is not a dataset type name (lowercase letters, digits, - and _)`);
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      throw new ConfigError(`[plugin:schema-json] ${join(dir, file)} is not valid JSON: ${(error as Error).message}`);
    }
    const object = schema as { type?: unknown; properties?: unknown };
    if (!object || object.type !== 'object' || typeof object.properties !== 'object') throw new ConfigError(`[plugin:schema-json] ${join(dir, file)} must be a JSON Schema of type "object" with properties`);
    try {
      validatorOf(object);
    } catch (error) {
      throw new ConfigError(`[plugin:schema-json] ${join(dir, file)} is not a valid JSON Schema: ${(error as Error).message}`);
    }
    types.set(type, object as object);
  }
  return types;
}
