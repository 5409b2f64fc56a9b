// The one catalogue of coded errors. Every error a user may see is a PlatformError with a
// code, an HTTP status and a CKAN error type; the HTTP layer and the CLI map them, and
// anything that is not a PlatformError is treated as an internal failure that reveals nothing.

/** CKAN's error types, as they appear in `error.__type` of an action response. */
export type CkanErrorType =
  | 'Validation Error'
  | 'Authorization Error'
  | 'Not Found Error'
  | 'Conflict Error'
  | 'Request Entity Too Large'
  | 'Internal Server Error'
  | 'Service Unavailable'
  | 'Too Many Requests';

/** Field-level messages: `{ name: ['must be a slug'] }`. */
export type FieldErrors = Record<string, string[]>;

/**
 * An empty FieldErrors without a prototype: a field named `toString` or `constructor` (from
 * hostile input) must find no inherited value where its messages go.
 */
export function fieldErrors(): FieldErrors {
  return Object.create(null) as FieldErrors;
}

/** Adds a message for a field. */
export function addFieldError(fields: FieldErrors, field: string, message: string): void {
  (Object.hasOwn(fields, field) ? fields[field]! : (fields[field] = [])).push(message);
}

/**
 * Statuses the tus protocol answers with (RFC 9110's, plus tus's own 460 Checksum Mismatch);
 * each becomes the code `TUS_<status>`.
 */
export type TusStatus = 400 | 404 | 409 | 410 | 412 | 413 | 415 | 423 | 460 | 500 | 507;

/**
 * Every code the platform answers with: the catalogue is closed, so a client can key on a
 * code knowing the list is complete.
 */
export type ErrorCode =
  | 'PLATFORM_ERR_VALIDATION'
  | 'PLATFORM_ERR_AUTHORIZATION'
  | 'PLATFORM_ERR_AUTHENTICATION'
  | 'PLATFORM_ERR_NOT_FOUND'
  | 'PLATFORM_ERR_CONFLICT'
  | 'PLATFORM_ERR_TOO_LARGE'
  | 'PLATFORM_ERR_MEDIA_TYPE'
  | 'PLATFORM_ERR_STORAGE_FULL'
  | 'PLATFORM_ERR_TOO_MANY_REQUESTS'
  | 'PLATFORM_ERR_BUSY'
  | 'PLATFORM_ERR_VETO'
  | 'PLATFORM_ERR_CONFIG'
  | 'PLATFORM_ERR_PLUGIN'
  | 'PLATFORM_ERR_USAGE'
  | 'PLATFORM_ERR_SERVER'
  | 'PLATFORM_ERR_TLS'
  | `TUS_${TusStatus}`;

export interface PlatformErrorOptions {
  fields?: FieldErrors;
  cause?: unknown;
}

/** Base of every error the platform raises on purpose. */
export class PlatformError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly ckanType: CkanErrorType;
  readonly fields: FieldErrors;

  constructor(code: ErrorCode, status: number, ckanType: CkanErrorType, message: string, options: PlatformErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlatformError';
    this.code = code;
    this.status = status;
    this.ckanType = ckanType;
    this.fields = options.fields ?? {};
  }
}

/** Input failed validation; `fields` holds every problem at once. */
export class ValidationError extends PlatformError {
  constructor(message: string, fields: FieldErrors = {}) {
    super('PLATFORM_ERR_VALIDATION', 400, 'Validation Error', message, { fields });
  }
}

/** The caller may not do this (or is not authenticated). */
export class AuthorizationError extends PlatformError {
  constructor(message: string) {
    super('PLATFORM_ERR_AUTHORIZATION', 403, 'Authorization Error', message);
  }
}

/** The caller could not be authenticated at all (bad, revoked or expired credentials). */
export class AuthenticationError extends PlatformError {
  constructor(message: string) {
    super('PLATFORM_ERR_AUTHENTICATION', 403, 'Authorization Error', message);
  }
}

/** A login refused because the account is locked. */
export class AccountLockedError extends AuthenticationError {
  readonly userId: string;
  readonly userName: string;
  constructor(
    user: { readonly id: string; readonly name: string },
    /** When the lock ends. */
    readonly until: Date,
    /** True for the failed attempt that locked the account (audit it once). */
    readonly lockedNow: boolean,
    message: string,
  ) {
    super(message);
    this.userId = user.id;
    this.userName = user.name;
  }
}

