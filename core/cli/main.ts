// The `platform` command: finds the command among core's and the plugins', parses its
// options, starts the host as far as the command needs, and maps errors to exit codes
// (0 success, 1 failure, 2 wrong usage).
import { parseArgs } from 'node:util';
import { PlatformHost, startHostForInspect } from '../host/platform-host.js';
import { configPath } from '../config/platform-config.js';
import { ConfigError, UsageError, describeError, isPlatformError } from '../errors.js';
import type { CommandContext, CommandDefinition } from '../plugins/hooks/commands.js';
import { coreCommands } from './commands/core-commands.js';
import { renderCommandHelp, renderOverview } from './command-help.js';
import { confirmOnTerminal, promptSecretOnTerminal } from './terminal-prompts.js';
import { didYouMean } from '../util/did-you-mean.js';
import { PLATFORM_VERSION } from '../version.js';

/** Streams and environment of one run (tests pass their own). */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const GLOBAL_OPTIONS = ['--config', '-c'];

/** Runs the CLI; @returns the exit status. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }): Promise<number> {
  // Core's commands, built once per run: they find a command that needs no host, and their
  // first words tell whose --config an option is. (A started host registers core's commands itself.)
  const builtIn = coreCommands(startHostForInspect);
  const coreGroups = commandGroups(builtIn);
  let global: ReturnType<typeof takeGlobalOptions>;
  try {
    global = takeGlobalOptions(argv, coreGroups);
  } catch (error) {
    return report(error, io);
  }
  const { configFile, rest } = global;
  const file = configPath(configFile, io.env);
  const words = rest.filter((a) => !a.startsWith('-'));
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  if (rest.includes('--version') && words.length === 0) {
    io.stdout.write(`${PLATFORM_VERSION}\n`);
    return 0;
  }

  // Commands that need nothing are found without starting anything.
  let commands = builtIn;
  let command = findCommand(commands, rest);
  let host: PlatformHost | undefined;
  let configProblem: string | undefined;
  try {
    if (!command || command.needs !== 'none') {
      try {
        host = await PlatformHost.start({ configFile: file, env: io.env, level: 'config' });
        commands = host.registries.commands.values();
        command = findCommand(commands, rest);
      } catch (error) {
        if (!command && !wantsHelp && words.length > 0) {
          // A mistyped core command should be named as such, not hidden behind a configuration problem.
          const near = didYouMean(words.slice(0, 2).join(' '), commands.map((c) => c.name));
          if (near) throw new UsageError(`unknown command "${words.join(' ')}"${near} (plugin commands could not be looked up: ${describeError(error).split('\n')[0]})`);
        }
        if (command || !(wantsHelp || words.length === 0)) throw error;
        configProblem = describeError(error);
      }
    }
    if (!command) {
      if (words.length === 0 || (wantsHelp && !commands.some((c) => c.name.startsWith(`${words[0]} `)))) {
        io.stdout.write(renderOverview(commands, configProblem));
        return words.length === 0 && !wantsHelp ? 2 : 0;
      }
      const group = commands.filter((c) => c.name.startsWith(`${words[0]} `));
      if (group.length) {
        io.stdout.write(renderOverview(group));
        return wantsHelp ? 0 : 2;
      }
      throw new UsageError(`unknown command "${words.join(' ')}"${didYouMean(words.slice(0, 2).join(' '), commands.map((c) => c.name))}; see platform --help`);
    }
    if (wantsHelp) {
      io.stdout.write(renderCommandHelp(command));
      return 0;
    }
    // A command may own --config itself (init writes that file).
    // A core command with a config option (init) takes the global one; a plugin command's own --config stays its own.
    const passConfig = command.options?.config && configFile && coreGroups.has(command.name.split(' ')[0]!);
    const args = parseCommandArgs(command, passConfig ? [...rest, '--config', configFile] : rest);
    if (command.needs === 'database') {
      await host?.stop();
      host = await PlatformHost.start({ configFile: file, env: io.env, level: 'database', migrate: command.name.startsWith('db ') ? 'none' : undefined });
      // Use the command as registered on this host: a plugin's closures belong to the host that registered them.
      command = host.registries.commands.get(command.name) ?? command;
    }
    const ctx: CommandContext = {
      services: host?.services ?? { get: () => { throw new ConfigError(`command "${command!.name}" runs without configuration`); } },
      config: host?.config,
      configFile: file,
      env: io.env,
      stdout: io.stdout,
      stderr: io.stderr,
      interactive: Boolean(io.stdin.isTTY),
      stdin: io.stdin,
      promptSecret: (question) => promptSecretOnTerminal(question, io),
      confirm: (question) => confirmOnTerminal(question, io),
    };
    const status = await command.run(args, ctx);
    return status ?? 0;
  } catch (error) {
    return report(error, io);
  } finally {
    await host?.stop();
  }
}

/** First words of core's commands: after one of these, `--config` still names platform.ini. */
function commandGroups(commands: readonly CommandDefinition[]): ReadonlySet<string> {
  return new Set(commands.map((c) => c.name.split(' ')[0]!));
}

