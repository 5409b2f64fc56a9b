// The platform host: reads and validates platform.ini, loads plugins, connects the
// database, applies migrations, builds the container and registries, and stops cleanly.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Container } from 'inversify';
import type { Hono } from 'hono';
import { PlatformConfig, applyEnvOverrides, readIniFile, splitList, type RawSections } from '../config/platform-config.js';
import { coreConfigSchema } from '../config/core-config-schema.js';
import type { ConfigSectionSchema } from '../config/config-schema-types.js';
import { ensureSecretFiles, readSecretFile } from '../config/secret-files.js';
import { ConfigError, PluginError } from '../errors.js';
import { LoggerFactory, type LogLevel, type LogSink, type Logger } from '../logger.js';
import { loadPlugins, type LoadedPlugin } from '../plugins/plugin-loader.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import type { PluginContext } from '../plugins/plugin-context.js';
import { checkContribution, type Contribution, type HookId } from '../plugins/hook-id.js';
import { HookRegistries } from '../plugins/hook-registries.js';
import { Actions } from '../plugins/hooks/actions.js';
import { Commands } from '../plugins/hooks/commands.js';
import { Database } from '../db/database.js';
import { Migrator } from '../db/migrator.js';
import { coreMigrations } from '../db/migrations/core-migrations.js';
import { AuditLog } from '../audit/audit-log.js';
import { UserService } from '../auth/user-service.js';
import { PasswordHashPool } from '../auth/password-hash-pool.js';
import { PasswordLogin } from '../auth/password-login.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import { ApiTokenService } from '../auth/api-token-service.js';
import { OrganizationService } from '../auth/organization-service.js';
import { PermissionService } from '../auth/permission-service.js';
import { DatasetService } from '../datasets/dataset-service.js';
import { ActionRunner } from '../actions/action-runner.js';
import { ResourceIntake } from '../datasets/resource-intake.js';
import { ReadCache } from '../datasets/read-cache.js';
import { JobQueue } from '../jobs/job-queue.js';
import { JobSchedulerId, jobSchedulerOver } from '../jobs/job-scheduler.js';
import { JobWorker, type JobWorkerOptions } from '../jobs/job-worker.js';
import { ThreadPool } from '../jobs/thread-pool.js';
import { JsonSchemaValidator } from '../validation/json-schema-validator.js';
import { createApp, type AppDependencies } from '../http/create-app.js';
import { WebSessions } from '../web/web-sessions.js';
import { WebSecurity } from '../web/web-security.js';
import type { AppEnv } from '../http/app-env.js';
import type { Services } from '../services/services.js';
import * as ids from '../services/service-ids.js';
import { coreActions } from '../actions/core-actions.js';
import { coreCommands } from '../cli/commands/core-commands.js';
import type { InspectHostStarter } from '../cli/commands/inspect-command.js';
import { coreInspectChecks } from '../inspect/checks/core-inspect-checks.js';
import { InspectChecks } from '../plugins/hooks/inspect-checks.js';
import { JobHandlers } from '../plugins/hooks/job-handlers.js';
import { resourceInspectionJob } from '../jobs/resource-inspection-job.js';

/** How far to start the host. */
export type StartLevel = 'config' | 'database';

/** Options for starting a host. */
export interface HostOptions {
  /** Path of platform.ini. */
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** `config`: plugins and configuration only; `database`: also connect and migrate. */
  level?: StartLevel;
  /** `auto` applies pending migrations, `check` refuses to run with pending ones, `none` ignores them. */
  migrate?: 'auto' | 'check' | 'none';
  /** Plugin definitions supplied by code, by name (tests, embedding). */
  inlinePlugins?: ReadonlyMap<string, PluginDefinition>;
  logSink?: LogSink;
  logLevel?: LogLevel;
  /** Create a missing SQLite database file (default true; inspect, which writes nothing, refuses to). */
  createDatabase?: boolean;
  /** Create missing generated secrets (default true; inspect reports them instead). */
  createSecrets?: boolean;
}

/** A started host. */
export class PlatformHost {
  private stopped = false;

  private constructor(
    readonly config: PlatformConfig,
    readonly plugins: readonly LoadedPlugin[],
    readonly container: Container,
    readonly registries: HookRegistries,
    readonly services: Services,
    readonly loggers: LoggerFactory,
    readonly db: Database | undefined,
    readonly migrator: Migrator | undefined,
  ) {}

