// Patients registered on the server: an admin creates one (camcops_server_patient_create)
// and hands the patient an access key; the patient's tablet registers with it
// (register_patient), receiving the patient's details and, when it has none, a user of its
// own that may register and upload into that group and nothing else.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DatabaseId, NotFoundError, OrganizationServiceId, PermissionServiceId, UserServiceId, ValidationError,
  type ActionDefinition, type UserIdentity,
} from '../../core/api.js';
import { failUser } from './camcops-errors.js';
import { groupPolicies, idnumDefinitions, replaceRow } from './camcops-settings.js';
import { whyIdNumberInvalid } from './nhs-number.js';
import { param, type Operation, type OperationContext } from './operation-context.js';
import { detailsOf } from './patient-policy-check.js';
import { proquintFromUuid, uuidFromProquint } from './proquint.js';
import { SqlRunner } from './sql-runner.js';
import { groupIpUse, ipUseInfo } from './ip-use.js';
import { taskSchedulesJson } from './task-schedules.js';
import { longText } from './camcops-action-support.js';

/** A server patient row. */
interface ServerPatientRow {
  id: number | string;
  uuid: string;
  organization_id: string;
  forename: string | null;
  surname: string | null;
  sex: string | null;
  dob: string | null;
  address: string | null;
  gp: string | null;
  other: string | null;
  email: string | null;
  idnums: string;
}

const TEXT_FIELDS = ['forename', 'surname', 'address', 'gp', 'other', 'email'] as const;
const UNKNOWN_KEY = 'There is no patient with that access key. Have you entered the key correctly?';

/** The patient an access key names. @throws CamcopsUserError (never repeating the key). */
async function patientByKey(ctx: OperationContext): Promise<ServerPatientRow> {
  const uuid = uuidFromProquint(param(ctx, 'patient_proquint'));
  if (!uuid) failUser(UNKNOWN_KEY);
  const [row] = await ctx.sql.select<ServerPatientRow>('SELECT * FROM camcops_server_patients WHERE uuid = $1', [uuid]);
  if (!row) failUser(UNKNOWN_KEY);
  return row;
}

/** Whether a user was made for a patient's tablet in this group (and so may register and upload there). */
export async function isPatientUser(sql: SqlRunner, userId: string, organizationId: string): Promise<boolean> {
  const rows = await sql.select('SELECT user_id FROM camcops_patient_users WHERE user_id = $1 AND organization_id = $2', [userId, organizationId]);
  return rows.length > 0;
}

/** A free user name for a device's patient user. */
async function patientUserName(ctx: OperationContext): Promise<string> {
  const base = `user-${ctx.deviceName.toLowerCase().replace(/[^a-z0-9_-]+/g, '-')}`.slice(0, 80);
  const users = ctx.services.get(UserServiceId);
  for (let n = 0; ; n++) {
    const name = n ? `${base}-${n}` : base;
    if (!(await users.find(name, ctx.sql.transaction))) return name;
  }
}

/** register_patient and get_task_schedules. */
export const serverPatientOperations: Record<string, Operation> = {
  register_patient: {
    access: 'anyone',
    async run(ctx) {
      const patient = await patientByKey(ctx);
      const info: Record<string, unknown> = { surname: patient.surname, forename: patient.forename, sex: patient.sex, dob: patient.dob, address: patient.address, gp: patient.gp, other: patient.other, email: patient.email };
      for (const [which, value] of Object.entries(JSON.parse(patient.idnums) as Record<string, number>)) info[`idnum${which}`] = value;
      const reply: Record<string, string> = {
        patient_info: JSON.stringify([info]),
        ip_use_info: ipUseInfo(await groupIpUse(ctx.sql, patient.organization_id)),
      };
      if (!ctx.params.get('user')) {
        const password = randomBytes(24).toString('base64url');
        const name = await patientUserName(ctx);
        const user = await ctx.services.get(UserServiceId).create({ name, email: `${name}@camcops.invalid`, password, fullname: `CamCOPS patient tablet ${ctx.deviceName}`.slice(0, 200) }, ctx.sql.transaction);
        await replaceRow(ctx.sql, 'camcops_patient_users', 'user_id', { user_id: user.id, organization_id: patient.organization_id, server_patient_id: Number(patient.id) });
        await replaceRow(ctx.sql, 'camcops_upload_groups', 'user_id', { user_id: user.id, organization_id: patient.organization_id });
        reply.user = name;
        reply.password = password;
      }
      await ctx.audit.record({ actor: { kind: 'anonymous' }, action: 'camcops.register_patient', objectType: 'camcops_server_patient', objectId: String(patient.id), address: ctx.address, details: { device: ctx.deviceName, group: patient.organization_id, user_created: Boolean(reply.user) } }, ctx.sql.transaction);
      return reply;
    },
  },
  get_task_schedules: {
    access: 'registration',
    async run(ctx) {
      const patient = await patientByKey(ctx);
      if (patient.organization_id !== ctx.groupId) failUser(UNKNOWN_KEY);
      const schedulePatient = { id: Number(patient.id), organizationId: patient.organization_id, idnums: JSON.parse(patient.idnums) as Record<string, number> };
      return { task_schedules: await taskSchedulesJson(ctx.sql, ctx.tables, schedulePatient, ctx.now) };
    },
  },
};

