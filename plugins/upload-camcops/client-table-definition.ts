// What a client table is: its columns (from a JSON Schema), its role in the commit order
// and the oldest client that may upload it. Built-in tables and task tables share this shape.
import { parseCamcopsVersion, type CamcopsVersion } from './camcops-version.js';

/** How a column is stored and checked. */
export type ColumnKind = 'integer' | 'real' | 'text' | 'blob' | 'boolean';

/** One client column. */
export interface ColumnDefinition {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly nullable: boolean;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly maxLength?: number;
  readonly enum?: ReadonlyArray<string | number>;
  /** `date-time` or `date`: text that must parse as ISO-8601. */
  readonly format?: 'date-time' | 'date';
}

/** Commit order: patient, patient_idnum, other non-task tables, then tasks. */
export type TableRole = 'patient' | 'patient_idnum' | 'ancillary' | 'task';

const ROLE_ORDER: Record<TableRole, number> = { patient: 0, patient_idnum: 1, ancillary: 2, task: 3 };

/** One client table. */
export interface ClientTableDefinition {
  readonly name: string;
  readonly role: TableRole;
  readonly minimumClientVersion: CamcopsVersion;
  /** Client columns in order, record-keeping columns excluded. */
  readonly columns: readonly ColumnDefinition[];
  readonly columnsByName: ReadonlyMap<string, ColumnDefinition>;
  /** True when rows carry `patient_id` (the client id of a patient row). */
  readonly hasPatient: boolean;
  /**
   * Contexts in which the task's licence prohibits its use (CamCOPS's `prohibits_commercial`,
   * `prohibits_clinical`, ...): a group whose IP-use flags claim one of them is not offered it.
   */
  readonly prohibits: ReadonlySet<IpContext>;
  /** Columns that must all be non-NULL for a task record to count as complete. */
  readonly completeFields: readonly string[];
}

/** CamCOPS's intellectual-property contexts (its IpContexts). */
export const IP_CONTEXTS = ['clinical', 'commercial', 'educational', 'research'] as const;

/** One intellectual-property context. */
export type IpContext = (typeof IP_CONTEXTS)[number];

/** Sorts tables into the order end_upload commits them in. */
export function commitOrder(tables: Iterable<ClientTableDefinition>): ClientTableDefinition[] {
  return [...tables].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.name.localeCompare(b.name));
}

/** The JSON form of a table definition (one file per table). */
export interface TableDefinitionFile {
  tablename: string;
  minimum_client_version: string;
  role?: TableRole;
  /** Adds `patient_id`. */
  patient?: boolean;
  /** Contexts the task's licence prohibits (for example `["commercial"]`). */
  prohibits?: string[];
  /** Columns that make a record complete when all are non-NULL (default: every declared column). */
  complete_fields?: string[];
  /** JSON Schema (draft 2020-12) of one row: an object whose properties are the columns. */
  schema: { type?: string; properties?: Record<string, ColumnSchema>; required?: string[]; additionalProperties?: boolean };
}

/** The subset of JSON Schema a column may use. */
export interface ColumnSchema {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  enum?: Array<string | number | null>;
  format?: string;
  contentEncoding?: string;
  description?: string;
}

const NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Columns every client table has, owned by the client. */
const CLIENT_COLUMNS: ColumnDefinition[] = [
  { name: 'id', kind: 'integer', nullable: false },
  { name: 'when_last_modified', kind: 'text', nullable: false, format: 'date-time' },
  { name: '_move_off_tablet', kind: 'boolean', nullable: true },
];

/** Columns every task has (CamCOPS's standard task fields). */
const TASK_COLUMNS: ColumnDefinition[] = [
  { name: 'when_created', kind: 'text', nullable: false, format: 'date-time' },
  { name: 'firstexit_is_finish', kind: 'boolean', nullable: true },
  { name: 'firstexit_is_abort', kind: 'boolean', nullable: true },
  { name: 'when_firstexit', kind: 'text', nullable: true, format: 'date-time' },
  { name: 'editing_time_s', kind: 'real', nullable: true },
];

