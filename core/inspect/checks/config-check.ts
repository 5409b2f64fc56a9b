// The config check: platform.ini parses and validates (every problem at once), secret
// files are present, strong and private, and the file itself is not world-readable. It
// runs before the host starts, so it works on a configuration too broken to start from.
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import type { InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import { ConfigError, PluginError } from '../../errors.js';
import type { PlatformConfig } from '../../config/platform-config.js';
import { writeSecretFile } from '../../config/secret-files.js';

/** A secret shorter than this is weak (a generated one has 43 characters). */
export const MIN_SECRET_LENGTH = 32;

/** Findings about the configuration file itself; `config` when it validated. */
export function configFileFindings(file: string, startError: unknown): InspectFinding[] {
  if (!existsSync(file)) {
    return [{ severity: 'problem', title: `configuration file ${file} does not exist`, why: 'the platform cannot start', fix: `write one with: platform init --config ${file}` }];
  }
  const findings: InspectFinding[] = [];
  if (startError instanceof ConfigError) {
    findings.push({ severity: 'problem', title: `configuration is invalid: ${startError.problems.length || 1} problem(s)`, why: 'the platform refuses to start', fix: `edit ${file}`, details: startError.problems.length ? startError.problems : [startError.message] });
  } else if (startError instanceof PluginError) {
    findings.push({ severity: 'problem', title: `plugin ${startError.plugin} does not load`, why: 'the platform refuses to start', fix: 'install the plugin, fix it, or remove it from [platform] plugins', details: [startError.message] });
  } else if (startError) {
    throw startError;
  } else {
    findings.push({ severity: 'ok', title: `${file} is valid` });
  }
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o004) {
    findings.push({
      severity: 'problem',
      title: `${file} is readable by every user (mode ${mode.toString(8)})`,
      why: 'it names the secret files and the database; keep it to the service user',
      fix: `chmod o-rwx ${file}`,
      repair: { description: `remove access for others on ${file}`, apply: async () => (chmodSync(file, mode & 0o770), `chmod o-rwx ${file}`) },
    });
  }
  return findings;
}

/** Findings about each secret file the configuration names. */
export function secretFindings(config: PlatformConfig): InspectFinding[] {
  const findings: InspectFinding[] = [];
  for (const secret of config.secretFiles()) {
    const label = `[${secret.section}] ${secret.key}`;
    if (!existsSync(secret.path)) {
      findings.push({
        severity: 'problem',
        title: `secret file ${secret.path} (${label}) is missing`,
        why: 'the platform cannot start without it',
        fix: secret.generate ? `platform inspect --repair generates it` : `create it with the secret, mode 0600`,
        ...(secret.generate ? { repair: { description: `generate a new secret in ${secret.path} (mode 0600)`, apply: async () => (writeSecretFile(secret.path), `generated ${secret.path}`) } } : {}),
      });
      continue;
    }
    const mode = statSync(secret.path).mode & 0o777;
    if (mode & 0o077) {
      findings.push({
        severity: 'problem',
        title: `secret file ${secret.path} (${label}) is readable by others (mode ${mode.toString(8)})`,
        why: 'anyone who reads it can forge or check API tokens',
        fix: `chmod 600 ${secret.path}`,
        repair: { description: `chmod 600 ${secret.path}`, apply: async () => (chmodSync(secret.path, 0o600), `chmod 600 ${secret.path}`) },
      });
    }
    const length = readFileSync(secret.path, 'utf8').trim().length;
    if (secret.generate && length < MIN_SECRET_LENGTH) {
      findings.push({ severity: 'problem', title: `secret in ${secret.path} (${label}) is weak: ${length} characters`, why: 'a short key can be guessed', fix: `replace it with a random one (existing API tokens then stop working and must be re-issued)` });
    }
    if (!findings.some((f) => f.title.includes(secret.path))) findings.push({ severity: 'ok', title: `secret file ${secret.path} is present and private` });
  }
  return findings;
}