const str = longText;

/** camcops_server_patient_create: an organisation admin registers a patient and gets the access key. */
export function serverPatientCreateAction(): ActionDefinition {
  return {
    name: 'camcops_server_patient_create',
    kind: 'write',
    help: 'Registers a patient on the server for an organisation and returns the access key the patient enters on a tablet (register_patient) and the patient_id that task schedules are assigned to. ID numbers as {"<which_idnum>": value}; the patient must meet the group\'s upload policy. Organisation admins.',
    inputSchema: {
      type: 'object', additionalProperties: false, required: ['organization'],
      properties: {
        organization: str, forename: str, surname: str, sex: { enum: ['F', 'M', 'X'] }, dob: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        address: str, gp: str, other: str, email: str,
        idnums: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 }, propertyNames: { pattern: '^\\d{1,6}$' } },
      },
    },
    async run(input, ctx) {
      const org = await ctx.services.get(OrganizationServiceId).find(String(input.organization), ctx.transaction);
      if (!org) throw new NotFoundError(`organization "${String(input.organization)}" not found`);
      await ctx.services.get(PermissionServiceId).require({ actor: ctx.actor, action: ctx.action, target: { organizationId: org.id }, input }, 'admin', ctx.transaction);
      const db = ctx.services.get(DatabaseId);
      const sql = new SqlRunner(db.sequelize, db.dialect, ctx.transaction);
      const definitions = await idnumDefinitions(sql);
      const idnums = new Map<number, number>();
      for (const [key, value] of Object.entries((input.idnums ?? {}) as Record<string, number>)) {
        const which = Number(key);
        const definition = definitions.get(which);
        if (!definition) throw new ValidationError(`ID number type ${which} is not defined`, { idnums: [`type ${which} is not defined`] });
        const why = whyIdNumberInvalid(definition.validationMethod, value);
        if (why) throw new ValidationError(`the ID number of type ${which} is invalid: ${why}`, { idnums: [`type ${which}: ${why}`] });
        idnums.set(which, value);
      }
      const fields = Object.fromEntries([...TEXT_FIELDS, 'sex', 'dob'].map((f) => [f, input[f] === undefined ? null : String(input[f])]));
      const policies = await groupPolicies(sql, org.id);
      if (!policies.upload.accepts(detailsOf({ ...fields, otherdetails: fields.other }, idnums))) throw new ValidationError(`the patient does not meet the organization's upload policy "${policies.upload.text}"`, {});
      const uuid = randomUUID();
      const creator: UserIdentity | undefined = ctx.actor.kind === 'user' ? ctx.actor.user : undefined;
      await sql.run(
        'INSERT INTO camcops_server_patients (uuid, organization_id, forename, surname, sex, dob, address, gp, other, email, idnums, created_by_user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
        [uuid, org.id, fields.forename!, fields.surname!, fields.sex!, fields.dob!, fields.address!, fields.gp!, fields.other!, fields.email!, JSON.stringify(Object.fromEntries(idnums)), creator?.id ?? null, new Date().toISOString()],
      );
      const [created] = await sql.select<{ id: number | string }>('SELECT id FROM camcops_server_patients WHERE uuid = $1', [uuid]);
      return { access_key: proquintFromUuid(uuid), patient_id: Number(created!.id) };
    },
  };
}
