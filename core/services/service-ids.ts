// Identifiers of the core services that plugins, actions and commands may look up.
import type { ServiceIdentifier } from 'inversify';
import type { Database } from '../db/database.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { PlatformConfig } from '../config/platform-config.js';
import type { LoggerFactory } from '../logger.js';
import type { UserService } from '../auth/user-service.js';
import type { ApiTokenService } from '../auth/api-token-service.js';
import type { PasswordHasher } from '../auth/password-hash-pool.js';
import type { PasswordLogin } from '../auth/password-login.js';
import type { OrganizationService } from '../auth/organization-service.js';
import type { PermissionService } from '../auth/permission-service.js';
import type { DatasetService } from '../datasets/dataset-service.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { ActionRunner } from '../actions/action-runner.js';
import type { Migrator } from '../db/migrator.js';
import type { ResourceIntake } from '../datasets/resource-intake.js';
import type { ReadCache } from '../datasets/read-cache.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { ThreadPool } from '../jobs/thread-pool.js';
import type { LoadedPlugin } from '../plugins/plugin-loader.js';
import type { Hono } from 'hono';
import type { AppEnv } from '../http/app-env.js';

/** What commands such as `serve` need from the host that runs them. */
export interface HostRuntime {
  /** The HTTP app. */
  app(): Hono<AppEnv>;
  /** Calls every plugin's onStart. */
  startPlugins(): Promise<void>;
  /** A job worker configured from `[jobs]` (with `overrides`), not yet started. */
  jobWorker(overrides?: Partial<import('../jobs/job-worker.js').JobWorkerOptions>): import('../jobs/job-worker.js').JobWorker;
}

export const DatabaseId: ServiceIdentifier<Database> = Symbol.for('platform.Database');
export const AuditLogId: ServiceIdentifier<AuditLog> = Symbol.for('platform.AuditLog');
export const PlatformConfigId: ServiceIdentifier<PlatformConfig> = Symbol.for('platform.PlatformConfig');
export const LoggerFactoryId: ServiceIdentifier<LoggerFactory> = Symbol.for('platform.LoggerFactory');
export const UserServiceId: ServiceIdentifier<UserService> = Symbol.for('platform.UserService');
export const ApiTokenServiceId: ServiceIdentifier<ApiTokenService> = Symbol.for('platform.ApiTokenService');
export const OrganizationServiceId: ServiceIdentifier<OrganizationService> = Symbol.for('platform.OrganizationService');
export const PermissionServiceId: ServiceIdentifier<PermissionService> = Symbol.for('platform.PermissionService');
export const DatasetServiceId: ServiceIdentifier<DatasetService> = Symbol.for('platform.DatasetService');
export const HookRegistriesId: ServiceIdentifier<HookRegistries> = Symbol.for('platform.HookRegistries');
export const ActionRunnerId: ServiceIdentifier<ActionRunner> = Symbol.for('platform.ActionRunner');
export const MigratorId: ServiceIdentifier<Migrator> = Symbol.for('platform.Migrator');
export const LoadedPluginsId: ServiceIdentifier<readonly LoadedPlugin[]> = Symbol.for('platform.LoadedPlugins');
export const HostRuntimeId: ServiceIdentifier<HostRuntime> = Symbol.for('platform.HostRuntime');
export const ResourceIntakeId: ServiceIdentifier<ResourceIntake> = Symbol.for('platform.ResourceIntake');
export const ReadCacheId: ServiceIdentifier<ReadCache> = Symbol.for('platform.ReadCache');
export const JobQueueId: ServiceIdentifier<JobQueue> = Symbol.for('platform.JobQueue');
/** The process's thread pool for CPU-heavy work (`[jobs] pool_size` threads). */
export const ThreadPoolId: ServiceIdentifier<ThreadPool> = Symbol.for('platform.ThreadPool');
/** Password hashing on threads of its own (`[auth] hash_threads`), never libuv's shared pool. */
export const PasswordHasherId: ServiceIdentifier<PasswordHasher> = Symbol.for('platform.PasswordHasher');
/** Sign-in with name and password, rate-limited, for every login path (Basic, forms, tablets). */
export const PasswordLoginId: ServiceIdentifier<PasswordLogin> = Symbol.for('platform.PasswordLogin');
