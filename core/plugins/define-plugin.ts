// definePlugin: the shape every plugin's default export has, with its config typed from its schema.
import type { ConfigPropertySchema, ConfigSectionSchema } from '../config/config-schema-types.js';
import type { PluginContext, PluginConfigValues } from './plugin-context.js';

/** The value type one config key's schema describes: its enum's members, else its JSON type. */
type ConfigValueOf<P extends ConfigPropertySchema> = P extends { enum: ReadonlyArray<infer E> } ? E : P extends { type: 'integer' | 'number' } ? number : P extends { type: 'boolean' } ? boolean : string;

/** Keys that always have a value after validation: those with a default and the required ones. */
type PresentKeys<S extends ConfigSectionSchema> = { [K in keyof S['properties']]: S['properties'][K] extends { default: string | number | boolean } ? K : never }[keyof S['properties']] | (S['required'] extends ReadonlyArray<infer R> ? R & keyof S['properties'] : never);

/**
 * The validated `[plugin:NAME]` section a schema describes: keys with a default or in
 * `required` are always present; the others may be undefined.
 */
export type ConfigOf<S extends ConfigSectionSchema> = { readonly [K in PresentKeys<S>]: ConfigValueOf<S['properties'][K]> } & { readonly [K in Exclude<keyof S['properties'], PresentKeys<S>>]?: ConfigValueOf<S['properties'][K]> };

/** A plugin: its identity, its `[plugin:NAME]` config schema and what it contributes. */
export interface PluginDefinition<Config extends PluginConfigValues = PluginConfigValues> {
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
  register(ctx: PluginContext<Config>): void | Promise<void>;
}

/**
 * Declares a plugin; returns it unchanged, typed. `ctx.config` in `register` has the type
 * the `config` schema describes (`{ type: 'integer', default: 15 }` gives a number), so a
 * plugin reads its settings without casts.
 * @example definePlugin({ name: 'x', version: '1.0.0', config: { type: 'object', properties: { n: { type: 'integer', default: 1 } } }, register(ctx) { ctx.config.n satisfies number; } })
 */
export function definePlugin<const S extends ConfigSectionSchema = { type: 'object'; properties: {} }>(definition: Omit<PluginDefinition<ConfigOf<S>>, 'config'> & { readonly config?: S }): PluginDefinition {
  return definition as unknown as PluginDefinition;
}
