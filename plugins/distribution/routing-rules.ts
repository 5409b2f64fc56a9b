// Routing: rules map a file to a destination by hints in its name. A table rule's capture
// yields a tag looked up in the remote folders table; the by-day and by-mime routers make the
// tag from a date in the name or from the sniffed MIME type. First rule that routes wins.
import type { RemoteFolder } from './distribution-store.js';

/** One routing rule, as written in the rules file. */
export interface RoutingRule {
  label: string;
  /** `table` (default): tag from the capture, folder from the remote folders table. */
  router: 'table' | 'by-day' | 'by-mime';
  /** Regular expression over the file name (required for `table`). */
  pattern: RegExp | undefined;
  /** Group number or name of the capture that yields the tag (default 1). */
  capture: number | string;
  /** For by-day/by-mime without a table row: destination and folder template (`{tag}`, `{yyyy}`, `{mm}`, `{dd}`, `{mime}`, `{subtype}`). */
  base: string | undefined;
  folder: string | undefined;
  /** Names an Anonymiser applied before sending: what is sent is its output (see anonymisation-step.ts). */
  anonymiser: string | undefined;
  /** The policy handed to that anonymiser (the rule's `anonymiser_policy`, default `{}`). */
  anonymiserPolicy: Record<string, unknown>;
}

/** Where a file goes. */
export interface Route {
  label: string;
  tag: string;
  base: string;
  folder: string;
}

/** The outcome of routing one file. */
export type RoutingOutcome = { route: Route } | { unroutable: string };

/** A folder path is relative, with no `.` or `..` segment. @returns the problem, or undefined. */
export function folderProblem(folder: string): string | undefined {
  if (folder.startsWith('/') || folder.includes('\\')) return `folder "${folder}" must be relative, with / between parts`;
  if (folder.split('/').some((part) => part === '.' || part === '..')) return `folder "${folder}" must not contain "." or ".." parts`;
  if (/[\u0000-\u001f]/.test(folder)) return `folder "${folder}" contains control characters`;
  return undefined;
}

function dayTag(value: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? value : undefined;
}

function fill(template: string, tag: string, mime: string): string {
  return template
    .replaceAll('{tag}', tag)
    .replaceAll('{yyyy}', tag.slice(0, 4))
    .replaceAll('{mm}', tag.slice(4, 6))
    .replaceAll('{dd}', tag.slice(6, 8))
    .replaceAll('{mime}', mime)
    .replaceAll('{subtype}', mime.split('/')[1] ?? mime);
}

/** Routes files by a list of rules and a lookup in the remote folders table. */
export class Router {
  constructor(private readonly rules: readonly RoutingRule[], private readonly lookup: (label: string, tag: string) => Promise<RemoteFolder | undefined>) {}

  /** The route of a file, or why none was found. */
  async route(file: { name: string; mimeType: string; receivedAt: Date }): Promise<RoutingOutcome> {
    if (!this.rules.length) return { unroutable: 'no routing rules are configured (rules_file)' };
    const misses: string[] = [];
    for (const rule of this.rules) {
      const match = rule.pattern ? rule.pattern.exec(file.name) : undefined;
      if (rule.pattern && !match) continue;
      const captured = match ? (typeof rule.capture === 'number' ? match[rule.capture] : match.groups?.[rule.capture]) : undefined;
      let tag: string | undefined;
      if (rule.router === 'table') tag = captured;
      else if (rule.router === 'by-day') tag = captured === undefined ? file.receivedAt.toISOString().slice(0, 10).replaceAll('-', '') : dayTag(captured);
      else tag = file.mimeType;
      if (!tag) {
        misses.push(`rule "${rule.label}" matched but its capture ${String(rule.capture)} gave ${rule.router === 'by-day' && captured ? `"${captured}", not a date YYYYMMDD` : 'nothing'}`);
        continue;
      }
      const row = await this.lookup(rule.label, tag);
      if (row) return { route: { label: rule.label, tag, base: row.base, folder: row.folder } };
      if (rule.router !== 'table' && rule.base && rule.folder !== undefined) {
        return { route: { label: rule.label, tag, base: rule.base, folder: fill(rule.folder, tag, file.mimeType) } };
      }
      misses.push(`rule "${rule.label}" gave tag "${tag}", which has no row in the remote folders table`);
    }
    return { unroutable: misses.length ? misses.join('; ') : 'no routing rule matches the name' };
  }
}
