// A hook's service identifier: a symbol that carries the contribution type for TypeScript.
import type { ServiceIdentifier } from 'inversify';
import { PluginError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';

/** Service identifier of a hook whose contributions have type T. */
export type HookId<T> = ServiceIdentifier<Contribution<T>> & { readonly __hook?: T };

/** One plugin's contribution to a hook, tagged with the plugin that made it. */
export interface Contribution<T> {
  /** Name of the contributing plugin, or `core`. */
  readonly plugin: string;
  readonly value: T;
}

/**
 * The name of every hook core collects. A hook's identifier is the well-known symbol
 * `Symbol.for('platform.hook.<Name>')`, so a plugin shipped as a plain JavaScript package
 * can name it without importing anything from the platform.
 */
export const HOOK_NAMES = [
  'Depot', 'UploadProtocol', 'Schema', 'Anonymiser', 'Distribution', 'FileCheck',
  'Actions', 'Routes', 'Commands', 'JobHandlers', 'InspectChecks', 'AuthPolicy', 'Migrations',
  'Lifecycle', 'EventObserver', 'WebPages', 'DatasetSections',
] as const;

/** One of {@link HOOK_NAMES}. */
export type HookName = (typeof HOOK_NAMES)[number];

/** Creates the identifier of a hook; the description names it in errors. */
export function hookId<T>(name: HookName): HookId<T> {
  return Symbol.for(`platform.hook.${name}`) as HookId<T>;
}

/**
 * The name of a hook identifier, or undefined when it is none of core's hooks (a typo such
 * as `Symbol.for('platform.hook.Action')`, whose contributions nothing would ever collect).
 */
export function knownHookName(id: unknown): HookName | undefined {
  const key = typeof id === 'symbol' ? Symbol.keyFor(id) : undefined;
  const name = key?.startsWith('platform.hook.') ? key.slice('platform.hook.'.length) : undefined;
  return (HOOK_NAMES as readonly string[]).includes(name ?? '') ? (name as HookName) : undefined;
}

/** Something that can be undone, e.g. a registration (VS Code's Disposable). */
export interface Disposable {
  dispose(): void;
}

/**
 * Refuses a contribution that nothing would collect: to an identifier that is no hook, or a
 * value that is not an object. @throws PluginError naming the plugin and the hook names.
 */
export function checkContribution(plugin: string, hook: unknown, value: unknown): void {
  const name = knownHookName(hook);
  if (!name) {
    const key = typeof hook === 'symbol' ? (Symbol.keyFor(hook) ?? hook.description ?? '') : String(hook);
    const wanted = key.replace(/^platform\.hook\./, '');
    throw new PluginError(plugin, `contributes to ${typeof hook === 'symbol' ? hook.toString() : `"${key}"`}, which is not a hook${didYouMean(wanted, HOOK_NAMES)}; hooks are Symbol.for('platform.hook.<Name>') with <Name> one of ${HOOK_NAMES.join(', ')}`);
  }
  if (value === null || typeof value !== 'object') throw new PluginError(plugin, `contributes ${value === null ? 'null' : typeof value} to ${name}; a contribution is an object`);
}
