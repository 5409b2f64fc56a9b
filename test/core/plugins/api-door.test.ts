// The door is pinned: every name core/api.ts exports (values and types) is listed here, so a
// change to what plugins may use is a deliberate, reviewed diff of this list; docs/plugins.md
// lists exactly the same names. The names are read from the source with TypeScript's parser
// (types leave no trace at run time), and an `export *` is refused, since it would let a
// module's every future export through unseen.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import * as api from '../../../core/api.js';

const root = new URL('../../../../', import.meta.url);

/** The pinned surface, sorted. */
const PINNED = [
  'AccessTokenContents', 'AccountLockedError', 'ActionContext', 'ActionDefinition', 'ActionRunnerId', 'Actions', 'Actor', 'AnonymisationResult',
  'Anonymiser', 'AppEnv', 'AppVariables', 'AuditLogId', 'AuthPolicy', 'AuthRequest', 'AuthenticationError', 'AuthorizationError',
  'ByteRange', 'ByteRangeBody', 'CheckedFile', 'CkanErrorType', 'CommandArgs', 'CommandContext', 'CommandDefinition', 'CommandOption',
  'Commands', 'ConfigError', 'ConfigOf', 'ConfigPropertySchema', 'ConfigSectionSchema', 'ConflictError', 'ContainedFailure', 'ContainedProcessError',
  'ContainedTask', 'Contribution', 'CpuJobFunction', 'CpuJobModule', 'Database', 'DatabaseId', 'DatasetRecord', 'DatasetSection',
  'DatasetSectionInput', 'DatasetSections', 'DatasetServiceId', 'DatasetState', 'DatasetValidationInput', 'Delivery', 'DeliveryState', 'Depot',
  'DepotEntry', 'Disposable', 'Distribution', 'EnqueueOptions', 'ErrorCode', 'EventHandlers', 'EventObserver', 'FieldErrors',
  'FileCheck', 'FileCheckResult', 'FileRecordDestination', 'FileRecordSource', 'FindingSeverity', 'HOOK_NAMES', 'HookId', 'HookName',
  'HookRegistriesId', 'HookRegistryViews', 'InspectCheck', 'InspectChecks', 'InspectContext', 'InspectFinding', 'IntakeCall', 'Job',
  'JobContext', 'JobHandler', 'JobHandlers', 'JobScheduler', 'JobSchedulerId', 'JobSpec',
  'JobState', 'Lifecycle', 'Logger', 'Migration', 'MigrationContext', 'MigrationSet', 'Migrations', 'NotFoundError',
  'OrganizationServiceId', 'PageOptions', 'PartialEntry', 'PartialUploads', 'PasswordLoginId', 'PayloadTooLargeError', 'PermissionServiceId', 'PlatformConfig',
  'PlatformConfigId', 'PlatformError', 'PlatformErrorOptions', 'PlatformEventName', 'PlatformEvents', 'PluginConfigValues', 'PluginContext', 'PluginDefinition',
  'PluginError', 'PluginLifecycle', 'RecordDestination', 'RecordSource', 'RegistryView', 'Repair', 'ResourceInspection', 'ResourceIntake',
  'ResourceIntakeId', 'ResourceRecord', 'ResourceState', 'RouteContribution', 'Routes', 'Schema', 'ServiceBusyError', 'Services',
  'StorageFullError', 'StoredFile', 'StoredObject', 'ThreadError', 'ThreadErrorCode', 'ThreadJobContext', 'ThreadPool', 'ThreadPoolId',
  'ThreadTask', 'TooManyRequestsError', 'TusError', 'TusStatus', 'UnknownActionError', 'UploadProtocol', 'UsageError', 'UserIdentity',
  'UserServiceId', 'ValidationError', 'VetoError', 'WebKit', 'WebPage', 'WebPages', 'addFieldError', 'contentDisposition',
  'definePlugin', 'describeError', 'directoryFindings', 'fieldErrors', 'fileNameProblem', 'forEachLimited', 'hookId', 'isPlatformError', 'parseRange',
  'printTable', 'readAccessTokenFile', 'requestedRange', 'runContained', 'safeFileName', 'sendByteRange', 'splitList', 'stringOption',
];

/** Every name an `export ... from` or `export { ... }` of the source declares. */
function exportedNames(source: string): { names: string[]; star: number } {
  const file = ts.createSourceFile('api.ts', source, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  let star = 0;
  for (const statement of file.statements) {
    if (!ts.isExportDeclaration(statement)) continue;
    const clause = statement.exportClause;
    if (!clause || !ts.isNamedExports(clause)) star++;
    else for (const element of clause.elements) names.push(element.name.text);
  }
  return { names: names.sort(), star };
}

/** The backticked names of the "## The door" section of docs/plugins.md. */
function documentedNames(): string[] {
  const doc = readFileSync(new URL('docs/plugins.md', root), 'utf8');
  const section = /\n## The door[^\n]*\n([\s\S]*?)(?=\n## )/.exec(doc);
  assert.ok(section, 'docs/plugins.md has a section "## The door"');
  const list = section[1]!.split('\n').filter((line) => line.startsWith('- '));
  return list.flatMap((line) => [...line.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)`/g)].map((m) => m[1]!)).sort();
}

describe('the door (core/api.ts)', () => {
  const { names, star } = exportedNames(readFileSync(new URL('core/api.ts', root), 'utf8'));

  it('exports exactly the pinned names, with no export *', () => {
    assert.equal(star, 0, 'core/api.ts has no `export *`');
    assert.deepEqual(names, PINNED);
  });

  it('has a run-time value for every pinned value name, and no value beyond the list', () => {
    for (const name of Object.keys(api)) assert.ok(PINNED.includes(name), name);
  });

  it('is listed in docs/plugins.md, name for name', () => {
    assert.deepEqual(documentedNames(), PINNED);
  });

  it('keeps host internals out', () => {
    for (const name of ['HostRuntimeId', 'LoadedPluginsId', 'MigratorId', 'ReadCacheId', 'LoggerFactoryId', 'PasswordHasherId', 'ApiTokenServiceId', 'JobFilter']) assert.ok(!names.includes(name), name);
  });
});