/**
 * Takes `--config FILE` (the platform.ini) out of the arguments. Before the command's words it
 * is always the platform's; after a core command's words too (`platform init --config PATH`).
 * After a plugin command's words it is left to the command, which may have a config file of
 * its own (`platform anonymise run --config anon.ini`): name platform.ini before the command,
 * or with PLATFORM_INI, there.
 */
function takeGlobalOptions(argv: string[], coreGroups: ReadonlySet<string>): { configFile: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let configFile: string | undefined;
  let firstWord: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const commandOwnsIt = firstWord !== undefined && !coreGroups.has(firstWord);
    if (!commandOwnsIt && GLOBAL_OPTIONS.includes(arg)) {
      configFile = argv[++i];
      if (configFile === undefined || configFile === '' || configFile.startsWith('-')) throw new UsageError(`${arg} needs the path of a platform.ini, e.g. ${arg} /etc/platform/platform.ini`);
    } else if (!commandOwnsIt && arg.startsWith('--config=')) configFile = arg.slice('--config='.length);
    else {
      if (firstWord === undefined && !arg.startsWith('-')) firstWord = arg;
      rest.push(arg);
    }
  }
  return { configFile, rest };
}

/** The command whose name is the longest prefix of the leading words. */
function findCommand(commands: CommandDefinition[], args: string[]): CommandDefinition | undefined {
  const words: string[] = [];
  for (const arg of args) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  for (let n = Math.min(words.length, 3); n > 0; n--) {
    const name = words.slice(0, n).join(' ');
    const found = commands.find((c) => c.name === name);
    if (found) return found;
  }
  return undefined;
}

function parseCommandArgs(command: CommandDefinition, args: string[]): { positionals: string[]; options: Record<string, string | boolean | string[] | undefined> } {
  const nameWords = command.name.split(' ').length;
  const options = Object.fromEntries(
    Object.entries(command.options ?? {}).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }]),
  );
  // Skip the command's own words, wherever options appear.
  let skipped = 0;
  const remaining = args.filter((arg) => {
    if (skipped < nameWords && !arg.startsWith('-')) {
      skipped++;
      return false;
    }
    return true;
  });
  try {
    const parsed = parseArgs({ args: remaining, options, allowPositionals: true, strict: true });
    return { positionals: parsed.positionals, options: parsed.values as Record<string, string | boolean | string[] | undefined> };
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify a positional.*$/s, '')}; see platform ${command.name} --help`);
  }
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message}\n`);
    return 2;
  }
  if (isPlatformError(error)) {
    io.stderr.write(`error: ${error.message}\n`);
    for (const [field, messages] of Object.entries(error.fields)) io.stderr.write(`  ${field}: ${messages.join('; ')}\n`);
    return 1;
  }
  io.stderr.write(`error: ${describeError(error)}\n`);
  return 1;
}
