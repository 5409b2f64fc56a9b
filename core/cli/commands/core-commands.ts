// Every command core contributes.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';

/** Core's commands. */
export function coreCommands(): CommandDefinition[] {
  return [];
}
