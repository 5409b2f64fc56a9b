// Compiles the JSON schemas of platform.ini's sections once per process. Compiling with ajv
// is the largest part of a command's start (a fresh Ajv per start, each schema compiled again
// on every start): the CLI starts a host to find a plugin's command and again to run it, and
// every job thread starts one. Schemas are static objects, so a compiled validator is kept per
// schema object and shared.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ConfigSectionSchema } from './config-schema-types.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let shared: Ajv | undefined;
const compiled = new WeakMap<ConfigSectionSchema, ValidateFunction>();

/** The one Ajv of configuration: every error, strings coerced to the declared types, defaults filled in. */
function configAjv(): Ajv {
  shared ??= addFormats(new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false }));
  return shared;
}

/**
 * The validator of one section's schema, compiled on first use. Unknown keys are reported by
 * the caller (with a did-you-mean), so the validator lets them through.
 * @throws Error when the schema itself is not a valid JSON schema.
 */
export function sectionValidator(schema: ConfigSectionSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = configAjv().compile({ ...schema, additionalProperties: true });
    compiled.set(schema, validate);
  }
  return validate;
}