  /**
   * Starts a host.
   * @throws ConfigError listing every configuration problem; PluginError naming a failing plugin.
   */
  static async start(options: HostOptions): Promise<PlatformHost> {
    const env = options.env ?? process.env;
    // First pass: only to learn which plugins to load (their sections are not known yet).
    const firstPass: RawSections = readIniFile(options.configFile);
    applyEnvOverrides(firstPass, env, Object.keys(coreConfigSchema));
    const baseDir = dirname(options.configFile);
    const plugins = await loadPlugins(splitList(firstPass.platform?.plugins ?? ''), baseDir, options.inlinePlugins);
    const schemas: Record<string, ConfigSectionSchema> = { ...coreConfigSchema };
    for (const { definition } of plugins) {
      schemas[`plugin:${definition.name}`] = definition.config ?? { type: 'object', additionalProperties: false, properties: {} };
    }
    const problems: string[] = [];
    const raw: RawSections = readIniFile(options.configFile, problems);
    const envOrigins = new Map<string, string>();
    problems.push(...applyEnvOverrides(raw, env, Object.keys(schemas), envOrigins));
    const config = PlatformConfig.validate(raw, schemas, { file: options.configFile, baseDir, envOrigins }, problems);
    const loggers = new LoggerFactory(options.logLevel ?? (config.string('logging', 'level') as LogLevel), options.logSink);
    const logger = loggers.get('platform:host');

    if (options.createSecrets !== false) {
      const dataDir = config.path('platform', 'data_dir')!;
      for (const dir of [dataDir, join(dataDir, 'tmp'), join(dataDir, 'logs')]) mkdirSync(dir, { recursive: true, mode: 0o750 });
    }
    const created = options.createSecrets === false ? [] : ensureSecretFiles(config);
    for (const path of created) logger.info('created secret file', { file: path });

    let db: Database | undefined;
    if ((options.level ?? 'database') === 'database') {
      const password = config.path('db', 'password_file') ? readSecretFile(config.path('db', 'password_file')!, '[db] password_file') : undefined;
      db = await Database.connect(
        {
          url: config.string('db', 'url')!,
          baseDir,
          ...(config.string('db', 'schema') ? { schema: config.string('db', 'schema')! } : {}),
          ...(password ? { password } : {}),
          poolMax: config.section<{ pool_max: number }>('db').pool_max,
          logSql: config.section<{ log_sql: boolean }>('db').log_sql,
          mustExist: options.createDatabase === false,
        },
        loggers.get('platform:db'),
      );
    }

    const container = new Container({ defaultScope: 'Singleton' });
    const services: Services = { get: (id) => container.get(id) };
    let host: PlatformHost;
    try {
      host = await PlatformHost.assemble(config, plugins, container, services, loggers, db);
    } catch (error) {
      // A plugin failed to register or clashed: no host to stop, but the connection is open.
      await db?.close();
      throw error;
    }
    try {
      if (db && host.migrator) {
        const mode = options.migrate ?? (config.section<{ auto_migrate: boolean }>('db').auto_migrate ? 'auto' : 'check');
        if (mode === 'auto') {
          const applied = await host.migrator.up();
          for (const name of applied) logger.info('applied migration', { migration: name });
        } else if (mode === 'check') {
          const pending = await host.migrator.pending();
          if (pending.length) throw new ConfigError(`the database has ${pending.length} pending migration(s): ${pending.join(', ')}; run: platform db upgrade`);
        }
      }
      for (const { plugin, value } of host.registries.lifecycles) {
        try {
          await value.initialize?.(services);
        } catch (error) {
          throw new PluginError(plugin, `initialize failed: ${(error as Error).message}`, error);
        }
      }
    } catch (error) {
      await host.stop();
      throw error;
    }
    return host;
  }

