// Findings about one directory: exists, writable, not world-writable, enough free space.
// Core uses it for its own directories; plugins use it for theirs (depot, incoming).
import { accessSync, constants, mkdirSync, statSync, statfsSync, chmodSync } from 'node:fs';
import type { InspectFinding } from '../../plugins/hooks/inspect-checks.js';

/** Checks a directory the platform writes to. */
export function directoryFindings(label: string, path: string, options: { minFreeMb?: number; mode?: number } = {}): InspectFinding[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return [{
      severity: 'problem',
      title: `${label} directory ${path} does not exist`,
      why: 'the platform fails to store files there',
      fix: `mkdir -p ${path} and give it to the service user`,
      repair: { description: `create ${path}`, apply: async () => (mkdirSync(path, { recursive: true, mode: options.mode ?? 0o750 }), `created ${path}`) },
    }];
  }
  if (!stat.isDirectory()) return [{ severity: 'problem', title: `${label} path ${path} is not a directory`, why: 'the platform cannot store files there', fix: `move the file away and create a directory at ${path}` }];
  const findings: InspectFinding[] = [];
  try {
    accessSync(path, constants.W_OK);
  } catch {
    findings.push({ severity: 'problem', title: `${label} directory ${path} is not writable by this user`, why: 'writes fail there', fix: `chown the directory to the service user` });
  }
  if (stat.mode & 0o002) {
    findings.push({
      severity: 'problem',
      title: `${label} directory ${path} is world-writable (mode ${(stat.mode & 0o777).toString(8)})`,
      why: 'any local user could replace or plant files',
      fix: `chmod o-w ${path}`,
      repair: { description: `remove write permission for others on ${path}`, apply: async () => (chmodSync(path, stat.mode & 0o775), `chmod o-w ${path}`) },
    });
  }
  if (options.minFreeMb !== undefined) {
    const fs = statfsSync(path);
    const freeMb = Math.floor((Number(fs.bavail) * Number(fs.bsize)) / 1048576);
    if (freeMb < options.minFreeMb) {
      findings.push({ severity: 'problem', title: `${label} directory ${path} has ${freeMb} MiB free, below ${options.minFreeMb} MiB`, why: 'uploads fail or are lost when the disk fills up', fix: 'free space or move the directory to a larger volume' });
    }
  }
  if (!findings.length) findings.push({ severity: 'ok', title: `${label} directory ${path} is writable` });
  return findings;
}
