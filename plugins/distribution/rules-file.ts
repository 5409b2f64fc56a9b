// The rules file (JSON): routing rules and the destinations they name. Checked as a whole at
// start, with every problem reported at once.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { RoutingRule } from './routing-rules.js';
import { folderProblem } from './routing-rules.js';
import type { WebDavVerification } from './webdav-target.js';

/** A configured destination, by kind. Secrets are named by files, never written inline. */
export type DestinationConfig =
  | { kind: 'folder'; name: string; path: string }
  | { kind: 'webdav'; name: string; url: string; certFile: string | undefined; usernameFile: string | undefined; passwordFile: string | undefined; tokenFile: string | undefined; verify: WebDavVerification }
  | { kind: 'dataset'; name: string; dataset: string }
  | { kind: 'platform'; name: string; url: string; dataset: string; chunkBytes?: number; tokenFile: string; certFile: string | undefined }
  | { kind: 'platform'; name: string; url: string; dataset: string; chunkBytes?: number; accessToken: { file: string; passwordFile: string } };

/** What the rules file declares. */
export interface RulesConfig {
  rules: RoutingRule[];
  destinations: Map<string, DestinationConfig>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a rules file's JSON text; relative paths resolve against `baseDir`. @throws Error listing every problem. */
export function parseRules(text: string, baseDir: string, source = 'rules file'): RulesConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not JSON: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const rules: RoutingRule[] = [];
  const destinations = new Map<string, DestinationConfig>();
  if (!isRecord(raw)) throw new Error(`${source} must hold an object with "rules" and "destinations"`);
  const path = (v: unknown): string | undefined => (typeof v === 'string' && v ? (isAbsolute(v) ? v : resolve(baseDir, v)) : undefined);
  const dests = raw.destinations ?? {};
  if (!isRecord(dests)) problems.push('"destinations" must be an object of name → destination');
  else {
    for (const [name, d] of Object.entries(dests)) {
      if (!isRecord(d)) {
        problems.push(`destination "${name}" must be an object`);
        continue;
      }
      if (d.kind === 'folder') {
        if (typeof d.path !== 'string' || !d.path) problems.push(`destination "${name}" (folder) needs "path"`);
        else destinations.set(name, { kind: 'folder', name, path: path(d.path)! });
      } else if (d.kind === 'webdav') {
        let url: URL | undefined;
        try {
          url = new URL(String(d.url));
        } catch {
          problems.push(`destination "${name}" (webdav) needs "url", an http:// or https:// URL`);
        }
        if (url && url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`destination "${name}": url must be http:// or https://`);
        if (url && (url.username || url.password)) problems.push(`destination "${name}": put no credentials in the url; use "username_file" and "password_file"`);
        if (url && url.protocol === 'https:' && !d.cert_file) problems.push(`destination "${name}": an https destination needs "cert_file", the server certificate to pin`);
        const verify = d.verify ?? 'size';
        if (verify !== 'size' && verify !== 'sha256' && verify !== 'response') problems.push(`destination "${name}": "verify" must be size, sha256 or response (got ${JSON.stringify(d.verify)})`);
        else if (url) destinations.set(name, { kind: 'webdav', name, url: url.toString().replace(/\/?$/, '/'), certFile: path(d.cert_file), usernameFile: path(d.username_file), passwordFile: path(d.password_file), tokenFile: path(d.token_file), verify });
      } else if (d.kind === 'dataset') {
        if (typeof d.dataset !== 'string' || !d.dataset) problems.push(`destination "${name}" (dataset) needs "dataset", the name of a dataset on this platform`);
        else destinations.set(name, { kind: 'dataset', name, dataset: d.dataset });
      } else if (d.kind === 'platform') {
        let url: URL | undefined;
        try {
          url = new URL(String(d.url));
        } catch {
          problems.push(`destination "${name}" (platform) needs "url", the other platform's site URL`);
        }
        if (url && (url.username || url.password)) problems.push(`destination "${name}": put no credentials in the url; use "token_file" or "access_token"`);
        const hasFile = (key: string): boolean => typeof d[key] === 'string' && d[key] !== '';
        if (typeof d.dataset !== 'string' || !d.dataset) problems.push(`destination "${name}" (platform) needs "dataset", a draft dataset there`);
        const chunkBytes = d.chunk_bytes === undefined ? undefined : Number(d.chunk_bytes);
        if (chunkBytes !== undefined && (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1024)) problems.push(`destination "${name}": "chunk_bytes" must be a whole number of bytes, at least 1024 (got ${JSON.stringify(d.chunk_bytes)})`);
        if (hasFile('access_token')) {
          // A .dcor-access file: the API key and the server's certificate (pinned), opened with the password in password_file.
          if (hasFile('token_file') || hasFile('cert_file')) problems.push(`destination "${name}": give either "access_token" (with "password_file") or "token_file" (and "cert_file"), not both`);
          if (!hasFile('password_file')) problems.push(`destination "${name}": "access_token" needs "password_file", a file holding the token's password`);
          else if (url && typeof d.dataset === 'string' && d.dataset && !hasFile('token_file') && !hasFile('cert_file')) {
            destinations.set(name, { kind: 'platform', name, url: url.toString().replace(/\/?$/, '/'), dataset: d.dataset, ...(chunkBytes !== undefined ? { chunkBytes } : {}), accessToken: { file: path(d.access_token)!, passwordFile: path(d.password_file)! } });
          }
        } else {
          if (url && url.protocol === 'https:' && !d.cert_file) problems.push(`destination "${name}": an https destination needs "cert_file", the server certificate to pin`);
          if (!hasFile('token_file')) problems.push(`destination "${name}" (platform) needs "access_token" (a .dcor-access file, with "password_file") or "token_file" (a file holding an API token of the other platform)`);
          if (url && hasFile('token_file') && typeof d.dataset === 'string' && d.dataset) {
            destinations.set(name, { kind: 'platform', name, url: url.toString().replace(/\/?$/, '/'), dataset: d.dataset, ...(chunkBytes !== undefined ? { chunkBytes } : {}), tokenFile: path(d.token_file as string)!, certFile: path(d.cert_file) });
          }
        }
      } else problems.push(`destination "${name}": kind must be folder, webdav, dataset or platform (got ${JSON.stringify(d.kind)})`);
    }
  }
  const list = raw.rules ?? [];
  if (!Array.isArray(list)) problems.push('"rules" must be a list');
  else {
    list.forEach((r: unknown, i: number) => {
      const at = `rule ${i + 1}`;
      if (!isRecord(r)) return void problems.push(`${at} must be an object`);
      const label = typeof r.label === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(r.label) ? r.label : undefined;
      if (!label) problems.push(`${at}: "label" must be 1-100 letters, digits and . _ -`);
      const router = r.router === undefined ? 'table' : r.router;
      if (router !== 'table' && router !== 'by-day' && router !== 'by-mime') problems.push(`${at}: "router" must be table, by-day or by-mime`);
      let pattern: RegExp | undefined;
      if (r.pattern !== undefined) {
        try {
          pattern = new RegExp(String(r.pattern));
        } catch (error) {
          problems.push(`${at}: "pattern" is not a regular expression (${(error as Error).message})`);
        }
      } else if (router === 'table') problems.push(`${at}: a table rule needs "pattern" with a capture`);
      const capture = r.capture === undefined ? 1 : r.capture;
      if (typeof capture !== 'number' && typeof capture !== 'string') problems.push(`${at}: "capture" must be a group number or name`);
      const base = typeof r.base === 'string' ? r.base : undefined;
      const folder = typeof r.folder === 'string' ? r.folder : undefined;
      if (base !== undefined && !destinations.has(base) && isRecord(dests)) problems.push(`${at}: "base" names destination "${base}", which is not declared`);
      if (folder !== undefined) {
        const problem = folderProblem(folder.replace(/\{[a-z]+\}/g, 'x'));
        if (problem) problems.push(`${at}: ${problem}`);
      }
      if (r.anonymiser !== undefined && (typeof r.anonymiser !== 'string' || !r.anonymiser)) problems.push(`${at}${label ? ` ("${label}")` : ''}: "anonymiser" must be the name of an anonymiser`);
      if (r.anonymiser_policy !== undefined && !isRecord(r.anonymiser_policy)) problems.push(`${at}${label ? ` ("${label}")` : ''}: "anonymiser_policy" must be an object`);
      if (r.anonymiser_policy !== undefined && r.anonymiser === undefined) problems.push(`${at}${label ? ` ("${label}")` : ''}: "anonymiser_policy" needs "anonymiser"`);
      const anonymiser = typeof r.anonymiser === 'string' && r.anonymiser ? r.anonymiser : undefined;
      // A file records the label of the rule that routed it; delivery finds the anonymiser by that label.
      const sibling = label ? rules.find((other) => other.label === label) : undefined;
      if (sibling && sibling.anonymiser !== anonymiser) problems.push(`${at} ("${label}"): rules of one label must name the same anonymiser (an earlier "${label}" rule names ${sibling.anonymiser ? `"${sibling.anonymiser}"` : 'none'})`);
      if (label && (router === 'table' || router === 'by-day' || router === 'by-mime')) {
        rules.push({ label, router, pattern, capture: capture as number | string, base, folder, anonymiser, anonymiserPolicy: isRecord(r.anonymiser_policy) ? r.anonymiser_policy : {} });
      }
    });
  }
  if (problems.length) throw new Error(`${source}: ${problems.join('; ')}`);
  return { rules, destinations };
}

/** Reads and parses a rules file. */
export function readRulesFile(file: string): RulesConfig {
  return parseRules(readFileSync(file, 'utf8'), dirname(file), `rules file ${file}`);
}