  private static async assemble(config: PlatformConfig, plugins: readonly LoadedPlugin[], container: Container, services: Services, loggers: LoggerFactory, db: Database | undefined): Promise<PlatformHost> {
    const contribute = <T>(plugin: string) => (hook: HookId<T>, value: T): void => {
      checkContribution(plugin, hook, value);
      container.bind<Contribution<T>>(hook).toConstantValue({ plugin, value });
    };
    container.bind(ids.PlatformConfigId).toConstantValue(config);
    container.bind(ids.LoggerFactoryId).toConstantValue(loggers);
    container.bind(ids.LoadedPluginsId).toConstantValue(plugins);
    for (const action of coreActions(() => plugins.map((p) => p.definition.name))) contribute('core')(Actions, action);
    for (const command of coreCommands(startHostForInspect)) contribute('core')(Commands, command);
    for (const check of coreInspectChecks()) contribute('core')(InspectChecks, check);
    contribute('core')(JobHandlers, resourceInspectionJob);

    for (const { definition } of plugins) {
      const section = config.section(`plugin:${definition.name}`);
      const ctx: PluginContext = {
        name: definition.name,
        config: section,
        platformConfig: config,
        logger: loggers.get(`plugin:${definition.name}`),
        resolvePath: (value) => (isAbsolute(value) ? value : resolve(config.source.baseDir, value)),
        contribute: (hook, value) => contribute(definition.name)(hook, value),
        provide: (id, factory) => void container.bind(id).toDynamicValue(() => factory(services)).inSingletonScope(),
        services,
      };
      try {
        await definition.register(ctx);
      } catch (error) {
        // Core's own complaint about a contribution already names the plugin.
        if (error instanceof PluginError && error.plugin === definition.name) throw error;
        throw new PluginError(definition.name, `register failed: ${(error as Error).message}`, error);
      }
    }
    const registries = new HookRegistries(container);
    container.bind(ids.HookRegistriesId).toConstantValue(registries);
    const migrator = db
      ? new Migrator(db, [{ owner: 'core', migrations: coreMigrations }, ...registries.migrations.map((c) => ({ owner: c.plugin, migrations: c.value.migrations }))])
      : undefined;
    if (db && migrator) {
      container.bind(ids.MigratorId).toConstantValue(migrator);
      bindDatabaseServices(container, config, db, registries, services, loggers);
    }
    const host = new PlatformHost(config, plugins, container, registries, services, loggers, db, migrator);
    container.bind(ids.HostRuntimeId).toConstantValue(host);
    return host;
  }

  /** The HTTP app (requires the database). */
  app(): Hono<AppEnv> {
    if (!this.db) throw new ConfigError('the HTTP app needs the database; start the host with level "database"');
    const http = this.config.section<{ max_body_bytes: number; trust_proxy: boolean; x_accel_redirect: string }>('http');
    return createApp({
      services: this.services,
      registries: this.registries,
      actions: this.services.get(ids.ActionRunnerId),
      tokens: this.services.get(ids.ApiTokenServiceId),
      login: this.services.get(ids.PasswordLoginId),
      logger: this.loggers.get('platform:http'),
      maxBodyBytes: http.max_body_bytes,
      maxUploadBytes: this.config.section<{ max_size: number }>('upload').max_size,
      trustProxy: http.trust_proxy,
      ...(http.x_accel_redirect ? { accel: { prefix: http.x_accel_redirect, root: this.config.path('http', 'x_accel_root')! } } : {}),
      siteUrl: this.config.string('platform', 'site_url') ?? '',
      web: this.webFront(http.trust_proxy),
    });
  }

  /** The web pages' sessions and CSRF protection, from `[web]` and the site's secret key. */
  private webFront(trustProxy: boolean): NonNullable<AppDependencies['web']> {
    const web = this.config.section<{ session_hours: number; upload_chunk_kb: number; facets: string }>('web');
    const secretKey = readSecretFile(this.config.path('platform', 'secret_key_file')!, '[platform] secret_key_file');
    const siteUrl = this.config.string('platform', 'site_url') ?? '';
    return {
      sessions: new WebSessions(this.db!, web.session_hours * 3_600_000),
      security: new WebSecurity({ secretKey, trustProxy, siteUrl }),
      siteTitle: this.config.string('platform', 'site_title') ?? 'Data platform',
      uploadChunkBytes: web.upload_chunk_kb * 1024,
      facets: web.facets,
      serverCertificate: () => {
        const path = this.config.path('inspect', 'tls_certificate');
        return path ? readFileSync(path, 'utf8') : undefined;
      },
    };
  }

  /** A logger for a module. */
  logger(name: string): Logger {
    return this.loggers.get(name);
  }

  /** A job worker configured from `[jobs]`, with `overrides` (not started). */
  jobWorker(overrides: Partial<JobWorkerOptions> = {}): JobWorker {
    const jobs = this.config.section<{ concurrency: number; lease_seconds: number; poll_ms: number; timeout_seconds: number }>('jobs');
    return new JobWorker(this.services.get(ids.JobQueueId), this.registries, this.services, this.services.get(ids.DatabaseId), this.services.get(ids.ThreadPoolId), this.loggers.get('platform:jobs'), {
      concurrency: jobs.concurrency,
      leaseMs: jobs.lease_seconds * 1000,
      pollMs: jobs.poll_ms,
      defaultTimeoutMs: jobs.timeout_seconds * 1000,
      ...overrides,
    });
  }

  /** Calls every plugin's onStart, in plugin order. */
  async startPlugins(): Promise<void> {
    for (const { plugin, value } of this.registries.lifecycles) {
      try {
        await value.onStart?.(this.services);
      } catch (error) {
        throw new PluginError(plugin, `onStart failed: ${(error as Error).message}`, error);
      }
    }
  }

