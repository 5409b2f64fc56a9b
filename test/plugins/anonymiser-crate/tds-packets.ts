// Byte-level pieces of MS-TDS 7.4 for the fake SQL Server endpoint (tds-fake-server.ts):
// packet framing (2.2.3), the PRELOGIN reply (2.2.6.5), reading LOGIN7 (2.2.6.4), SQL_BATCH
// (2.2.6.7), RPC (2.2.6.6) and transaction-manager requests (2.2.6.9), and writing the tokens a
// server answers with (2.2.7: COLMETADATA, ROW, DONE*, ENVCHANGE, ERROR/INFO, LOGINACK,
// RETURNSTATUS). Section numbers are those of [MS-TDS]; every layout was checked against the
// parsers of tedious 19 (lib/token/*-parser.js, metadata-parser.js, prelogin-payload.js).
// Integers are little-endian unless noted: the packet header and LOGINACK's TDS version are
// big-endian.

/** Packet types (2.2.3.1.1). */
export const PacketType = {
  SQL_BATCH: 0x01,
  RPC_REQUEST: 0x03,
  TABULAR_RESULT: 0x04,
  ATTENTION: 0x06,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

/** Token types (2.2.7). */
export const TokenType = {
  COLMETADATA: 0x81,
  RETURNSTATUS: 0x79,
  ERROR: 0xaa,
  INFO: 0xab,
  LOGINACK: 0xad,
  ROW: 0xd1,
  ENVCHANGE: 0xe3,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

/** DONE status bits (2.2.7.6). */
export const DoneStatus = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10, ATTN: 0x20 } as const;

/** CurCmd values a real server puts in DONE tokens (any value is accepted by clients). */
export const CurCmd = { SELECT: 0xc1, INSERT: 0xc3, DELETE: 0xc4, UPDATE: 0xc5, EXECUTE: 0xe0, OTHER: 0x00 } as const;

/** SQL_Latin1_General_CP1_CI_AS as the 5-byte TDS collation: LCID 0x0409, ignore case/kana/width, sort ID 52. */
export const LATIN1_CI_AS = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

/** The TDS 7.4 version number as LOGINACK carries it (big-endian DWORD). */
export const TDS_7_4 = 0x74000004;

const HEADER_LENGTH = 8;
const STATUS_EOM = 0x01;

/** One whole message: the concatenated data of packets up to the one with EOM set. */
export interface TdsMessage {
  type: number;
  /** Status of the last packet (EOM, IGNORE 0x02, RESETCONNECTION 0x08). */
  status: number;
  payload: Buffer;
}

/** Collects bytes from a socket and returns whole messages as their last packet arrives. */
export class TdsMessageReader {
  private buffered: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];

  /**
   * @param chunk - bytes as the socket delivered them
   * @returns the messages completed by this chunk, in order
   * @throws Error on a packet shorter than its header
   */
  push(chunk: Buffer): TdsMessage[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const done: TdsMessage[] = [];
    while (this.buffered.length >= HEADER_LENGTH) {
      const length = this.buffered.readUInt16BE(2);
      if (length < HEADER_LENGTH) throw new Error(`TDS packet length ${length} is shorter than its header`);
      if (this.buffered.length < length) break;
      const type = this.buffered[0]!;
      const status = this.buffered[1]!;
      this.parts.push(this.buffered.subarray(HEADER_LENGTH, length));
      this.buffered = this.buffered.subarray(length);
      if (status & STATUS_EOM) {
        done.push({ type, status, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return done;
  }
}

/**
 * Splits a message into packets of at most `packetSize` bytes (header included).
 * @param eom - false to leave the last packet without EOM, as a reply cut off in the middle
 */
export function framePackets(type: number, payload: Buffer, packetSize: number, eom = true): Buffer {
  const room = packetSize - HEADER_LENGTH;
  const packets: Buffer[] = [];
  let packetId = 1;
  for (let offset = 0; offset < payload.length || packets.length === 0; offset += room) {
    const data = payload.subarray(offset, offset + room);
    const last = offset + room >= payload.length;
    const header = Buffer.alloc(HEADER_LENGTH);
    header[0] = type;
    header[1] = last && eom ? STATUS_EOM : 0;
    header.writeUInt16BE(HEADER_LENGTH + data.length, 2);
    header.writeUInt16BE(0x0033, 4); // SPID: any session number
    header[6] = packetId++ % 256;
    header[7] = 0;
    packets.push(header, data);
  }
  return Buffer.concat(packets);
}

// ---- data types of the wire (2.2.5.1) ----

const ucs2 = (s: string): Buffer => Buffer.from(s, 'utf16le');

/** B_VARCHAR: character count in one byte, then UCS-2. */
export function bVarChar(s: string): Buffer {
  if (s.length > 255) throw new Error('B_VARCHAR holds at most 255 characters');
  return Buffer.concat([Buffer.from([s.length]), ucs2(s)]);
}

/** US_VARCHAR: character count in two bytes, then UCS-2. */
export function usVarChar(s: string): Buffer {
  const count = Buffer.alloc(2);
  count.writeUInt16LE(s.length);
  return Buffer.concat([count, ucs2(s)]);
}

/** B_VARBYTE: byte count in one byte, then the bytes. */
function bVarByte(b: Buffer): Buffer {
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** A token whose body is preceded by a USHORT length. */
function withLength(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

// ---- PRELOGIN (2.2.6.5) ----

/**
 * The server's PRELOGIN reply: VERSION, ENCRYPTION, INSTOPT, THREADID and MARS options.
 * @param encryption - 0x00 OFF, 0x01 ON, 0x02 NOT_SUP (no TLS at all), 0x03 REQ
 */
export function preloginReply(encryption = 0x02, version: readonly [number, number, number] = [15, 0, 2000]): Buffer {
  const versionData = Buffer.alloc(6);
  versionData[0] = version[0];
  versionData[1] = version[1];
  versionData.writeUInt16BE(version[2], 2); // build, big-endian like the client's own VERSION
  const options: Array<[number, Buffer]> = [
    [0x00, versionData],
    [0x01, Buffer.from([encryption])],
    [0x02, Buffer.from([0x00])], // INSTOPT: the instance name matched
    [0x03, Buffer.alloc(0)], // THREADID: servers send it empty
    [0x04, Buffer.from([0x00])], // MARS off
  ];
  const table = Buffer.alloc(options.length * 5 + 1);
  let dataOffset = table.length;
  options.forEach(([token, data], i) => {
    table[i * 5] = token;
    table.writeUInt16BE(dataOffset, i * 5 + 1);
    table.writeUInt16BE(data.length, i * 5 + 3);
    dataOffset += data.length;
  });
  table[table.length - 1] = 0xff;
  return Buffer.concat([table, ...options.map(([, data]) => data)]);
}

// ---- LOGIN7 (2.2.6.4) ----

/** What the fake needs from a LOGIN7 message. */
export interface Login7 {
  tdsVersion: number;
  packetSize: number;
  hostName: string;
  userName: string;
  password: string;
  appName: string;
  serverName: string;
  database: string;
}

/**
 * Reads a LOGIN7 payload. The password is un-obfuscated (each byte had its nibbles swapped and
 * was XORed with 0xA5), so that the fake can check it.
 */
export function parseLogin7(payload: Buffer): Login7 {
  const field = (at: number): string => {
    const offset = payload.readUInt16LE(at);
    const chars = payload.readUInt16LE(at + 2);
    return payload.toString('utf16le', offset, offset + chars * 2);
  };
  const passwordOffset = payload.readUInt16LE(44);
  const passwordBytes = Buffer.from(payload.subarray(passwordOffset, passwordOffset + payload.readUInt16LE(46) * 2));
  for (let i = 0; i < passwordBytes.length; i++) {
    const b = passwordBytes[i]! ^ 0xa5;
    passwordBytes[i] = ((b & 0x0f) << 4) | (b >> 4);
  }
  return {
    tdsVersion: payload.readUInt32LE(4),
    packetSize: payload.readUInt32LE(8),
    hostName: field(36),
    userName: field(40),
    password: passwordBytes.toString('utf16le'),
    appName: field(48),
    serverName: field(52),
    database: field(68),
  };
}

// ---- requests after login ----

/** Skips ALL_HEADERS (2.2.5.3), present on SQL_BATCH, RPC and transaction-manager requests from TDS 7.2. */
function afterAllHeaders(payload: Buffer): number {
  return payload.length >= 4 ? payload.readUInt32LE(0) : 0;
}

/** The SQL text of a SQL_BATCH payload. */
export function parseSqlBatch(payload: Buffer): string {
  return payload.toString('utf16le', afterAllHeaders(payload));
}

/** Stored procedure IDs a client may send instead of a name (2.2.6.6). */
const SP_EXECUTESQL = 10;

/**
 * The statement of an RPC request: for sp_executesql (how tedious' execSql, and so sequelize,
 * sends every query) the first parameter's NVARCHAR text; for any other procedure its name
 * prefixed with `EXEC `. Parameter values after the statement are not decoded.
 */
export function parseRpcStatement(payload: Buffer): string {
  let offset = afterAllHeaders(payload);
  let procedure: string | number;
  const nameLength = payload.readUInt16LE(offset);
  offset += 2;
  if (nameLength === 0xffff) {
    procedure = payload.readUInt16LE(offset);
    offset += 2;
  } else {
    procedure = payload.toString('utf16le', offset, offset + nameLength * 2);
    offset += nameLength * 2;
  }
  offset += 2; // option flags
  if (procedure !== SP_EXECUTESQL && String(procedure).toLowerCase() !== 'sp_executesql') return `EXEC ${procedure}`;
  offset += 1 + payload[offset]! * 2; // parameter name (B_VARCHAR, empty for the statement)
  offset += 1; // status flags
  const type = payload[offset]!;
  if (type !== 0xe7 && type !== 0xef) throw new Error(`sp_executesql statement of type 0x${type.toString(16)} is not NVARCHAR/NCHAR`);
  const maxLength = payload.readUInt16LE(offset + 1);
  offset += 1 + 2 + 5; // type, max length, collation
  if (maxLength !== 0xffff) {
    const length = payload.readUInt16LE(offset);
    return length === 0xffff ? '' : payload.toString('utf16le', offset + 2, offset + 2 + length);
  }
  // NVARCHAR(MAX): PLP, a ULONGLONG total length (or "unknown"), then chunks ending with a 0 length.
  offset += 8;
  const chunks: Buffer[] = [];
  for (;;) {
    const chunkLength = payload.readUInt32LE(offset);
    offset += 4;
    if (chunkLength === 0) break;
    chunks.push(payload.subarray(offset, offset + chunkLength));
    offset += chunkLength;
  }
  return Buffer.concat(chunks).toString('utf16le');
}

/** Transaction-manager request types (2.2.6.9). */
export const TmRequest = { BEGIN: 5, COMMIT: 7, ROLLBACK: 8, SAVE: 9 } as const;

/** The request type of a transaction-manager payload. */
export function parseTransactionRequest(payload: Buffer): number {
  return payload.readUInt16LE(afterAllHeaders(payload));
}

// ---- tokens the server writes (2.2.7) ----

/** LOGINACK (2.2.7.14): interface SQL_TSQL, TDS 7.4. */
export function loginAckToken(progName: string, version: readonly [number, number, number, number] = [15, 0, 0x07, 0xd0]): Buffer {
  const tds = Buffer.alloc(4);
  tds.writeUInt32BE(TDS_7_4);
  return withLength(TokenType.LOGINACK, Buffer.concat([Buffer.from([0x01]), tds, bVarChar(progName), Buffer.from(version)]));
}

/** ENVCHANGE types (2.2.7.9). */
export const EnvChange = { DATABASE: 1, LANGUAGE: 2, PACKET_SIZE: 4, SQL_COLLATION: 7, BEGIN_TXN: 8, COMMIT_TXN: 9, ROLLBACK_TXN: 10 } as const;

/** ENVCHANGE with B_VARCHAR values (database, language, packet size). */
export function envChangeText(type: number, newValue: string, oldValue: string): Buffer {
  return withLength(TokenType.ENVCHANGE, Buffer.concat([Buffer.from([type]), bVarChar(newValue), bVarChar(oldValue)]));
}

/** ENVCHANGE with B_VARBYTE values (collation, transaction descriptors). */
export function envChangeBytes(type: number, newValue: Buffer, oldValue: Buffer): Buffer {
  return withLength(TokenType.ENVCHANGE, Buffer.concat([Buffer.from([type]), bVarByte(newValue), bVarByte(oldValue)]));
}

/** A server message: the fields of ERROR and INFO (2.2.7.10, 2.2.7.13). */
export interface ServerMessage {
  number: number;
  state: number;
  class: number;
  message: string;
  serverName: string;
  procName?: string;
  lineNumber?: number;
}

function messageToken(type: number, m: ServerMessage): Buffer {
  const head = Buffer.alloc(6);
  head.writeInt32LE(m.number, 0);
  head[4] = m.state;
  head[5] = m.class;
  const line = Buffer.alloc(4);
  line.writeInt32LE(m.lineNumber ?? 1);
  return withLength(type, Buffer.concat([head, usVarChar(m.message), bVarChar(m.serverName), bVarChar(m.procName ?? ''), line]));
}

/** ERROR (2.2.7.10); class 11 to 16 are the user's errors, 20 and above end the connection. */
export function errorToken(m: ServerMessage): Buffer {
  return messageToken(TokenType.ERROR, m);
}

/** INFO (2.2.7.13), as servers send for "Changed database context to ...". */
export function infoToken(m: ServerMessage): Buffer {
  return messageToken(TokenType.INFO, m);
}

/** DONE, DONEPROC or DONEINPROC (2.2.7.6-8) with a ULONGLONG row count (TDS 7.2 and later). */
export function doneToken(status: number, curCmd: number, rowCount = 0, type: number = TokenType.DONE): Buffer {
  const b = Buffer.alloc(13);
  b[0] = type;
  b.writeUInt16LE(status, 1);
  b.writeUInt16LE(curCmd, 3);
  b.writeBigUInt64LE(BigInt(rowCount), 5);
  return b;
}

/** RETURNSTATUS (2.2.7.18): the return value of a procedure (sp_executesql returns 0). */
export function returnStatusToken(value: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = TokenType.RETURNSTATUS;
  b.writeInt32LE(value, 1);
  return b;
}

/** Column types the fake can send; all nullable. */
export type FakeColumnType = 'int' | 'bigint' | 'bit' | 'float' | 'nvarchar';

/** A result-set column. */
export interface FakeColumn {
  name: string;
  type: FakeColumnType;
}

const NVARCHAR_MAX_BYTES = 8000; // NVARCHAR(4000); longer values are not needed by the fake

/** TYPE_INFO (2.2.5.6) of a column: the fixed-length-with-null variants INTN, BITN, FLTN, and NVARCHAR. */
function typeInfo(type: FakeColumnType): Buffer {
  switch (type) {
    case 'int': return Buffer.from([0x26, 4]);
    case 'bigint': return Buffer.from([0x26, 8]);
    case 'bit': return Buffer.from([0x68, 1]);
    case 'float': return Buffer.from([0x6d, 8]);
    case 'nvarchar': {
      const b = Buffer.alloc(3);
      b[0] = 0xe7;
      b.writeUInt16LE(NVARCHAR_MAX_BYTES, 1);
      return Buffer.concat([b, LATIN1_CI_AS]);
    }
  }
}

/** COLMETADATA (2.2.7.4): per column UserType (ULONG), Flags (nullable), TYPE_INFO, ColName. */
export function colMetadataToken(columns: readonly FakeColumn[]): Buffer {
  const head = Buffer.alloc(3);
  head[0] = TokenType.COLMETADATA;
  head.writeUInt16LE(columns.length, 1);
  const parts = columns.map((c) => {
    const fixed = Buffer.alloc(6);
    fixed.writeUInt32LE(0, 0); // UserType
    fixed.writeUInt16LE(0x0001, 4); // fNullable
    return Buffer.concat([fixed, typeInfo(c.type), bVarChar(c.name)]);
  });
  return Buffer.concat([head, ...parts]);
}

/**
 * ROW (2.2.7.19): each value as its TYPE_VARBYTE, a length (0 or 0xFFFF for NULL) then data.
 * @throws Error when a value does not fit its column's type
 */
export function rowToken(columns: readonly FakeColumn[], values: readonly unknown[]): Buffer {
  const parts: Buffer[] = [Buffer.from([TokenType.ROW])];
  columns.forEach((c, i) => {
    const v = values[i];
    if (v === null || v === undefined) {
      parts.push(c.type === 'nvarchar' ? Buffer.from([0xff, 0xff]) : Buffer.from([0]));
      return;
    }
    switch (c.type) {
      case 'int': {
        const b = Buffer.alloc(5);
        b[0] = 4;
        b.writeInt32LE(Number(v), 1);
        parts.push(b);
        break;
      }
      case 'bigint': {
        const b = Buffer.alloc(9);
        b[0] = 8;
        b.writeBigInt64LE(BigInt(v as number | bigint | string), 1);
        parts.push(b);
        break;
      }
      case 'bit':
        parts.push(Buffer.from([1, v ? 1 : 0]));
        break;
      case 'float': {
        const b = Buffer.alloc(9);
        b[0] = 8;
        b.writeDoubleLE(Number(v), 1);
        parts.push(b);
        break;
      }
      case 'nvarchar': {
        const data = ucs2(String(v));
        if (data.length > NVARCHAR_MAX_BYTES) throw new Error(`value of column ${c.name} is longer than NVARCHAR(4000)`);
        const length = Buffer.alloc(2);
        length.writeUInt16LE(data.length);
        parts.push(length, data);
        break;
      }
    }
  });
  return Buffer.concat(parts);
}