/**
 * Builds a definition from its JSON form.
 * @param source where it came from, for messages.
 * @throws Error naming the source and the problem.
 */
export function defineClientTable(file: TableDefinitionFile, source: string): ClientTableDefinition {
  const fail = (message: string): never => {
    throw new Error(`table definition ${source}: ${message}`);
  };
  if (typeof file !== 'object' || file === null) fail('must be a JSON object');
  if (typeof file.tablename !== 'string' || !NAME.test(file.tablename)) fail('"tablename" must be lowercase letters, digits and _ (starting with a letter)');
  const version = parseCamcopsVersion(String(file.minimum_client_version ?? ''));
  if (!version) fail('"minimum_client_version" must be a version such as "2.0.0"');
  const role: TableRole = file.role ?? 'task';
  if (!(role in ROLE_ORDER)) fail(`"role" must be one of ${Object.keys(ROLE_ORDER).join(', ')}`);
  const properties = file.schema?.properties;
  if (file.schema?.type !== 'object' || typeof properties !== 'object') fail('"schema" must be a JSON Schema with type "object" and "properties"');
  const columns: ColumnDefinition[] = [...CLIENT_COLUMNS, ...(role === 'task' ? TASK_COLUMNS : [])];
  if (file.patient) columns.push({ name: 'patient_id', kind: 'integer', nullable: false });
  const required = new Set(file.schema.required ?? []);
  for (const [name, schema] of Object.entries(properties!)) {
    if (!NAME.test(name)) fail(`column "${name}" must be lowercase letters, digits and _ (starting with a letter)`);
    if (columns.some((c) => c.name === name)) fail(`column "${name}" is standard and must not be declared`);
    columns.push(columnFrom(name, schema, required.has(name), fail));
  }
  const prohibits = file.prohibits ?? [];
  if (!Array.isArray(prohibits) || prohibits.some((c) => !(IP_CONTEXTS as readonly string[]).includes(c))) fail(`"prohibits" must be a list of ${IP_CONTEXTS.join(', ')}`);
  const declared = Object.keys(properties!);
  const completeFields = file.complete_fields ?? declared;
  if (!Array.isArray(completeFields) || completeFields.some((c) => typeof c !== 'string' || !columns.some((col) => col.name === c))) fail('"complete_fields" must list columns of the table');
  return {
    name: file.tablename,
    role,
    minimumClientVersion: version!,
    columns,
    columnsByName: new Map(columns.map((c) => [c.name, c])),
    hasPatient: Boolean(file.patient),
    prohibits: new Set(prohibits as IpContext[]),
    completeFields,
  };
}

function columnFrom(name: string, schema: ColumnSchema, required: boolean, fail: (m: string) => never): ColumnDefinition {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const nonNull = types.filter((t) => t !== 'null');
  if (nonNull.length !== 1) fail(`column "${name}" must have exactly one type besides "null"`);
  const nullable = types.includes('null') || !required;
  let kind: ColumnKind;
  switch (nonNull[0]) {
    case 'integer':
      kind = 'integer';
      break;
    case 'number':
      kind = 'real';
      break;
    case 'boolean':
      kind = 'boolean';
      break;
    case 'string':
      kind = schema.contentEncoding === 'base64' ? 'blob' : 'text';
      break;
    default:
      return fail(`column "${name}" has unsupported type "${String(nonNull[0])}"`);
  }
  const format = schema.format === 'date-time' || schema.format === 'date' ? schema.format : undefined;
  return {
    name,
    kind,
    nullable,
    ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
    ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
    ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
    ...(schema.enum ? { enum: schema.enum.filter((v): v is string | number => v !== null) } : {}),
    ...(format ? { format } : {}),
  };
}
