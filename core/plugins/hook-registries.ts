// Registries that collect every hook's contributions (core's and the plugins'), keyed by
// name where the hook is a registry, in plugin order where it is a filter or observer.
import type { Container } from 'inversify';
import { PluginError } from '../errors.js';
import type { Contribution, Disposable, HookId } from './hook-id.js';
import type { HookRegistryViews } from './hook-registry-views.js';
import { Actions, type ActionDefinition } from './hooks/actions.js';
import { Commands, type CommandDefinition } from './hooks/commands.js';
import { Routes, type RouteContribution } from './hooks/routes.js';
import { UploadProtocol } from './hooks/upload-protocol.js';
import { Depot } from './hooks/depot.js';
import { Schema } from './hooks/schema.js';
import { Anonymiser } from './hooks/anonymiser.js';
import { Distribution } from './hooks/distribution.js';
import { FileCheck } from './hooks/file-check.js';
import { JobHandlers, type JobHandler } from './hooks/job-handlers.js';
import { InspectChecks, type InspectCheck } from './hooks/inspect-checks.js';
import { AuthPolicy } from './hooks/auth-policy.js';
import { Migrations, type MigrationSet } from './hooks/migrations.js';
import { EventObserver, Lifecycle, type PluginLifecycle } from './hooks/lifecycle.js';
import { DatasetSections, WebPages, type DatasetSection, type WebPage } from './hooks/web-pages.js';

/** Paths of core's own pages, which a WebPage may not take. */
const CORE_PAGE_PATHS = /^\/(api|upload|assets|dataset|user|account|admin|search)(\/|$)/;

/** Contributions keyed by a name; a second contribution under a taken name is an error naming both plugins. */
export class NamedRegistry<T> {
  private readonly entries = new Map<string, Contribution<T>>();

  constructor(private readonly what: string) {}

  /** Adds a contribution. @throws PluginError when the name is missing or taken. */
  register(key: unknown, contribution: Contribution<T>): Disposable {
    if (typeof key !== 'string' || key.trim() === '') throw new PluginError(contribution.plugin, `contributes a ${this.what} without a name (got ${key === '' ? 'an empty string' : String(key)}); every ${this.what} needs one`);
    const existing = this.entries.get(key);
    if (existing) {
      throw new PluginError(contribution.plugin, `${this.what} "${key}" is already contributed by ${existing.plugin === 'core' ? 'core' : `plugin "${existing.plugin}"`}`);
    }
    this.entries.set(key, contribution);
    return { dispose: () => void (this.entries.get(key) === contribution && this.entries.delete(key)) };
  }

  /** Replaces an existing entry with a wrapper of it (explicit chaining); undone by dispose. */
  wrap(key: string, contribution: Contribution<T>): Disposable {
    const previous = this.entries.get(key);
    if (!previous) throw new PluginError(contribution.plugin, `${this.what} "${key}" cannot be wrapped: nothing of that name exists`);
    this.entries.set(key, contribution);
    return { dispose: () => void (this.entries.get(key) === contribution && this.entries.set(key, previous)) };
  }

  get(key: string): T | undefined {
    return this.entries.get(key)?.value;
  }

  /** The contribution with the plugin that made it. */
  entry(key: string): Contribution<T> | undefined {
    return this.entries.get(key);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  values(): T[] {
    return [...this.entries.values()].map((c) => c.value);
  }

  contributions(): Contribution<T>[] {
    return [...this.entries.values()];
  }
}

/** Every hook's contributions, built once from the container after all plugins registered. */
export class HookRegistries implements HookRegistryViews {
  readonly actions = new NamedRegistry<ActionDefinition>('action');
  readonly commands = new NamedRegistry<CommandDefinition>('command');
  readonly routes = new NamedRegistry<RouteContribution>('route');
  readonly uploadProtocols = new NamedRegistry<UploadProtocol>('upload protocol');
  readonly depots = new NamedRegistry<Depot>('depot');
  readonly anonymisers = new NamedRegistry<Anonymiser>('anonymiser');
  readonly distributions = new NamedRegistry<Distribution>('distribution');
  readonly jobHandlers = new NamedRegistry<JobHandler>('job handler');
  readonly inspectChecks = new NamedRegistry<InspectCheck>('inspect check');
  readonly webPages = new NamedRegistry<WebPage>('web page');
  readonly datasetSections = new NamedRegistry<DatasetSection>('dataset section');
  /** Filters and vetoes, in plugin order. */
  readonly schemas: Contribution<Schema>[];
  readonly authPolicies: Contribution<AuthPolicy>[];
  /** Checks of files before they are accepted or sent, in plugin order. */
  readonly fileChecks: Contribution<FileCheck>[];
  /** Observers and lifecycles, in plugin order. */
  readonly observers: Contribution<EventObserver>[];
  readonly lifecycles: Contribution<PluginLifecycle>[];
  readonly migrations: Contribution<MigrationSet>[];
  private readonly disposables: Disposable[] = [];

