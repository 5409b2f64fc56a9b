// Operations that register devices and tell the tablet about the server: its ID number
// definitions and policies, the tables it accepts, extra strings, task schedules, and
// whether candidate patients would be accepted.
import { failUser } from './camcops-errors.js';
import { formatVersion } from './camcops-version.js';
import { registerDevice } from './device-store.js';
import { groupPolicies, idnumDefinitions } from './camcops-settings.js';
import { selectReply, type ReplyItems } from './camcops-reply.js';
import { param, type Operation, type OperationContext } from './operation-context.js';
import { enforcePolicies, type UploadedPatient } from './patient-policy-check.js';
import { whyIdNumberInvalid } from './nhs-number.js';
import type { ClientRow } from './record-validation.js';

/** The server facts every registration and get_id_info reply carries. */
async function serverIdInfo(ctx: OperationContext): Promise<ReplyItems> {
  const policies = await groupPolicies(ctx.sql, ctx.groupId!);
  const reply: ReplyItems = {
    databaseTitle: ctx.server.databaseTitle,
    idPolicyUpload: policies.upload.text,
    idPolicyFinalize: policies.finalize.text,
    serverCamcopsVersion: ctx.server.serverVersion,
  };
  for (const def of (await idnumDefinitions(ctx.sql)).values()) {
    reply[`idDescription${def.whichIdnum}`] = def.description;
    reply[`idShortDescription${def.whichIdnum}`] = def.shortDescription;
    reply[`idValidationMethod${def.whichIdnum}`] = def.validationMethod;
  }
  return reply;
}

const PATIENT_TEXT_KEYS: Record<string, string> = { forename: 'forename', surname: 'surname', address: 'address', gp: 'gp', other: 'other', email: 'email' };

/** Parses validate_patients' JSON into patients, refusing anything malformed. */
async function candidatePatients(ctx: OperationContext): Promise<UploadedPatient[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(param(ctx, 'patient_info'));
  } catch {
    failUser("Bad JSON for key 'patient_info'");
  }
  if (!Array.isArray(parsed)) failUser('Top-level JSON is not a list');
  const definitions = await idnumDefinitions(ctx.sql);
  return (parsed as unknown[]).map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) failUser(`Patient JSON ${index} is not a dict`);
    const row: ClientRow = {};
    const idnums = new Map<number, number>();
    let finalising: boolean | undefined;
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (key in PATIENT_TEXT_KEYS || key === 'dob' || key === 'sex') {
        if (value !== null && typeof value !== 'string') failUser(`Patient ${index}: '${key}' must be a string`);
        if (key === 'sex' && value !== null && !['F', 'M', 'X'].includes(value as string)) failUser(`Patient ${index}: bad sex value`);
        if (key === 'dob' && value && !/^\d{4}-\d{2}-\d{2}$/.test(value as string)) failUser(`Patient ${index}: invalid DOB`);
        row[key] = value as string | null;
      } else if (key === 'finalizing') {
        if (typeof value !== 'boolean') failUser(`Patient ${index}: 'finalizing' must be true or false`);
        finalising = value;
      } else if (/^idnum\d+$/.test(key)) {
        const which = Number(key.slice(5));
        const definition = definitions.get(which);
        if (!definition) failUser(`Patient ${index}: bad ID number type: ${which}`);
        if (value === null) continue;
        if (typeof value !== 'number' || !Number.isSafeInteger(value)) failUser(`Patient ${index}: the ID number of type ${which} must be an integer`);
        const why = whyIdNumberInvalid(definition.validationMethod, value);
        if (why) failUser(`Patient ${index}: the ID number of type ${which} (${definition.shortDescription}) is invalid: ${why}`);
        idnums.set(which, value);
      } else failUser(`Patient ${index}: unknown JSON key: '${key}'`);
    }
    if (finalising === undefined) failUser(`Patient ${index}: missing 'finalizing' JSON key`);
    return { clientId: index, row, idnums, finalising: finalising! };
  });
}

/** Operations about devices, server information and patients. */
export const infoOperations: Record<string, Operation> = {
  check_device_registered: {
    access: 'anyone',
    async run(ctx) {
      if (!ctx.device) failUser('Unregistered device');
      return undefined;
    },
  },
  register: {
    access: 'registration',
    async run(ctx) {
      const device = await registerDevice(ctx.sql, { name: ctx.deviceName, friendlyName: param(ctx, 'devicefriendlyname', false), version: ctx.clientVersionText, userId: ctx.user!.id, now: ctx.now });
      ctx.device = device;
      await ctx.audit.record({ actor: { kind: 'user', user: ctx.user! }, action: 'camcops.register', objectType: 'camcops_device', objectId: String(device.id), address: ctx.address, details: { device: ctx.deviceName } }, ctx.sql.transaction);
      return serverIdInfo(ctx);
    },
  },
  get_id_info: { access: 'upload', run: serverIdInfo },
  check_upload_user_and_device: { access: 'upload', run: async () => undefined },
  get_allowed_tables: {
    access: 'registration',
    async run(ctx) {
      return selectReply(['tablename', 'min_client_version'], ctx.tables.ordered().map((t) => [t.name, formatVersion(t.minimumClientVersion)]));
    },
  },
  get_extra_strings: {
    access: 'registration',
    async run(ctx) {
      const rows = await ctx.sql.select<{ task: string; name: string; language: string; value: string }>('SELECT task, name, language, value FROM camcops_extra_strings ORDER BY task, name, language');
      return selectReply(['task', 'name', 'language', 'value'], rows.map((r) => [r.task, r.name, r.language, r.value]));
    },
  },
  validate_patients: {
    access: 'upload',
    async run(ctx) {
      enforcePolicies(await candidatePatients(ctx), await groupPolicies(ctx.sql, ctx.groupId!));
      return 'Success';
    },
  },
};
