// Every action core contributes, collected for registration under the plugin name `core`.
import type { ActionDefinition } from '../plugins/hooks/actions.js';
import { siteActions } from './site-actions.js';
import { packageActions } from './package-actions.js';
import { resourceActions } from './resource-actions.js';
import { organizationActions } from './organization-actions.js';
import { userActions } from './user-actions.js';

/** Core's actions. */
export function coreActions(pluginNames: () => string[]): ActionDefinition[] {
  return [...siteActions(pluginNames), ...packageActions(), ...resourceActions(), ...organizationActions(), ...userActions()];
}
