// Enforces a group's ID policies on the patients of an upload: every patient must meet the
// upload policy, and every patient being preserved (finalised) the finalise policy too.
// Unlike CamCOPS, which leaves this to the client, the server refuses the upload itself.
import { failUser } from './camcops-errors.js';
import type { GroupPolicies } from './camcops-settings.js';
import type { PatientDetails } from './id-policy.js';
import type { ClientRow } from './record-validation.js';

/** A patient as it will stand after the upload. */
export interface UploadedPatient {
  /** The client's id of the patient row (not an identifier of the person). */
  clientId: number;
  row: ClientRow;
  /** which_idnum -> value, present values only. */
  idnums: Map<number, number>;
  finalising: boolean;
}

/** Joins patient rows with their ID numbers. */
export function patientsFrom(patients: readonly ClientRow[], idnums: readonly ClientRow[], finalising: (row: ClientRow) => boolean): UploadedPatient[] {
  const byPatient = new Map<number, Map<number, number>>();
  for (const idnum of idnums) {
    if (idnum.idnum_value === null || idnum.idnum_value === undefined) continue;
    const patientId = Number(idnum.patient_id);
    if (!byPatient.has(patientId)) byPatient.set(patientId, new Map());
    byPatient.get(patientId)!.set(Number(idnum.which_idnum), Number(idnum.idnum_value));
  }
  return patients.map((row) => ({ clientId: Number(row.id), row, idnums: byPatient.get(Number(row.id)) ?? new Map(), finalising: finalising(row) }));
}

/** @throws CamcopsUserError listing every patient (by client record id) that fails, and which policy. */
export function enforcePolicies(patients: readonly UploadedPatient[], policies: GroupPolicies): void {
  const problems: string[] = [];
  for (const patient of patients) {
    const details = detailsOf(patient.row, patient.idnums);
    if (!policies.upload.accepts(details)) problems.push(`patient record ${patient.clientId} does not meet the upload policy "${policies.upload.text}"`);
    else if (patient.finalising && !policies.finalize.accepts(details)) problems.push(`patient record ${patient.clientId} does not meet the finalise policy "${policies.finalize.text}"`);
  }
  if (problems.length) failUser(`Invalid patients: ${problems.join(' // ')}`);
}

/** The policy's view of a patient row. */
export function detailsOf(row: Record<string, unknown>, idnums: ReadonlyMap<number, number>): PatientDetails {
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    forename: text(row.forename),
    surname: text(row.surname),
    dob: text(row.dob),
    sex: text(row.sex),
    address: text(row.address),
    gp: text(row.gp),
    otherdetails: text(row.other ?? row.otherdetails),
    email: text(row.email),
    idnums,
  };
}
