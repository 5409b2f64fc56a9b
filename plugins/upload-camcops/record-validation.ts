// Checks uploaded field names and values against a client table's definition, so that bad
// input is refused before anything is written. Messages name the table, record and field
// but never repeat a value (it may identify a patient).
import type { ClientTableDefinition, ColumnDefinition } from './client-table-definition.js';
import { failUser } from './camcops-errors.js';
import { RESERVED_FIELDS } from './record-keeping.js';
import type { LiteralValue } from './sql-literal-codec.js';
import type { IdNumDefinition } from './camcops-settings.js';
import { whyIdNumberInvalid } from './nhs-number.js';

/** One validated client row: column name -> value as stored. */
export type ClientRow = Record<string, LiteralValue>;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Checks a list of field names for a table.
 * @throws CamcopsUserError for reserved, unknown or repeated names.
 */
export function checkFieldNames(table: ClientTableDefinition, fields: readonly string[]): ColumnDefinition[] {
  const seen = new Set<string>();
  return fields.map((field) => {
    if (RESERVED_FIELDS.has(field)) {
      failUser(`Reserved field name for table '${table.name}': '${field}'`);
    }
    const column = table.columnsByName.get(field);
    if (!column) failUser(`Invalid field name for table '${table.name}': '${field}'`);
    if (seen.has(field)) failUser(`Field '${field}' appears twice for table '${table.name}'`);
    seen.add(field);
    return column;
  });
}

/** Checks the client primary key's name: an integer column of the table. */
export function checkPkName(table: ClientTableDefinition, pkName: string): string {
  const column = table.columnsByName.get(pkName);
  if (!column || column.kind !== 'integer' || pkName.startsWith('_')) failUser(`Invalid client PK field for table '${table.name}': '${pkName}'`);
  return pkName;
}

/** Context for checks that need server settings. */
export interface RowCheckContext {
  idnums: ReadonlyMap<number, IdNumDefinition>;
}

/**
 * Builds one row from parallel names and values, checking every value.
 * @param where e.g. `record 3`, for messages.
 * @throws CamcopsUserError
 */
export function buildRow(table: ClientTableDefinition, columns: readonly ColumnDefinition[], values: readonly LiteralValue[], pkName: string, where: string, ctx: RowCheckContext): ClientRow {
  if (values.length !== columns.length) failUser(`Table '${table.name}', ${where}: ${values.length} value(s) for ${columns.length} field(s)`);
  const row: ClientRow = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!.name] = checkValue(table, columns[i]!, values[i]!, where);
  for (const required of [pkName, 'when_last_modified']) {
    if (row[required] === undefined || row[required] === null) failUser(`Table '${table.name}', ${where}: field '${required}' is required`);
  }
  for (const column of table.columns) {
    if (!column.nullable && row[column.name] === null) failUser(`Table '${table.name}', ${where}: field '${column.name}' may not be NULL`);
  }
  if (table.role === 'patient_idnum') checkIdNumber(row, where, ctx);
  return row;
}

function checkValue(table: ClientTableDefinition, column: ColumnDefinition, value: LiteralValue, where: string): LiteralValue {
  const fail = (problem: string): never => failUser(`Table '${table.name}', ${where}, field '${column.name}': ${problem}`);
  if (value === null) {
    if (!column.nullable) fail('may not be NULL');
    return null;
  }
  switch (column.kind) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('must be an integer');
      break;
    case 'boolean':
      if (value !== 0 && value !== 1) fail('must be 0 or 1');
      break;
    case 'real':
      if (typeof value !== 'number') fail('must be a number');
      break;
    case 'text':
      if (typeof value !== 'string') fail('must be text');
      break;
    case 'blob':
      if (!Buffer.isBuffer(value)) fail("must be a blob (X'hex' or 64'base64')");
      break;
  }
  if (typeof value === 'number') {
    if (column.minimum !== undefined && value < column.minimum) fail(`is below the minimum ${column.minimum}`);
    if (column.maximum !== undefined && value > column.maximum) fail(`is above the maximum ${column.maximum}`);
  }
  if (typeof value === 'string') {
    if (value.includes('\u0000')) fail('contains a NUL character, which databases cannot store in text');
    if (column.maxLength !== undefined && value.length > column.maxLength) fail(`is longer than ${column.maxLength} characters`);
    if (column.format === 'date' && !DATE.test(value)) fail('must be a date as YYYY-MM-DD');
    if (column.format === 'date-time' && Number.isNaN(Date.parse(value))) fail('must be an ISO-8601 date and time');
  }
  if (column.enum && !column.enum.includes(value as string | number)) fail(`must be one of ${column.enum.join(', ')}`);
  return value;
}

function checkIdNumber(row: ClientRow, where: string, ctx: RowCheckContext): void {
  const which = row.which_idnum as number;
  const definition = ctx.idnums.get(which);
  if (!definition) failUser(`Table 'patient_idnum', ${where}: no such ID number type: ${which}`);
  const value = row.idnum_value;
  if (value === null || value === undefined) return;
  const why = whyIdNumberInvalid(definition.validationMethod, value as number);
  if (why) failUser(`Table 'patient_idnum', ${where}: the ID number of type ${which} (${definition.shortDescription}) is invalid: ${why}`);
}
