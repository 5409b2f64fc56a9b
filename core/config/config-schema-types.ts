// The JSON-schema shape of one platform.ini section, as core and plugins declare it.

/** A JSON Schema for one `platform.ini` section (an object schema; ajv validates it). */
export interface ConfigSectionSchema {
  type: 'object';
  properties: Record<string, ConfigPropertySchema>;
  required?: string[];
  additionalProperties?: false;
  description?: string;
}

/**
 * One key of a section. `x-secret-file: true` marks a key whose value names a file holding
 * a secret; with `x-generate: true` core creates that file (mode 0600) when it is missing.
 */
export interface ConfigPropertySchema {
  type?: 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  default?: string | number | boolean;
  enum?: Array<string | number | boolean>;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
  'x-secret-file'?: boolean;
  'x-generate'?: boolean;
  'x-path'?: boolean;
}
