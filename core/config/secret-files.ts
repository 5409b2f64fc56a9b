// Secrets live in files that platform.ini names, never in platform.ini itself. Missing
// generated secrets are created on first start with mode 0600 (directory 0700).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import type { PlatformConfig } from './platform-config.js';

/** A new random secret: 32 bytes, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes a secret file with mode 0600, creating its directory with mode 0700. */
export function writeSecretFile(path: string, secret: string = generateSecret()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/**
 * Creates each missing secret file that is marked `x-generate`.
 * @returns the paths created.
 */
export function ensureSecretFiles(config: PlatformConfig): string[] {
  const created: string[] = [];
  for (const secret of config.secretFiles()) {
    if (secret.generate && !existsSync(secret.path)) {
      writeSecretFile(secret.path);
      created.push(secret.path);
    }
  }
  return created;
}

/**
 * Reads a secret file, trimmed.
 * @throws ConfigError naming the file (never its content) when it is missing or empty.
 */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${what}: cannot read secret file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!text) throw new ConfigError(`${what}: secret file ${path} is empty`);
  return text;
}
