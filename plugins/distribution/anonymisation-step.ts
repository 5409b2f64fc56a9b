// The per-rule anonymisation step: before a file is sent, the Anonymiser its rule names turns
// the received original into the copy that is sent. The Anonymiser hook speaks of record
// sources and destinations of a kind; distribution hands it kind "file" (a local path in, a
// local path to write out), so only anonymisers that accept files apply to distributed files.
// An anonymiser that refuses a file (a ValidationError: a format it cannot rewrite) fails the
// delivery for good; any other failure is retried.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HookRegistriesId, isPlatformError, type Anonymiser, type FileRecordDestination, type FileRecordSource, type Services } from '../../core/api.js';
import { DeliveryError } from './delivery-target.js';
import { remoteName, type DistributedFile } from './distribution-store.js';
import { hashFile } from './file-hash.js';
import type { RoutingRule } from './routing-rules.js';

/** The file source and destination of the Anonymiser hook (defined by core, for every anonymiser that takes files). */
export type { FileRecordDestination, FileRecordSource };

/** The copy to send, made by an anonymiser. */
export interface AnonymisedCopy {
  anonymiser: string;
  path: string;
  size: number;
  sha256: string;
  /** The name it is sent under: the anonymiser's (a received name can carry identifiers), else the received name. */
  name: string;
  /** Made by an earlier attempt and unchanged since (the anonymiser did not run again). */
  reused: boolean;
}

/** Applies the anonymiser a file's rule names; outputs live in `<root>/anonymised/<file id>/`. */
export class AnonymisationStep {
  constructor(
    private readonly rules: readonly RoutingRule[],
    private readonly services: () => Services,
    private readonly dir: string,
  ) {}

  /** The anonymiser (and policy) for files routed by rules of `label`, if they name one. */
  ruleFor(label: string | undefined): RoutingRule | undefined {
    return label === undefined ? undefined : this.rules.find((r) => r.label === label && r.anonymiser);
  }

  /**
   * Checks that every anonymiser the rules name is contributed by an enabled plugin.
   * @throws Error naming each rule whose anonymiser is unknown.
   */
  check(): void {
    const registry = this.services().get(HookRegistriesId).anonymisers;
    const problems = this.rules.flatMap((rule, i) =>
      rule.anonymiser && !registry.get(rule.anonymiser) ? [`rule ${i + 1} ("${rule.label}") names anonymiser "${rule.anonymiser}", which no enabled plugin contributes (${registry.names().length ? `known: ${registry.names().join(', ')}` : 'no anonymiser is contributed'})`] : [],
    );
    if (problems.length) throw new Error(`rules file: ${problems.join('; ')}`);
  }

  /** Where the copy of `file` is kept until it is archived. */
  pathOf(file: Pick<DistributedFile, 'id' | 'name'>): string {
    return join(this.dir, file.id, file.name);
  }

  /**
   * Makes the copy to send with the rule's anonymiser, or finds the one an earlier attempt
   * made (when it still hashes to the recorded `sentSha256`).
   * @throws DeliveryError when the anonymiser is unknown (not retried) or fails (retried).
   */
  async apply(file: DistributedFile, rule: RoutingRule, signal: AbortSignal): Promise<AnonymisedCopy> {
    const name = rule.anonymiser!;
    const path = this.pathOf(file);
    if (file.sentSha256) {
      const earlier = await hashFile(path, signal).catch(() => undefined);
      if (earlier && earlier.sha256 === file.sentSha256) return { anonymiser: name, path, size: earlier.size, sha256: earlier.sha256, name: remoteName(file), reused: true };
    }
    const anonymiser: Anonymiser | undefined = this.services().get(HookRegistriesId).anonymisers.get(name);
    if (!anonymiser) throw new DeliveryError(`rule "${rule.label}" names anonymiser "${name}", which no enabled plugin contributes`, false);
    await mkdir(join(this.dir, file.id), { recursive: true });
    // Written beside its final name and renamed, so a copy cut off by a crash is never sent.
    const partial = join(this.dir, file.id, `.${file.name}.partial`);
    await rm(partial, { force: true });
    const source: FileRecordSource = { kind: 'file', description: `distributed file "${file.name}"`, path: file.localPath!, name: file.name, mimeType: file.mimeType ?? 'application/octet-stream', size: file.size!, sha256: file.sha256! };
    const destination: FileRecordDestination = { kind: 'file', description: `anonymised copy of "${file.name}"`, path: partial, name: file.name };
    let sentName: string;
    try {
      const result = await anonymiser.anonymise(source, rule.anonymiserPolicy, destination);
      sentName = result.name ?? file.name;
      if (!isPlainFileName(sentName)) throw new DeliveryError(`anonymiser "${name}" (rule "${rule.label}") named the copy of "${file.name}" with something that is not a plain file name`, false);
    } catch (error) {
      if (error instanceof DeliveryError) {
        await rm(partial, { force: true });
        throw error;
      }
      await rm(partial, { force: true });
      // A refusal (the file's format, the policy) would be refused again: not retried.
      const refused = isPlatformError(error) && error.status >= 400 && error.status < 500;
      throw new DeliveryError(`anonymiser "${name}" (rule "${rule.label}") ${refused ? 'refused the file' : 'failed'}: ${(error as Error).message}`, !refused);
    }
    if (signal.aborted) throw signal.reason;
    const written = await stat(partial).catch(() => undefined);
    if (!written?.isFile()) throw new DeliveryError(`anonymiser "${name}" (rule "${rule.label}") wrote no file for "${file.name}"`, true);
    await rename(partial, path);
    const hashed = await hashFile(path, signal);
    return { anonymiser: name, path, size: hashed.size, sha256: hashed.sha256, name: sentName, reused: false };
  }
}

/** A name that can be sent as one file: no folder separator, not `.` or `..`, no control character, at most 255 bytes. */
function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\\x00-\x1f\x7f]/.test(name) && Buffer.byteLength(name) <= 255;
}
