// ajv, configured once: draft 2020-12 with formats, every error at once, schemas compiled
// once and cached. Errors become CKAN-style field messages.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ValidationError, addFieldError, fieldErrors, type FieldErrors } from '../errors.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Compiles and applies JSON Schemas. */
export class JsonSchemaValidator {
  private readonly ajv = addFormats(new Ajv2020({ allErrors: true, strict: false, useDefaults: true }));
  private readonly cache = new WeakMap<object, ValidateFunction>();

  /** Field errors of `value` against `schema`; `{}` when valid. */
  problems(schema: object, value: unknown): FieldErrors {
    let validate = this.cache.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.cache.set(schema, validate);
    }
    if (validate(value)) return {};
    return toFieldErrors(validate.errors ?? []);
  }

  /** @throws ValidationError with every problem when `value` does not satisfy `schema`. */
  check(schema: object, value: unknown, what: string): void {
    const fields = this.problems(schema, value);
    if (Object.keys(fields).length) throw new ValidationError(`${what} is invalid`, fields);
  }
}

/** Maps ajv errors to `{ field: [messages] }` (`__root` for whole-value problems). */
export function toFieldErrors(errors: ErrorObject[]): FieldErrors {
  const fields: FieldErrors = fieldErrors();
  for (const error of errors) {
    let field = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      field = [field, (error.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.');
      message = 'unknown field';
    } else if (error.keyword === 'required') {
      field = [field, (error.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.');
      message = 'Missing value';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    }
    addFieldError(fields, field || '__root', message);
  }
  return fields;
}
