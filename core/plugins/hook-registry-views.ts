// What a plugin may see of the hook registries: which contributions exist. Plugins add to a
// hook only through `ctx.contribute`, in their own register; nothing here can add, replace
// or wrap another plugin's contribution.
import type { ServiceIdentifier } from 'inversify';
import type { Contribution } from './hook-id.js';
import type { Anonymiser } from './hooks/anonymiser.js';
import type { Depot } from './hooks/depot.js';
import type { Distribution } from './hooks/distribution.js';
import type { FileCheck } from './hooks/file-check.js';
import type { Schema } from './hooks/schema.js';
import type { UploadProtocol } from './hooks/upload-protocol.js';

/** A registry keyed by name, read-only. */
export interface RegistryView<T> {
  /** The contribution of a name, or undefined. */
  get(name: string): T | undefined;
  /** Every name, in registration order. */
  names(): string[];
  /** Every contribution with the plugin that made it. */
  contributions(): ReadonlyArray<Readonly<Contribution<T>>>;
}

/** The registries a plugin may ask ("which anonymisers exist?"). */
export interface HookRegistryViews {
  readonly depots: RegistryView<Depot>;
  readonly uploadProtocols: RegistryView<UploadProtocol>;
  readonly anonymisers: RegistryView<Anonymiser>;
  readonly distributions: RegistryView<Distribution>;
  /** Checks of files before they are accepted or sent, in plugin order. */
  readonly fileChecks: ReadonlyArray<Readonly<Contribution<FileCheck>>>;
  /** Dataset schemas, in plugin order. */
  readonly schemas: ReadonlyArray<Readonly<Contribution<Schema>>>;
}

/**
 * The hook registries, typed read-only for plugins. The same symbol as core's own identifier,
 * so a plain JavaScript plugin can write it as `Symbol.for('platform.HookRegistries')`.
 */
export const HookRegistryViewsId: ServiceIdentifier<HookRegistryViews> = Symbol.for('platform.HookRegistries');
