// The context a plugin's register() receives: its config, a logger and contribute().
import type { Logger } from '../logger.js';
import type { PlatformConfig } from '../config/platform-config.js';
import type { Services } from '../services/services.js';
import type { HookId } from './hook-id.js';
import type { ServiceIdentifier } from 'inversify';

/** A validated config section: each key's value, defaults applied. */
export type PluginConfigValues = { readonly [key: string]: string | number | boolean | undefined };

/** What `register(ctx)` may use; `Config` is the section's shape, from the plugin's schema. */
export interface PluginContext<Config extends PluginConfigValues = PluginConfigValues> {
  /** The plugin's name. */
  readonly name: string;
  /** Its validated `[plugin:NAME]` section, defaults applied. */
  readonly config: Config;
  /** The whole validated configuration (e.g. for `[platform] data_dir`). */
  readonly platformConfig: PlatformConfig;
  /** A logger named `plugin:<name>`. */
  readonly logger: Logger;
  /** Resolves a path from the plugin's config against platform.ini's directory. */
  resolvePath(value: string): string;
  /** Adds a contribution to a hook. */
  contribute<T>(hook: HookId<T>, value: T): void;
  /** Binds a service of the plugin's own (e.g. for other plugins to use), as a singleton. */
  provide<T>(id: ServiceIdentifier<T>, factory: (services: Services) => T): void;
  /** Core services, available once the host has started (not during register itself). */
  readonly services: Services;
}
