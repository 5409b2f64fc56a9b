// A hook's service identifier: a symbol that carries the contribution type for TypeScript.
import type { ServiceIdentifier } from 'inversify';

/** Service identifier of a hook whose contributions have type T. */
export type HookId<T> = ServiceIdentifier<Contribution<T>> & { readonly __hook?: T };

/** One plugin's contribution to a hook, tagged with the plugin that made it. */
export interface Contribution<T> {
  /** Name of the contributing plugin, or `core`. */
  readonly plugin: string;
  readonly value: T;
}

/** Creates the identifier of a hook; the description names it in errors. */
export function hookId<T>(name: string): HookId<T> {
  return Symbol.for(`platform.hook.${name}`) as HookId<T>;
}

/** Something that can be undone, e.g. a registration (VS Code's Disposable). */
export interface Disposable {
  dispose(): void;
}
