// Compiled validators of dataset type schemas. Compiling is most of the cost of starting a
// host (every CLI command and job thread starts one), and most starts validate no dataset: a
// type's schema is compiled when first used, once per process for the same schema text.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

/** The validator of one schema. @throws Error when it is not a valid JSON Schema. */
export function validatorOf(schema: object): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    ajv ??= addFormats(new Ajv2020({ allErrors: true, strict: false }));
    // Another text under the same $id (a type file changed between two hosts) replaces the old one.
    const id = (schema as { $id?: unknown }).$id;
    if (typeof id === 'string') ajv.removeSchema(id);
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}