  constructor(container: Container) {
    const all = <T>(hook: HookId<T>): Contribution<T>[] => container.getAll<Contribution<T>>(hook);
    for (const c of all(Actions)) this.disposables.push(this.registerAction(c));
    for (const c of all(Commands)) this.disposables.push(this.commands.register(c.value.name, c));
    for (const c of all(Routes)) {
      if (typeof c.value.path !== 'string' || !/^\/[a-z0-9/_-]+$/.test(c.value.path) || /^\/(api|upload)(\/|$)/.test(c.value.path)) {
        throw new PluginError(c.plugin, `route path "${c.value.path}" is invalid or shadows /api or /upload`);
      }
      this.disposables.push(this.routes.register(c.value.path, c));
    }
    for (const c of all(UploadProtocol)) this.disposables.push(this.uploadProtocols.register(c.value.name, c));
    for (const c of all(Depot)) this.disposables.push(this.depots.register(c.value.name, c));
    for (const c of all(Anonymiser)) this.disposables.push(this.anonymisers.register(c.value.name, c));
    for (const c of all(Distribution)) this.disposables.push(this.distributions.register(c.value.name, c));
    for (const c of all(JobHandlers)) this.disposables.push(this.jobHandlers.register(c.value.type, c));
    for (const c of all(InspectChecks)) this.disposables.push(this.inspectChecks.register(typeof c.value.area === 'string' && typeof c.value.name === 'string' ? `${c.value.area}/${c.value.name}` : undefined, c));
    for (const c of all(WebPages)) {
      if (typeof c.value.path !== 'string' || !/^\/[a-z0-9/_-]+$/.test(c.value.path) || CORE_PAGE_PATHS.test(c.value.path)) {
        throw new PluginError(c.plugin, `web page path "${c.value.path}" is invalid or shadows a core page (/api, /upload, /assets, /dataset, /user, /account, /admin, /search)`);
      }
      this.disposables.push(this.webPages.register(c.value.path, c));
    }
    for (const c of all(DatasetSections)) this.disposables.push(this.datasetSections.register(c.value.name, c));
    this.schemas = all(Schema);
    this.authPolicies = all(AuthPolicy);
    this.fileChecks = all(FileCheck);
    this.observers = all(EventObserver);
    this.lifecycles = all(Lifecycle);
    this.migrations = all(Migrations);
  }

  /** Every hook a plugin contributes to, for `platform plugins list`. */
  contributionsOf(plugin: string): string[] {
    const named: Array<[string, NamedRegistry<unknown>]> = [
      ['action', this.actions as NamedRegistry<unknown>], ['command', this.commands as NamedRegistry<unknown>], ['route', this.routes as NamedRegistry<unknown>],
      ['upload-protocol', this.uploadProtocols as NamedRegistry<unknown>], ['depot', this.depots as NamedRegistry<unknown>],
      ['anonymiser', this.anonymisers as NamedRegistry<unknown>], ['distribution', this.distributions as NamedRegistry<unknown>],
      ['job-handler', this.jobHandlers as NamedRegistry<unknown>], ['inspect-check', this.inspectChecks as NamedRegistry<unknown>],
      ['web-page', this.webPages as NamedRegistry<unknown>], ['dataset-section', this.datasetSections as NamedRegistry<unknown>],
    ];
    const out: string[] = [];
    for (const [kind, registry] of named) for (const name of registry.names()) if (registry.entry(name)?.plugin === plugin) out.push(`${kind} ${name}`);
    const ordered: Array<[string, Contribution<{ name?: string }>[]]> = [
      ['schema', this.schemas], ['auth-policy', this.authPolicies], ['file-check', this.fileChecks], ['observer', this.observers as Contribution<{ name?: string }>[]],
      ['lifecycle', this.lifecycles as Contribution<{ name?: string }>[]], ['migrations', this.migrations as Contribution<{ name?: string }>[]],
    ];
    for (const [kind, list] of ordered) for (const c of list) if (c.plugin === plugin) out.push(c.value.name ? `${kind} ${c.value.name}` : kind);
    return out;
  }

  /** Undoes every registration, in reverse order. */
  dispose(): void {
    for (const d of this.disposables.reverse()) d.dispose();
    this.disposables.length = 0;
  }

  private registerAction(c: Contribution<ActionDefinition>): Disposable {
    const existing = this.actions.entry(c.value.name);
    if (c.value.chain) {
      if (!existing) throw new PluginError(c.plugin, `action "${c.value.name}" sets chain but no earlier action of that name exists`);
      // An explicit wrapper: the later plugin's action receives the earlier one as `next`.
      const inner = existing.value;
      const outer = c.value;
      // A read wrapper of a write action would run the write without its transaction.
      if (outer.kind !== inner.kind) throw new PluginError(c.plugin, `action "${c.value.name}" is a ${inner.kind} action (from ${existing.plugin === 'core' ? 'core' : `plugin "${existing.plugin}"`}); a wrapper with chain must declare kind: '${inner.kind}' too`);
      // Without a schema of its own, the wrapper keeps the input checks of what it wraps.
      const inputSchema = outer.inputSchema ?? inner.inputSchema;
      return this.actions.wrap(c.value.name, { plugin: c.plugin, value: { ...outer, ...(inputSchema ? { inputSchema } : {}), run: (input, ctx) => outer.run(input, ctx, (i, x) => inner.run(i, x)) } });
    }
    return this.actions.register(c.value.name, c);
  }
}
