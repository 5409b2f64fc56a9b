// Small shared pieces of core's commands: secrets from files or prompts, the CLI actor,
// and plain output of tables and JSON.
import { readFileSync, statSync } from 'node:fs';
import type { CommandArgs, CommandContext } from '../../plugins/hooks/commands.js';
import type { Actor } from '../../auth/actor.js';
import { UsageError } from '../../errors.js';

/** The actor recorded in audit events for changes made with the CLI. */
export const cliActor: Actor = { kind: 'system', name: 'cli' };

/** A string option, or undefined. */
export function stringOption(args: CommandArgs, name: string): string | undefined {
  const value = args.options[name];
  return typeof value === 'string' ? value : undefined;
}

/** A required string option. @throws UsageError */
export function requireOption(args: CommandArgs, name: string, command: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required; see platform ${command} --help`);
  return value;
}

/** Exactly `count` positional arguments. @throws UsageError */
export function positionals(args: CommandArgs, names: string[], command: string): string[] {
  if (args.positionals.length !== names.length) {
    throw new UsageError(`expected ${names.join(' ')}, got ${args.positionals.length ? args.positionals.map((p) => `"${p}"`).join(' ') : 'nothing'}; see platform ${command} --help`);
  }
  return args.positionals;
}

/**
 * A password from `--password-file` (first line), or asked twice on a terminal.
 * @throws UsageError when neither is possible.
 */
export async function obtainPassword(args: CommandArgs, ctx: CommandContext, what = 'Password'): Promise<string> {
  const file = stringOption(args, 'password-file');
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      if (statSync(file).mode & 0o004) ctx.stderr.write(`warning: ${file} is readable by every user; chmod 600 it\n`);
    } catch (error) {
      throw new UsageError(`cannot read --password-file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    const password = text.split(/\r?\n/)[0] ?? '';
    if (!password) throw new UsageError(`--password-file ${file} is empty`);
    return password;
  }
  const first = await ctx.promptSecret(`${what}: `);
  const second = await ctx.promptSecret(`${what} again: `);
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

/** Writes rows as aligned columns. */
export function printTable(out: NodeJS.WritableStream, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  out.write(`${line(header)}\n`);
  for (const row of rows) out.write(`${line(row)}\n`);
}

/** Writes a value as pretty JSON. */
export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}
