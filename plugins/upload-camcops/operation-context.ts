// What a protocol operation sees: the request's parameters (with checked accessors), its
// transaction, the tables, the device and the logged-in user with their upload group.
import type { AuditLogId, Services, UserIdentity } from '../../core/api.js';

/** Core's audit log, as its service identifier types it. */
type AuditLog = typeof AuditLogId extends import('inversify').ServiceIdentifier<infer T> ? T : never;
import { failUser } from './camcops-errors.js';
import type { ClientTableDefinition } from './client-table-definition.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { compareVersions, formatVersion, type CamcopsVersion } from './camcops-version.js';
import type { Device } from './device-store.js';
import { decodeLiteralList, type LiteralValue } from './sql-literal-codec.js';
import type { SqlRunner } from './sql-runner.js';
import type { ReplyItems } from './camcops-reply.js';
import type { Uploader } from './table-upload.js';
import type { TableChanges } from './upload-changes.js';

/** Server facts from the plugin's configuration. */
export interface ServerInfo {
  databaseTitle: string;
  serverVersion: string;
}

/** A table name a client may send and the server silently ignores (antique clients). */
export const IGNORED_TABLES: ReadonlySet<string> = new Set(['storedvars']);

/** An antique table the server ignores: the operation succeeds with this note and changes nothing. */
export interface IgnoredTable {
  readonly ignoredNote: string;
}

/** The context of one operation. */
export interface OperationContext {
  readonly params: URLSearchParams;
  readonly sql: SqlRunner;
  readonly tables: ClientTableRegistry;
  readonly clientVersion: CamcopsVersion;
  readonly clientVersionText: string;
  readonly deviceName: string;
  /** The registered device (set for upload operations). */
  device: Device | undefined;
  readonly user: UserIdentity | undefined;
  /** The user's upload group (organisation id). */
  readonly groupId: string | undefined;
  /** ISO time of the request. */
  readonly now: string;
  readonly server: ServerInfo;
  readonly audit: AuditLog;
  readonly address: string;
  /** Core services (users, organisations, ...). */
  readonly services: Services;
  /** Records one audit line per table of an upload. */
  auditUpload(changes: readonly TableChanges[], how: 'one-step' | 'stepwise'): Promise<void>;
}

/**
 * A parameter's value. As the reference's get_str_param, a blank value counts as missing.
 * @throws CamcopsUserError when mandatory and missing or blank.
 */
export function param(ctx: OperationContext, name: string): string;
export function param(ctx: OperationContext, name: string, mandatory: false): string | undefined;
export function param(ctx: OperationContext, name: string, mandatory = true): string | undefined {
  const value = ctx.params.get(name);
  if (value === null || value === '') {
    if (mandatory) failUser(`Must provide the variable: ${name}`);
    return undefined;
  }
  return value;
}

/** An integer parameter, read as the reference's get_int_var reads it (Python's int(): sign, surrounding whitespace, underscores between digits). */
export function intParam(ctx: OperationContext, name: string): number {
  const text = param(ctx, name).trim();
  const value = /^[+-]?\d+(?:_\d+)*$/.test(text) ? Number(text.replace(/_/g, '')) : Number.NaN;
  if (!Number.isSafeInteger(value)) failUser(`Variable ${name} is not a valid integer`);
  return value;
}

/**
 * Comma-separated literals from a parameter, decoded as the reference's
 * get_values_from_post_var does (never refused here; see sql-literal-codec.ts).
 */
export function literalsParam(ctx: OperationContext, name: string, mandatory = true): LiteralValue[] {
  const text = mandatory ? param(ctx, name) : param(ctx, name, false);
  if (text === undefined) return [];
  return decodeLiteralList(text);
}

/**
 * Comma-separated names (tables or fields), as the reference's get_tables_from_post_var and
 * get_fields_from_post_var split them: on every comma, each stripped.
 */
export function namesParam(ctx: OperationContext, name: string): string[] {
  return param(ctx, name).split(',').map((n) => n.trim());
}

/**
 * A client table the client may upload: it exists and the client's version is recent enough.
 * Callers leave out the ignored antique tables first (see requestedTable).
 * @throws CamcopsUserError otherwise.
 */
export function clientTable(ctx: OperationContext, name: string): ClientTableDefinition {
  const table = ctx.tables.get(name);
  if (!table) failUser(`Invalid client table name: ${name}`);
  if (compareVersions(ctx.clientVersion, table.minimumClientVersion) < 0) {
    failUser(`Client CamCOPS version ${formatVersion(ctx.clientVersion)} is less than the version (${formatVersion(table.minimumClientVersion)}) required to handle table ${table.name}`);
  }
  return table;
}

/**
 * The client table named by the `table` parameter, or, for an antique table, the note the
 * operation answers instead (success, as CamCOPS's server answers IgnoringAntiqueTableException).
 * @throws CamcopsUserError for unknown tables or too old a client.
 */
export function requestedTable(ctx: OperationContext): ClientTableDefinition | IgnoredTable {
  const name = param(ctx, 'table');
  return IGNORED_TABLES.has(name) ? { ignoredNote: `Ignoring table ${name}` } : clientTable(ctx, name);
}

/** The uploader of an upload operation (device and user are known by then). */
export function uploader(ctx: OperationContext): Uploader {
  return { deviceId: ctx.device!.id, userId: ctx.user!.id, groupId: ctx.groupId!, clientVersion: ctx.clientVersionText, now: ctx.now };
}

/** An operation: who may run it, and what it does (a string becomes `result`). */
export interface Operation {
  readonly access: 'anyone' | 'registration' | 'upload';
  run(ctx: OperationContext): Promise<ReplyItems | string | undefined>;
}
