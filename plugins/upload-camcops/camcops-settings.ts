// Server-side settings the protocol reads: ID number definitions, each group's upload and
// finalise policies, and each user's upload group.
import type { SqlRunner } from './sql-runner.js';
import { IdPolicy } from './id-policy.js';

/** One ID number type. */
export interface IdNumDefinition {
  whichIdnum: number;
  description: string;
  shortDescription: string;
  validationMethod: string;
}

/** A group's policies (empty text: no requirement). */
export interface GroupPolicies {
  upload: IdPolicy;
  finalize: IdPolicy;
}

/** Every ID number definition, by type. */
export async function idnumDefinitions(sql: SqlRunner): Promise<Map<number, IdNumDefinition>> {
  const rows = await sql.select<{ which_idnum: number | string; description: string; short_description: string; validation_method: string }>(
    'SELECT which_idnum, description, short_description, validation_method FROM camcops_idnum_definitions ORDER BY which_idnum',
  );
  return new Map(rows.map((r) => [Number(r.which_idnum), { whichIdnum: Number(r.which_idnum), description: r.description, shortDescription: r.short_description, validationMethod: r.validation_method }]));
}

/** The policies of a group (empty policies when none were set). */
export async function groupPolicies(sql: SqlRunner, organizationId: string): Promise<GroupPolicies> {
  const [row] = await sql.select<{ upload_policy: string; finalize_policy: string }>('SELECT upload_policy, finalize_policy FROM camcops_group_policies WHERE organization_id = $1', [organizationId]);
  return { upload: IdPolicy.parse(row?.upload_policy ?? ''), finalize: IdPolicy.parse(row?.finalize_policy ?? '') };
}

/** A user's upload group as set explicitly, with CamCOPS's "may register devices" there. */
export interface ExplicitUploadGroup {
  organizationId: string;
  mayRegisterDevices: boolean;
}

/** The upload group set for a user, if any. */
export async function explicitUploadGroup(sql: SqlRunner, userId: string): Promise<ExplicitUploadGroup | undefined> {
  const [row] = await sql.select<{ organization_id: string; may_register_devices: number | string }>('SELECT organization_id, may_register_devices FROM camcops_upload_groups WHERE user_id = $1', [userId]);
  return row ? { organizationId: row.organization_id, mayRegisterDevices: Number(row.may_register_devices) === 1 } : undefined;
}

/** Replaces a row keyed by `key` (portable upsert: delete then insert, inside the caller's transaction). */
export async function replaceRow(sql: SqlRunner, table: string, key: string, values: Record<string, string | number>): Promise<void> {
  await sql.run(`DELETE FROM ${table} WHERE ${key} = $1`, [values[key]!]);
  const columns = Object.keys(values);
  await sql.run(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(values));
}
