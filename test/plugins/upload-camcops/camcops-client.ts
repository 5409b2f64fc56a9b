// A CamCOPS tablet that builds its requests the way the CamCOPS 2.4 C++ client does, so that
// the tests check the client's encoding and not our reading of it. It does not use the
// plugin's encoder. Sources followed (CamCOPS repository, tablet_qt/):
// - core/networkmanager.cpp: serverPost, registerNext, uploadNext, catalogueTablesForUpload,
//   isPatientInfoComplete, sendEmptyTables, sendTableWhole, sendTableRecordwise,
//   requestRecordwisePkPrune, sendNextRecord, endUpload, uploadOneStep, getPkInfoAsJson,
//   wipeTables;
// - db/queryresult.cpp: csvRow (toSqlLiteral of each column), columnAsStringList
//   (QVariant::toString of each value), jsonRow;
// - db/databasemanager.cpp: getAllTables (ORDER BY name), getDatabaseAsJson;
// - lib/convert.cpp: toSqlLiteral, sqlQuoteString, escapeNewlines, blobToQuotedBase64,
//   getPostDataAsUrlQuery, getReplyDict; numericVectorToCsvString in lib/convert.h.
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import type { AppEnv } from '../../../core/api.js';

/**
 * A value as the tablet's SQLite hands it to Qt: NULL, an integer (LongLong), a double, text
 * (QString; dates and date-times are text, as Field::databaseValue stores them), a blob
 * (QByteArray). Booleans are stored as 0/1 integers.
 */
export type ClientValue = null | number | string | Buffer;
/** One record of a client table: its columns in the table's order. */
export type ClientRecord = Record<string, ClientValue>;
/** The tablet's database: table name -> records (empty tables included). */
export type ClientDatabase = Record<string, ClientRecord[]>;

// ---------------------------------------------------------------------------------------
// lib/convert.cpp
// ---------------------------------------------------------------------------------------

/** convert::escapeNewlines: backslash, then LF, then CR. */
export function qtEscapeNewlines(raw: string): string {
  return raw.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
}

/** convert::sqlQuoteString: `my name's Bob` -> `'my name''s Bob'`. */
export function qtSqlQuoteString(raw: string): string {
  return `'${raw.replaceAll("'", "''")}'`;
}

/**
 * QString::setNum(double) with its defaults, format 'g' and precision 6: as C's %g, the
 * shorter exponent form when the exponent is below -4 or at least 6, trailing zeros dropped,
 * an exponent of at least two digits ("1e-07", "1.23457e+06").
 */