/** A named thing does not exist (or is not visible to the caller). */
export class NotFoundError extends PlatformError {
  constructor(message: string) {
    super('PLATFORM_ERR_NOT_FOUND', 404, 'Not Found Error', message);
  }
}

/** An unknown action; carries the close names for the 404 answer. */
export class UnknownActionError extends NotFoundError {
  constructor(
    readonly action: string,
    readonly suggestions: string[],
  ) {
    super(`action "${action}" not found${suggestions.length ? `; did you mean ${suggestions.map((s) => `"${s}"`).join(' or ')}?` : ''}`);
  }
}

/** The change conflicts with what exists, e.g. a duplicate name. */
export class ConflictError extends PlatformError {
  constructor(message: string, fields: FieldErrors = {}) {
    super('PLATFORM_ERR_CONFLICT', 409, 'Validation Error', message, { fields });
  }
}

/** The request body is larger than the configured limit. */
export class PayloadTooLargeError extends PlatformError {
  constructor(limitBytes: number) {
    super('PLATFORM_ERR_TOO_LARGE', 413, 'Request Entity Too Large', `request body exceeds the limit of ${limitBytes} bytes`);
  }
}

/** The request body is not of a type this endpoint reads (e.g. text/plain sent to a JSON action). */
export class UnsupportedMediaTypeError extends PlatformError {
  constructor(message: string) {
    super('PLATFORM_ERR_MEDIA_TYPE', 415, 'Validation Error', message);
  }
}

/** Storage has no room left (disk full or quota): nothing half-written was kept; retry once space is freed. */
export class StorageFullError extends PlatformError {
  constructor(message: string, options: PlatformErrorOptions = {}) {
    super('PLATFORM_ERR_STORAGE_FULL', 507, 'Service Unavailable', message, options);
  }
}

/** Too many attempts (e.g. failed sign-ins) from this address or for this name; `retryAfterSeconds` says when to try again. */
export class TooManyRequestsError extends PlatformError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('PLATFORM_ERR_TOO_MANY_REQUESTS', 429, 'Too Many Requests', message);
  }
}

/** The server is busy with this kind of work (e.g. its password-hashing queue is full); retry after `retryAfterSeconds`. */
export class ServiceBusyError extends PlatformError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('PLATFORM_ERR_BUSY', 503, 'Service Unavailable', message);
  }
}

/** Seconds a client should wait before retrying, for errors that say so. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof TooManyRequestsError || error instanceof ServiceBusyError ? error.retryAfterSeconds : undefined;
}

/** A plugin or hook vetoed an operation inside its transaction. */
export class VetoError extends PlatformError {
  constructor(message: string, fields: FieldErrors = {}) {
    super('PLATFORM_ERR_VETO', 400, 'Validation Error', message, { fields });
  }
}

/** Configuration is invalid; `problems` lists every one with file, section and key. */
export class ConfigError extends PlatformError {
  readonly problems: string[];
  constructor(message: string, problems: string[] = []) {
    super('PLATFORM_ERR_CONFIG', 500, 'Internal Server Error', problems.length ? `${message}\n  ${problems.join('\n  ')}` : message);
    this.problems = problems;
  }
}

/** A plugin failed to load, register or start; the message names the plugin. */
export class PluginError extends PlatformError {
  readonly plugin: string;
  constructor(plugin: string, message: string, cause?: unknown) {
    super('PLATFORM_ERR_PLUGIN', 500, 'Internal Server Error', `plugin "${plugin}": ${message}`, { cause });
    this.plugin = plugin;
  }
}

/** Wrong use of a CLI command. */
export class UsageError extends PlatformError {
  constructor(message: string) {
    super('PLATFORM_ERR_USAGE', 400, 'Validation Error', message);
  }
}

/** A tus protocol answer with a status of its own; the code is `TUS_<status>`. */
export class TusError extends PlatformError {
  constructor(status: TusStatus, message: string) {
    super(`TUS_${status}`, status, status === 404 ? 'Not Found Error' : 'Validation Error', message);
  }
}

/** True when the value is one of ours. */
export function isPlatformError(value: unknown): value is PlatformError {
  return value instanceof PlatformError;
}

/** A human message for any thrown value, without stack traces. */
export function describeError(value: unknown): string {
  if (value instanceof Error) {
    const cause = value.cause instanceof Error && !(value instanceof PlatformError && value.message.includes(value.cause.message)) ? `: ${value.cause.message}` : '';
    return `${value.message}${cause}`;
  }
  return String(value);
}
