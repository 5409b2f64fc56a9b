// The client tables every CamCOPS server has: patient, patient_idnum and blobs.
import { defineClientTable, type ClientTableDefinition } from './client-table-definition.js';

const text = { type: ['string', 'null'] };

/** patient, patient_idnum and blobs. */
export function builtinTables(): ClientTableDefinition[] {
  return [
    defineClientTable(
      {
        tablename: 'patient',
        minimum_client_version: '2.0.0',
        role: 'patient',
        schema: {
          type: 'object',
          properties: {
            forename: text,
            surname: text,
            dob: { type: ['string', 'null'], format: 'date' },
            sex: { type: ['string', 'null'], enum: ['F', 'M', 'X', null] },
            address: text,
            gp: text,
            other: text,
            email: text,
          },
        },
      },
      'patient (built in)',
    ),
    defineClientTable(
      {
        tablename: 'patient_idnum',
        minimum_client_version: '2.0.0',
        role: 'patient_idnum',
        schema: {
          type: 'object',
          required: ['patient_id', 'which_idnum'],
          properties: {
            patient_id: { type: 'integer' },
            which_idnum: { type: 'integer', minimum: 1 },
            idnum_value: { type: ['integer', 'null'], minimum: 0 },
          },
        },
      },
      'patient_idnum (built in)',
    ),
    defineClientTable(
      {
        tablename: 'blobs',
        minimum_client_version: '2.0.0',
        role: 'ancillary',
        schema: {
          type: 'object',
          properties: {
            tablename: text,
            tablepk: { type: ['integer', 'null'] },
            fieldname: text,
            filename: text,
            mimetype: text,
            image_rotation_deg_cw: { type: ['integer', 'null'] },
            theblob: { type: ['string', 'null'], contentEncoding: 'base64' },
          },
        },
      },
      'blobs (built in)',
    ),
  ];
}
