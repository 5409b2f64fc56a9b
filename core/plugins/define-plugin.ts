// definePlugin: the shape every plugin's default export has.
import type { ConfigSectionSchema } from '../config/config-schema-types.js';
import type { PluginContext } from './plugin-context.js';

/** A plugin: its identity, its `[plugin:NAME]` config schema and what it contributes. */
export interface PluginDefinition {
  /** Must match the name it is enabled by in `[platform] plugins`. */
  readonly name: string;
  /** The plugin's own version (semver). */
  readonly version: string;
  readonly description?: string;
  /** Range of core versions it works with, e.g. `^0.1.0`; checked at load and by inspect. */
  readonly coreVersion?: string;
  /** JSON Schema of its `[plugin:NAME]` section; unknown keys are errors. */
  readonly config?: ConfigSectionSchema;
  /**
   * Contributes to hooks through `ctx.contribute`. Called once at start-up, after the whole
   * configuration validated. Throwing stops start-up with a message naming the plugin.
   */
  register(ctx: PluginContext): void | Promise<void>;
}

/** Declares a plugin; returns it unchanged, typed. */
export function definePlugin(definition: PluginDefinition): PluginDefinition {
  return definition;
}
