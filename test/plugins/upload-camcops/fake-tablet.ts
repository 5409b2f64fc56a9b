// A stand-in for a CamCOPS tablet in tests: sends form-urlencoded POSTs to the plugin's API
// through app.request, keeps the session it is given, and builds one-step and stepwise
// uploads from plain rows. Bodies and values are encoded as the CamCOPS C++ client encodes
// them (camcops-client.ts), never with the plugin's own encoder, so that the scenarios check
// the client's encoding.
import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import type { AppEnv } from '../../../core/api.js';
import { parseReply } from '../../../plugins/upload-camcops/camcops-reply.js';
import type { LiteralValue } from '../../../plugins/upload-camcops/sql-literal-codec.js';
import { csvRow, qtPostBody, qtToSqlLiteral } from './camcops-client.js';

/** A client row: field -> value. */
export type Row = Record<string, LiteralValue>;

/** A reply: HTTP status and its key:value items. */
export interface TabletReply {
  status: number;
  items: Record<string, string>;
}

/** A tablet with its device name, credentials and session. */
export class FakeTablet {
  sessionId: string | undefined;
  sessionToken: string | undefined;
  /** Sent as X-Forwarded-For (the host must trust the proxy for it to count). */
  address: string | undefined;

  constructor(
    private readonly app: Hono<AppEnv>,
    readonly device: string,
    readonly user: string | undefined,
    readonly password: string | undefined,
    readonly version = '2.4.12',
    private readonly path = '/upload/camcops/api',
  ) {}

  /** Sends one operation; keeps the session the server answers with. */
  async send(operation: string, params: Record<string, string> = {}): Promise<TabletReply> {
    const form: Record<string, string> = { operation, camcops_version: this.version, device: this.device };
    if (this.user !== undefined) form.user = this.user;
    if (this.password !== undefined) form.password = this.password;
    if (this.sessionId) form.session_id = this.sessionId;
    if (this.sessionToken) form.session_token = this.sessionToken;
    Object.assign(form, params);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (this.address) headers['x-forwarded-for'] = this.address;
    const response = await this.app.request(this.path, { method: 'POST', headers, body: qtPostBody(form) });
    const items = parseReply(await response.text());
    if (items.session_id) this.sessionId = items.session_id;
    if (items.session_token) this.sessionToken = items.session_token;
    return { status: response.status, items };
  }

  /** Sends an operation that must succeed; returns its items. */
  async ok(operation: string, params: Record<string, string> = {}): Promise<Record<string, string>> {
    const reply = await this.send(operation, params);
    assert.equal(reply.items.success, '1', `${operation} failed: ${reply.items.error ?? JSON.stringify(reply)}`);
    assert.equal(reply.status, 200);
    return reply.items;
  }

  /** Sends an operation that must fail as a user error; returns the error text. */
  async refused(operation: string, params: Record<string, string> = {}): Promise<string> {
    const reply = await this.send(operation, params);
    assert.equal(reply.status, 200, JSON.stringify(reply));
    assert.equal(reply.items.success, '0', `${operation} should have failed: ${JSON.stringify(reply.items)}`);
    return reply.items.error ?? '';
  }

  /** One-step upload of the whole client database (tables not given are empty). */
  async uploadOneStep(tables: Record<string, Row[]>, finalizing = false): Promise<TabletReply> {
    return this.send('upload_entire_database', oneStepParams(tables, finalizing));
  }

  /** A stepwise upload: start, (preservation), empty tables, one upload_table per table, end. */
  async uploadStepwise(tables: Record<string, Row[]>, preserving = false, emptyTables: string[] = []): Promise<void> {
    await this.ok('start_upload');
    if (preserving) await this.ok('start_preservation');
    if (emptyTables.length) await this.ok('upload_empty_tables', { tables: emptyTables.join(',') });
    for (const [table, rows] of Object.entries(tables)) {
      if (!rows.length) {
        await this.ok('upload_empty_tables', { tables: table });
        continue;
      }
      await this.ok('upload_table', uploadTableParams(table, rows));
    }
    await this.ok('end_upload');
  }
}

/** Parameters of upload_table for rows that share their fields (sendTableWhole: csvRow per record). */
export function uploadTableParams(table: string, rows: Row[]): Record<string, string> {
  const fields = Object.keys(rows[0]!);
  const params: Record<string, string> = { table, fields: fields.join(','), nrecords: String(rows.length), pkname: 'id' };
  rows.forEach((row, i) => {
    params[`record${i}`] = csvRow(fields, row);
  });
  return params;
}

/** Parameters of upload_entire_database (uploadOneStep: jsonRow, toSqlLiteral per value). */
export function oneStepParams(tables: Record<string, Row[]>, finalizing: boolean): Record<string, string> {
  const dbdata: Record<string, Array<Record<string, string>>> = {};
  const pknameinfo: Record<string, string> = {};
  for (const [table, rows] of Object.entries(tables)) {
    pknameinfo[table] = 'id';
    dbdata[table] = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, qtToSqlLiteral(v)])));
  }
  return { finalizing: finalizing ? '1' : '0', pknameinfo: JSON.stringify(pknameinfo), dbdata: JSON.stringify(dbdata) };
}

/** A task row with the standard fields filled in. */
export function taskRow(id: number, modified: string, fields: Row = {}, moveOff = 0): Row {
  return { id, when_last_modified: modified, _move_off_tablet: moveOff, when_created: '2026-01-01T09:00:00.000Z', ...fields };
}

/** A row of a non-task table. */
export function plainRow(id: number, modified: string, fields: Row = {}, moveOff = 0): Row {
  return { id, when_last_modified: modified, _move_off_tablet: moveOff, ...fields };
}