  /** Stops plugins in reverse order, undoes registrations and closes the database. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const logger = this.loggers.get('platform:host');
    for (const { plugin, value } of [...this.registries.lifecycles].reverse()) {
      try {
        await value.onStop?.();
      } catch (error) {
        logger.error('plugin onStop failed', { plugin, error: (error as Error).message });
      }
    }
    this.registries.dispose();
    if (this.db) await this.services.get(ids.ReadCacheId).close();
    if (this.db) await this.services.get(ids.ThreadPoolId).shutdown();
    if (this.db) await this.services.get(ids.PasswordHasherId).close?.();
    await this.db?.close();
  }
}

function bindDatabaseServices(container: Container, config: PlatformConfig, db: Database, registries: HookRegistries, services: Services, loggers: LoggerFactory): void {
  const auth = config.section<{
    max_failed_logins: number; lockout_minutes: number; min_password_length: number;
    login_failures_per_address: number; login_failures_per_name: number; login_window_seconds: number;
    hash_threads: number; hash_queue: number; hash_nice: number;
  }>('auth');
  const secretKeyFile = config.path('platform', 'secret_key_file')!;
  container.bind(ids.DatabaseId).toConstantValue(db);
  container.bind(ids.AuditLogId).toDynamicValue(() => new AuditLog(db));
  container.bind(ids.PasswordHasherId).toConstantValue(new PasswordHashPool({ threads: auth.hash_threads, maxQueued: auth.hash_queue, nice: auth.hash_nice }));
  container.bind(ids.UserServiceId).toDynamicValue((ctx) => new UserService(db, { maxFailedLogins: auth.max_failed_logins, lockoutMinutes: auth.lockout_minutes, minPasswordLength: auth.min_password_length }, ctx.get(ids.PasswordHasherId)));
  const limits = { perAddress: auth.login_failures_per_address, perName: auth.login_failures_per_name, windowSeconds: auth.login_window_seconds };
  container.bind(ids.PasswordLoginId).toDynamicValue((ctx) => new PasswordLogin(ctx.get(ids.UserServiceId), new LoginLimiter(limits), ctx.get(ids.AuditLogId), ctx.get(ids.PasswordHasherId)));
  container.bind(ids.ApiTokenServiceId).toDynamicValue(() => new ApiTokenService(db, readSecretFile(secretKeyFile, '[platform] secret_key_file')));
  container.bind(ids.OrganizationServiceId).toDynamicValue(() => new OrganizationService(db));
  container.bind(ids.PermissionServiceId).toDynamicValue((ctx) => new PermissionService(ctx.get(ids.OrganizationServiceId), registries.authPolicies));
  const jobs = config.section<{ max_attempts: number; pool_size: number; thread_memory_mb: number }>('jobs');
  container.bind(ids.JobQueueId).toDynamicValue(() => new JobQueue(db, { maxAttempts: jobs.max_attempts, maxAttemptsOf: (type) => registries.jobHandlers.get(type)?.maxAttempts }));
  container.bind(JobSchedulerId).toDynamicValue((ctx) => jobSchedulerOver(ctx.get(ids.JobQueueId)));
  container.bind(ids.ThreadPoolId).toDynamicValue(() => new ThreadPool({ size: jobs.pool_size, memoryLimitMb: jobs.thread_memory_mb }, loggers.get('platform:threads')));
  const readCacheMb = config.section<{ read_cache_mb: number }>('http').read_cache_mb;
  container.bind(ids.ReadCacheId).toDynamicValue(() => new ReadCache(db, loggers.get('platform:cache'), { maxBytes: readCacheMb * 1024 * 1024 }));
  container.bind(ids.DatasetServiceId).toDynamicValue((ctx) => new DatasetService(db, ctx.get(ids.OrganizationServiceId), ctx.get(ids.PermissionServiceId), ctx.get(ids.AuditLogId), registries.schemas, ctx.get(ids.ReadCacheId), config.string('platform', 'site_url') ?? ''));
  container.bind(ids.ResourceIntakeId).toDynamicValue((ctx) => new ResourceIntake(registries, config.string('depot', 'active') ?? 'fs', ctx.get(ids.DatasetServiceId), ctx.get(ids.ActionRunnerId), ctx.get(ids.JobQueueId)));
  container.bind(ids.ActionRunnerId).toDynamicValue(() => new ActionRunner(registries, db, services, new JsonSchemaValidator(), loggers.get('platform:actions'), (actor, action) => services.get(ids.PermissionServiceId).requireBeforeInput(actor, action)));
}

/** Starts a host as `platform inspect` examines it: on the database, without migrating or creating secrets. */
export const startHostForInspect: InspectHostStarter = (options) =>
  PlatformHost.start({ ...options, level: 'database', migrate: 'none', logLevel: 'error', createSecrets: false, createDatabase: false });
