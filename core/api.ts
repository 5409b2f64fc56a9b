// The one stable surface for plugins: hook interfaces, services plugins may use, error
// types and definePlugin. Plugins import only from here; core itself never does.
export { definePlugin, type PluginDefinition, type ConfigOf } from './plugins/define-plugin.js';
export type { PluginContext, PluginConfigValues } from './plugins/plugin-context.js';
// Every hook identifier is `Symbol.for('platform.hook.<Name>')` for a name in HOOK_NAMES, and
// every service identifier `Symbol.for('platform.<Service>')`: a plain JavaScript package can
// write those symbols itself instead of importing this module.
export { hookId, HOOK_NAMES, type HookName, type HookId, type Contribution, type Disposable } from './plugins/hook-id.js';
export type { ConfigSectionSchema, ConfigPropertySchema } from './config/config-schema-types.js';

export { Depot, type StoredObject, type ByteRange, type DepotEntry, type PartialUploads, type PartialEntry } from './plugins/hooks/depot.js';
export { UploadProtocol } from './plugins/hooks/upload-protocol.js';
export { Schema, type ResourceInspection, type DatasetValidationInput, type StoredFile } from './plugins/hooks/schema.js';
export { Anonymiser, type RecordSource, type RecordDestination, type FileRecordSource, type FileRecordDestination, type AnonymisationResult } from './plugins/hooks/anonymiser.js';
export { Distribution, type Delivery, type DeliveryState } from './plugins/hooks/distribution.js';
export { FileCheck, type CheckedFile, type FileCheckResult } from './plugins/hooks/file-check.js';
export { Actions, type ActionDefinition, type ActionContext } from './plugins/hooks/actions.js';
export { Routes, type RouteContribution } from './plugins/hooks/routes.js';
export { WebPages, DatasetSections, type WebPage, type DatasetSection, type DatasetSectionInput, type WebKit, type PageOptions } from './plugins/hooks/web-pages.js';
export { Commands, type CommandDefinition, type CommandContext, type CommandArgs, type CommandOption } from './plugins/hooks/commands.js';
export { JobHandlers, type JobHandler, type JobContext, type CpuJobModule, type CpuJobFunction, type ThreadJobContext } from './plugins/hooks/job-handlers.js';
export { InspectChecks, type InspectCheck, type InspectContext, type InspectFinding, type FindingSeverity, type Repair } from './plugins/hooks/inspect-checks.js';
export { AuthPolicy, type AuthRequest } from './plugins/hooks/auth-policy.js';
export { Migrations, type Migration, type MigrationSet, type MigrationContext } from './plugins/hooks/migrations.js';
export { Lifecycle, EventObserver, type PluginLifecycle, type PlatformEvents, type PlatformEventName, type EventHandlers } from './plugins/hooks/lifecycle.js';

export type { AppEnv, AppVariables } from './http/app-env.js';
export type { Services } from './services/services.js';
export type { Actor, UserIdentity } from './auth/actor.js';
export type { DatasetRecord, ResourceRecord, DatasetState, ResourceState } from './datasets/dataset-types.js';
export type { Logger } from './logger.js';
export type { Database } from './db/database.js';
export { splitList, type PlatformConfig } from './config/platform-config.js';
// The error catalogue: every error a user may see, with its code, status and CKAN type.
export {
  PlatformError, ValidationError, AuthorizationError, AuthenticationError, AccountLockedError, NotFoundError, UnknownActionError, ConflictError,
  PayloadTooLargeError, StorageFullError, TooManyRequestsError, ServiceBusyError, VetoError, ConfigError, PluginError, UsageError, TusError,
  fieldErrors, addFieldError, isPlatformError, describeError,
  type ErrorCode, type TusStatus, type CkanErrorType, type FieldErrors, type PlatformErrorOptions,
} from './errors.js';
// Core services a plugin may look up with `services.get(Id)`.
export {
  DatabaseId, AuditLogId, PlatformConfigId, UserServiceId, OrganizationServiceId, PermissionServiceId, DatasetServiceId, ActionRunnerId, ResourceIntakeId, ThreadPoolId, PasswordLoginId,
} from './services/service-ids.js';
// Which contributions exist (read-only: a plugin adds only its own, through ctx.contribute).
export { HookRegistryViewsId as HookRegistriesId, type HookRegistryViews, type RegistryView } from './plugins/hook-registry-views.js';
export type { ResourceIntake, IntakeCall } from './datasets/resource-intake.js';
// Putting work on the job queue; the workers' lease protocol is not part of the door.
export { JobSchedulerId, type JobScheduler } from './jobs/job-scheduler.js';
export type { Job, JobState, EnqueueOptions, JobSpec } from './jobs/job-types.js';
export { ThreadError, type ThreadPool, type ThreadTask, type ThreadErrorCode } from './jobs/thread-pool.js';
// Work on untrusted files in a process that can read only its own code and the one file.
export { runContained, ContainedProcessError, type ContainedTask, type ContainedFailure } from './jobs/contained-process.js';
export { directoryFindings } from './inspect/checks/directory-findings.js';
export { contentDisposition } from './http/content-disposition.js';
// The rules for names that become file names (resource names, names written under a folder).
export { fileNameProblem, safeFileName } from './util/file-names.js';
// Serving a file with byte ranges, as core's dataset downloads do.
export { parseRange, requestedRange, sendByteRange, type ByteRangeBody } from './http/byte-ranges.js';
export { forEachLimited } from './util/for-each-limited.js';
// Plain command output and options, as core's own commands print and read them.
export { printTable, stringOption } from './cli/commands/command-support.js';
// Reading a `.dcor-access` token (an encrypted zip of an API key and a server certificate).
export { readAccessTokenFile, type AccessTokenContents } from './auth/access-token-file.js';