export function qtSetNumDouble(d: number): string {
  if (d === 0) return '0';
  const precision = 6;
  const [mantissa, exponentText] = d.toExponential(precision - 1).split('e') as [string, string];
  const exponent = Number(exponentText);
  const strip = (s: string): string => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exponent < -4 || exponent >= precision) return `${strip(mantissa)}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return strip(d.toFixed(precision - 1 - exponent));
}

/**
 * convert::toSqlLiteral for the types SQLite gives back: NULL; LongLong via setNum; Double via
 * setNum (6 significant digits); QString via sqlQuoteString(escapeNewlines(...)); QByteArray
 * via blobToQuotedBase64 (`64'...'`).
 */
export function qtToSqlLiteral(value: ClientValue): string {
  if (value === null) return 'NULL';
  // A JS number that is a safe integer stands for SQLite's INTEGER (LongLong); any other for REAL (Double).
  if (typeof value === 'number') return Number.isSafeInteger(value) ? String(value) : qtSetNumDouble(value);
  if (Buffer.isBuffer(value)) return `64'${value.toString('base64')}'`;
  return qtSqlQuoteString(qtEscapeNewlines(value));
}

/** QVariant::toString for the same types: NULL is empty, numbers plain, text as it is. */
export function qtVariantToString(value: ClientValue): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value;
}

/** QUrl::toPercentEncoding: everything but ALPHA, DIGIT, '-', '.', '_', '~' is escaped. */
export function qtPercentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The request body serverPost sends: getPostDataAsUrlQuery over the Dict (a QMap, so keys in
 * order), each key and value percent-encoded, then QUrlQuery::toString(FullyEncoded).
 */
export function qtPostBody(dict: Record<string, string>): string {
  return Object.keys(dict)
    .sort()
    .map((k) => `${qtPercentEncode(k)}=${qtPercentEncode(dict[k]!)}`)
    .join('&');
}

/** convert::getReplyDict: `^([\S]+?):\s*([\s\S]*)` per line, no unescaping. */
export function qtReplyDict(text: string): Record<string, string> {
  const dict: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([\S]+?):\s*([\s\S]*)/.exec(line);
    if (match) dict[match[1]!] = match[2]!;
  }
  return dict;
}

// ---------------------------------------------------------------------------------------
// db/queryresult.cpp and db/databasemanager.cpp
// ---------------------------------------------------------------------------------------

/** QueryResult::csvRow: each column through toSqlLiteral, joined with ','. */
export function csvRow(fields: readonly string[], record: ClientRecord): string {
  return fields.map((f) => qtToSqlLiteral(record[f] ?? null)).join(',');
}

/** QueryResult::columnAsStringList(col).join(","), as requestRecordwisePkPrune sends it. */
export function columnAsStringList(records: readonly ClientRecord[], field: string): string {
  return records.map((r) => qtVariantToString(r[field] ?? null)).join(',');
}

/** DatabaseManager::getAllTables: ORDER BY name. */
export function allTables(db: ClientDatabase): string[] {
  return Object.keys(db).sort();
}

/**
 * DatabaseManager::getDatabaseAsJson: every table, every record through jsonRow
 * (toSqlLiteral), as QJsonDocument::Compact writes it. A QJsonObject keeps its keys sorted.
 */
export function databaseAsJson(db: ClientDatabase): string {
  const root: Record<string, Array<Record<string, string>>> = {};
  for (const table of allTables(db)) root[table] = db[table]!.map((r) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, qtToSqlLiteral(r[k]!)])));
  return JSON.stringify(root);
}

// ---------------------------------------------------------------------------------------
// core/networkmanager.cpp
// ---------------------------------------------------------------------------------------

/** The upload methods of the client's upload dialogue. */
export type UploadMethod = 'copy' | 'move_keeping_patients' | 'move';

/** One request as sent, and the reply as the client reads it. */
export interface Exchange {
  body: string;
  status: number;
  reply: Record<string, string>;
}

/** A tablet: its device name, settings, session and database. */
export class ClientTablet {
  /** m_tmp_session_id / m_tmp_session_token, from the last reply. */
  sessionId = '';
  sessionToken = '';
  /** Every request sent and reply received, in order. */
  readonly log: Exchange[] = [];
  /** The tablet's database. */
  db: ClientDatabase;

  constructor(
    private readonly app: Hono<AppEnv>,
    readonly device: string,
    readonly user: string,
    readonly password: string,
    db: ClientDatabase = {},
    /** camcopsversion::CAMCOPS_CLIENT_VERSION. */
    readonly version = '2.4.24',
    readonly friendlyName = `Tablet ${device}`,
  ) {
    this.db = db;
  }

  /** serverPost: completes the Dict (version, device, user, password, session) and sends it. */
  async serverPost(dict: Record<string, string>, includeUser = true): Promise<Exchange> {
    const full: Record<string, string> = { ...dict, camcops_version: this.version, device: this.device };
    if (includeUser) {
      full.user = this.user;
      full.password = this.password;
    }
    if (this.sessionId && this.sessionToken) {
      full.session_id = this.sessionId;
      full.session_token = this.sessionToken;
    }
    const body = qtPostBody(full);
    const response = await this.app.request('/upload/camcops/api', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const reply = qtReplyDict(await response.text());
    // processServerReply: the session is taken from every well-formed reply.
    if (reply.session_id !== undefined && reply.session_token !== undefined) {
      this.sessionId = reply.session_id;
      this.sessionToken = reply.session_token;
    }
    const exchange = { body, status: response.status, reply };
    this.log.push(exchange);
    return exchange;
  }

  /** A request that must succeed (processServerReply: success 1). */
  private async post(dict: Record<string, string>, includeUser = true): Promise<Record<string, string>> {
    const { status, reply } = await this.serverPost(dict, includeUser);
    assert.equal(reply.success, '1', `${dict.operation} failed (HTTP ${status}): ${reply.error ?? JSON.stringify(reply)}`);
    return reply;
  }

  /** registerNext: register, get_allowed_tables, get_extra_strings. Returns the register reply. */
  async register(): Promise<Record<string, string>> {
    const info = await this.post({ operation: 'register', devicefriendlyname: this.friendlyName });
    await this.post({ operation: 'get_allowed_tables' });
    await this.post({ operation: 'get_extra_strings' });
    return info;
  }

  /** isPatientInfoComplete: the patient_info JSON for validate_patients. */
  patientInfoJson(method: UploadMethod): string {
    const finalizing = method !== 'copy';
    const patients = (this.db.patient ?? []).map((p) => {
      const json: Record<string, unknown> = {};
      // Patient::jsonDescription: the identifying fields present, then idnum<N> for each ID number.
      for (const key of ['forename', 'surname', 'sex', 'dob', 'email', 'address', 'gp', 'other']) if (p[key] !== undefined && p[key] !== null) json[key] = p[key];
      for (const idnum of (this.db.patient_idnum ?? []).filter((i) => i.patient_id === p.id && i.idnum_value !== null)) json[`idnum${String(idnum.which_idnum)}`] = idnum.idnum_value;
      json.finalizing = finalizing || p._move_off_tablet === 1;
      return json;
    });
    return JSON.stringify(patients);
  }

  /**
   * upload + uploadNext: check_device_registered, check_upload_user_and_device, get_id_info,
   * validate_patients, get_allowed_tables, then one step (upload_entire_database) or
   * stepwise (start_upload, start_preservation unless copying, upload_empty_tables, one
   * upload_table per table, then blobs record by record: delete_where_key_not,
   * which_keys_to_send, upload_record for each key asked for, end_upload). Then
   * wipeTables. Returns the keys which_keys_to_send asked for, per table.
   */
  async upload(method: UploadMethod, oneStep: boolean): Promise<Record<string, number[]>> {
    await this.post({ operation: 'check_device_registered' });
    await this.post({ operation: 'check_upload_user_and_device' });
    await this.post({ operation: 'get_id_info' });
    await this.post({ operation: 'validate_patients', patient_info: this.patientInfoJson(method) });
    await this.post({ operation: 'get_allowed_tables' });
    const asked: Record<string, number[]> = {};
    if (oneStep) {
      const pkInfo = Object.fromEntries(allTables(this.db).map((t) => [t, 'id']));
      await this.post({ operation: 'upload_entire_database', finalizing: method !== 'copy' ? '1' : '0', pknameinfo: JSON.stringify(pkInfo), dbdata: databaseAsJson(this.db) });
    } else {
      // catalogueTablesForUpload: empty tables together, blobs record by record, the rest whole.
      const empty: string[] = [];
      const whole: string[] = [];
      const recordwise: string[] = [];
      for (const table of allTables(this.db)) {
        if (this.db[table]!.length === 0) empty.push(table);
        else if (table === 'blobs') recordwise.push(table);
        else whole.push(table);
      }
      await this.post({ operation: 'start_upload' });
      if (method !== 'copy') await this.post({ operation: 'start_preservation' });
      if (empty.length) await this.post({ operation: 'upload_empty_tables', tables: empty.join(',') });
      for (const table of whole) await this.sendTableWhole(table);
      for (const table of recordwise) asked[table] = await this.sendTableRecordwise(table);
      await this.post({ operation: 'end_upload' });
    }
    this.wipeTables(method);
    return asked;
  }

  /** sendTableWhole. */
  async sendTableWhole(table: string): Promise<void> {
    const records = this.db[table]!;
    const fields = Object.keys(records[0]!);
    const dict: Record<string, string> = { operation: 'upload_table', table, pkname: 'id', fields: fields.join(','), nrecords: String(records.length) };
    records.forEach((r, i) => {
      dict[`record${i}`] = csvRow(fields, r);
    });
    await this.post(dict);
  }

  /** sendTableRecordwise, requestRecordwisePkPrune, pruneRecordwisePks, sendNextRecord. */
  async sendTableRecordwise(table: string): Promise<number[]> {
    const records = this.db[table]!;
    const fields = Object.keys(records[0]!);
    const pks = records.map((r) => r.id as number);
    // numericVectorToCsvString(m_upload_recordwise_pks_to_send)
    await this.post({ operation: 'delete_where_key_not', table, pkname: 'id', pkvalues: pks.map(String).join(',') });
    // SELECT id, when_last_modified, _move_off_tablet, each column via columnAsStringList.
    const reply = await this.post({
      operation: 'which_keys_to_send', table, pkname: 'id',
      pkvalues: columnAsStringList(records, 'id'),
      datevalues: columnAsStringList(records, 'when_last_modified'),
      move_off_tablet_values: columnAsStringList(records, '_move_off_tablet'),
    });
    // convert::csvStringToIntVector(reply[result])
    const wanted = (reply.result ?? '').split(',').filter((s) => s.trim() !== '').map((s) => Number(s.trim()));
    for (const pk of wanted) {
      const record = records.find((r) => r.id === pk)!;
      await this.post({ operation: 'upload_record', table, fields: fields.join(','), pkname: 'id', values: csvRow(fields, record) });
    }
    return wanted;
  }

  /** wipeTables: moving wipes everything (or all but patients); otherwise records flagged to move off. */
  wipeTables(method: UploadMethod): void {
    for (const table of allTables(this.db)) {
      if (method === 'move' || (method === 'move_keeping_patients' && table !== 'patient' && table !== 'patient_idnum')) this.db[table] = [];
      else this.db[table] = this.db[table]!.filter((r) => r._move_off_tablet !== 1);
    }
  }
}
