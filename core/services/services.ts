// The service locator handed to plugins, actions, commands and jobs: the container's `get`.
import type { ServiceIdentifier } from 'inversify';

/** Looks up a core service (or a service a plugin bound) by its identifier. */
export interface Services {
  get<T>(id: ServiceIdentifier<T>): T;
}
