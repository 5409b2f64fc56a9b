// Help text: the overview of every command, and one command's options.
import type { CommandDefinition } from '../plugins/hooks/commands.js';

/** `platform --help`: every command with its summary, grouped by first word. */
export function renderOverview(commands: CommandDefinition[], configProblem?: string): string {
  const sorted = [...commands].sort((a, b) => a.name.localeCompare(b.name));
  const width = Math.max(...sorted.map((c) => c.name.length + (c.usage ? c.usage.length + 1 : 0)), 10);
  const lines = ['Usage: platform [--config FILE] COMMAND [OPTIONS]', '', 'Commands:'];
  for (const c of sorted) lines.push(`  ${`${c.name}${c.usage ? ` ${c.usage}` : ''}`.padEnd(width + 2)}${c.summary}`);
  lines.push('', 'Global options:', '  --config FILE   platform.ini to use (default: $PLATFORM_INI or ./platform.ini)', '  --help          help for any command, e.g. platform user add --help', '  --version       print the platform version');
  if (configProblem) lines.push('', `Plugin commands are not listed because the configuration could not be loaded:`, `  ${configProblem.split('\n').join('\n  ')}`);
  return `${lines.join('\n')}\n`;
}

/** `platform NAME --help`. */
export function renderCommandHelp(command: CommandDefinition): string {
  const lines = [`Usage: platform ${command.name}${command.usage ? ` ${command.usage}` : ''}${command.options && Object.keys(command.options).length ? ' [OPTIONS]' : ''}`, '', command.summary];
  if (command.description) lines.push('', command.description);
  const options = Object.entries(command.options ?? {});
  if (options.length) {
    lines.push('', 'Options:');
    const label = (name: string, o: { short?: string; type: string; value?: string }): string => `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;
    const width = Math.max(...options.map(([n, o]) => label(n, o).length));
    for (const [name, o] of options) lines.push(`  ${label(name, o).padEnd(width + 2)}${o.description}`);
  }
  lines.push('  --help'.padEnd(4) + '  show this help');
  return `${lines.join('\n')}\n`;
}
