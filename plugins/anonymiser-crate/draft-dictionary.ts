// Drafts a data dictionary from a source database's schema for a human to review: primary
// keys become K, patient-ID-like columns P (with * on the patient table), NHS-number-like
// columns M, names, dates of birth, addresses, postcodes, phones and e-mails become patient
// scrubber sources that are omitted from the output, and free text is included with scrub.
// Every guess is said in the comment column; nothing here is trusted without review.
import { QueryTypes, type Sequelize } from 'sequelize';
import type { SqlDialect } from './database-connection.js';
import { DD_COLUMNS, type DdColumn } from './data-dictionary.js';

interface ColumnInfo {
  name: string;
  type: string;
  primaryKey: boolean;
  allowNull: boolean;
}

const PID = /^(patient_?id|pid|patient_?no|mrn|hospital_?(number|no|id)|rio_?number|subject_?id)$/i;
const MPID = /^(nhs_?(number|num|no)|nhsnum)$/i;
const NAME = /(^|_)(forename|first_?name|given_?name|surname|last_?name|family_?name|middle_?name|full_?name|name|alias|maiden_?name)$/i;
const DOB = /^(dob|date_?of_?birth|birth_?date|birthdate)$/i;
const POSTCODE = /post_?code|zip/i;
const ADDRESS = /address|street|town|city|county/i;
const PHONE = /phone|tel(ephone)?|mobile|fax/i;
const EMAIL = /e_?mail/i;
const FREE_TEXT = /note|text|comment|letter|narrative|description|body|summary/i;

function isTextType(type: string): boolean {
  return /TEXT|CLOB|CHAR\s*\(\s*(\d{3,}|MAX)\s*\)|NVARCHAR\(MAX\)/i.test(type);
}

/** Lists user tables of the database. */
async function tableNames(sequelize: Sequelize, dialect: SqlDialect): Promise<string[]> {
  const sql = {
    sqlite: `SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
    postgres: `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    mysql: `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    mssql: `SELECT name AS t FROM sys.tables ORDER BY name`,
  }[dialect];
  return (await sequelize.query<{ t: string; T?: string }>(sql, { type: QueryTypes.SELECT })).map((r) => r.t ?? r.T!);
}

/**
 * Writes a draft dictionary (TSV text) for the database.
 * @param srcDb - the source's name in the config (`[source:NAME]`)
 */
export async function draftDictionary(sequelize: Sequelize, dialect: SqlDialect, srcDb: string): Promise<string> {
  const lines: string[] = ['# Draft data dictionary: review every line before use (decisions and scrub sources are guesses).', DD_COLUMNS.join('\t')];
  const tables = await tableNames(sequelize, dialect);
  const described = new Map<string, ColumnInfo[]>();
  for (const table of tables) {
    const desc = await sequelize.getQueryInterface().describeTable(table);
    described.set(table, Object.entries(desc).map(([name, d]) => ({ name, type: String(d.type), primaryKey: Boolean(d.primaryKey), allowNull: d.allowNull !== false })));
  }
  // The patient table: the one whose primary key looks like a patient ID, else one named patient(s).
  const patientTable = tables.find((t) => described.get(t)!.some((c) => c.primaryKey && PID.test(c.name))) ?? tables.find((t) => /^patients?$/i.test(t));
  for (const table of tables) {
    const columns = described.get(table)!;
    const pid = columns.find((c) => PID.test(c.name));
    for (const c of columns) {
      const cell: Partial<Record<DdColumn, string>> = { src_db: srcDb, src_table: table, src_field: c.name, src_datatype: c.type.replace(/\s+/g, ' '), decision: 'include' };
      const flags: string[] = [];
      const why: string[] = [];
      if (c.primaryKey) flags.push('K');
      if (!c.allowNull) flags.push('N');
      if (c === pid) {
        flags.push('P');
        if (table === patientTable) flags.push('*');
        why.push('patient ID guessed from the name');
      } else if (pid && MPID.test(c.name)) {
        flags.push('M');
        Object.assign(cell, { scrub_src: 'patient', scrub_method: 'number' });
        why.push('master ID (NHS number) guessed from the name');
      } else if (pid && DOB.test(c.name)) {
        Object.assign(cell, { scrub_src: 'patient', scrub_method: 'date', decision: 'OMIT' });
        why.push('date of birth: scrubs, omitted');
      } else if (pid && POSTCODE.test(c.name)) {
        Object.assign(cell, { scrub_src: 'patient', scrub_method: 'code', decision: 'OMIT' });
        why.push('postcode: scrubs, omitted');
      } else if (pid && PHONE.test(c.name)) {
        Object.assign(cell, { scrub_src: 'patient', scrub_method: 'number', decision: 'OMIT' });
        why.push('phone number: scrubs, omitted');
      } else if (pid && (NAME.test(c.name) || ADDRESS.test(c.name) || EMAIL.test(c.name))) {
        Object.assign(cell, { scrub_src: 'patient', scrub_method: ADDRESS.test(c.name) ? 'address' : 'words', decision: 'OMIT' });
        why.push('identifier guessed from the name: scrubs, omitted');
      } else if (!c.primaryKey && (isTextType(c.type) || (FREE_TEXT.test(c.name) && /CHAR|TEXT/i.test(c.type)))) {
        cell.alter_method = 'scrub';
        why.push('free text: scrubbed');
      }
      if (c.primaryKey) flags.push('H');
      cell.src_flags = flags.join('');
      cell.comment = why.join('; ');
      lines.push(DD_COLUMNS.map((col) => cell[col] ?? '').join('\t'));
    }
  }
  return `${lines.join('\n')}\n`;
}
