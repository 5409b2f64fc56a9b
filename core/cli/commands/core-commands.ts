// Every command core contributes.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { initCommands } from './init-command.js';
import { serveCommands } from './serve-command.js';
import { dbCommands } from './db-commands.js';
import { userCommands } from './user-commands.js';
import { orgCommands } from './org-commands.js';
import { tokenCommands } from './token-commands.js';
import { pluginsCommands } from './plugins-command.js';
import { inspectCommands, type InspectHostStarter } from './inspect-command.js';
import { accessTokenCommands } from './access-token-commands.js';
import { uploadCommands } from './upload-command.js';
import { jobsCommands } from './jobs-commands.js';
import { depotCommands } from './depot-commands.js';
import { nginxConfigCommands } from './nginx-config-command.js';

/** Core's commands; `startHost` starts the host inspect examines (see inspect-command). */
export function coreCommands(startHost: InspectHostStarter): CommandDefinition[] {
  return [...initCommands(), ...serveCommands(), ...dbCommands(), ...userCommands(), ...orgCommands(), ...tokenCommands(), ...pluginsCommands(), ...inspectCommands(startHost), ...accessTokenCommands(), ...uploadCommands(), ...jobsCommands(), ...depotCommands(), ...nginxConfigCommands()];
}
