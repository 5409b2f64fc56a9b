// Commands: subcommands of the `platform` CLI.
import { hookId } from '../hook-id.js';
import type { Services } from '../../services/services.js';
import type { PlatformConfig } from '../../config/platform-config.js';

/** An option of a command, as node:util parseArgs understands it. */
export interface CommandOption {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Placeholder shown in help, e.g. `FILE`. */
  value?: string;
}

/** Parsed arguments of one invocation. */
export interface CommandArgs {
  positionals: string[];
  options: Record<string, string | boolean | string[] | undefined>;
}

/** Terminal and services a command works with. */
export interface CommandContext {
  /** Set when the command declared `needs: 'database'` (or `'config'`, without database). */
  readonly services: Services;
  readonly config: PlatformConfig | undefined;
  /** Absolute path of the platform.ini this run uses (it may not exist or be valid). */
  readonly configFile: string;
  /** The environment (for PLATFORM__ overrides when a command starts a host itself). */
  readonly env: NodeJS.ProcessEnv;
  /** Command output: only what a script should capture. */
  readonly stdout: NodeJS.WritableStream;
  /** Messages for the person at the terminal. */
  readonly stderr: NodeJS.WritableStream;
  /** True when stdin is a terminal (prompts allowed). */
  readonly interactive: boolean;
  /** Standard input, for commands that read data from it (`platform anonymise scrub < note.txt`). */
  readonly stdin?: NodeJS.ReadableStream;
  /** Asks for a secret on the terminal without echo. @throws UsageError when not interactive. */
  promptSecret(question: string): Promise<string>;
  /** Asks a yes/no question on the terminal; false when not interactive. */
  confirm(question: string): Promise<boolean>;
}

/**
 * A CLI command. Dispatch: **registry** keyed by `name` (words separated by spaces, e.g.
 * `access-token create`); a duplicate is a start-up error naming both plugins.
 *
 * Secrets are never taken as plain arguments: read them from a file option or prompt.
 */
export interface CommandDefinition {
  /** e.g. `user add`. */
  readonly name: string;
  readonly summary: string;
  /** Positional arguments, for help: e.g. `NAME`. */
  readonly usage?: string;
  readonly description?: string;
  readonly options?: Record<string, CommandOption>;
  /** What must be ready before `run`: nothing, a validated config, or the database too. */
  readonly needs: 'none' | 'config' | 'database';
  /** @returns the exit status (0 when omitted). */
  run(args: CommandArgs, ctx: CommandContext): Promise<number | void>;
}

/** Service identifier of the {@link CommandDefinition} hook. */
export const Commands = hookId<CommandDefinition>('Commands');
