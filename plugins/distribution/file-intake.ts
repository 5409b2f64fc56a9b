// Intake: where files enter distribution (drop folder, `distribution send`, uploads). Each is
// checked for name, length, MIME type (sniffed) and duplicates (by name and sha256), moved to
// outgoing/ and routed; a refused file goes to rejected/ with its reason recorded.
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { forEachLimited, type Logger } from '../../core/api.js';
import type { DistributionSettings } from './distribution-settings.js';
import type { DistributedFile, DistributionStore, FileSource, NewFile } from './distribution-store.js';
import type { Router } from './routing-rules.js';
import { hashFile } from './file-hash.js';
import { sniffMimeType } from './mime-sniffer.js';
import { moveFile, moveIntoFolder } from './archive-folder.js';

const CHUNK = 200;

/** What happened to one file handed in. */
export type IntakeResult =
  | { name: string; outcome: 'routed'; file: DistributedFile }
  | { name: string; outcome: 'unroutable'; file: DistributedFile; reason: string }
  | { name: string; outcome: 'rejected'; reason: string; rejectedPath: string | undefined }
  /** Could not be taken now (e.g. unreadable); left where it is, for the next attempt. */
  | { name: string; outcome: 'error'; reason: string };

/** How a file is handed in. */
export interface IntakeSource {
  source: FileSource;
  /** Where it came from (drop path, CLI path, `resource:<id>`), for the trail. */
  ref?: string;
  /** Move (drop folder) or copy (CLI, uploads: the original stays where it is). */
  mode: 'move' | 'copy';
  actor?: string;
  address?: string;
  /** The name to use when the path's base name is not it (uploads). */
  name?: string;
}

/** Takes files in and schedules their delivery. */
export class FileIntake {
  constructor(
    private readonly settings: DistributionSettings,
    private readonly store: DistributionStore,
    private readonly router: () => Router,
    private readonly schedule: (fileIds: string[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Name problems, or undefined. */
  nameProblem(name: string): string | undefined {
    if (name.length > this.settings.maxNameLength) return `the name is ${name.length} characters long; at most ${this.settings.maxNameLength} are allowed (max_name_length)`;
    if (!this.settings.namePatterns.some((p) => p.test(name))) return `the name "${name}" matches none of the name patterns (${this.settings.namePatterns.map((p) => p.source).join(' ')})`;
    return undefined;
  }

  /**
   * Takes files in, in chunks (one database transaction for the records of a chunk, one for
   * their routes), and schedules the routed ones. Never throws for one bad file: a file that
   * cannot be read now is left where it is (`error`), for the next attempt.
   */
  async takeFiles(paths: readonly string[], how: IntakeSource, concurrency = 4): Promise<IntakeResult[]> {
    const results: IntakeResult[] = [];
    for (let i = 0; i < paths.length; i += CHUNK) {
      const chunk = await this.takeChunk(paths.slice(i, i + CHUNK), how, concurrency);
      await this.schedule(chunk.filter((r): r is Extract<IntakeResult, { outcome: 'routed' }> => r.outcome === 'routed').map((r) => r.file.id));
      results.push(...chunk);
    }
    return results;
  }

  private async takeChunk(paths: readonly string[], how: IntakeSource, concurrency: number): Promise<IntakeResult[]> {
    const event = { ...(how.actor ? { actor: how.actor } : {}), ...(how.address ? { address: how.address } : {}) };
    const results: IntakeResult[] = new Array(paths.length);
    const candidates: Array<{ index: number; path: string; file: NewFile }> = [];
    // 1. Look at each file: name, content type, size and sha256 (in parallel).
    await forEachLimited(paths, concurrency, async (path, index) => {
      const name = how.name ?? basename(path);
      const base = { name, source: how.source, ...(how.ref ? { sourceRef: how.ref } : {}) };
      try {
        const problem = this.nameProblem(name);
        if (problem) return void (results[index] = await this.reject(path, how, base, problem, event));
        const { size, sha256, head } = await hashFile(path);
        const mimeType = sniffMimeType(head);
        const described = { ...base, size, sha256, mimeType };
        if (!this.settings.mimeTypes.includes(mimeType)) {
          return void (results[index] = await this.reject(path, how, described, `its content is ${mimeType}; accepted are ${this.settings.mimeTypes.join(', ')} (sniffed from the bytes, not the extension)`, event));
        }
        candidates.push({ index, path, file: { ...described, localPath: join(this.settings.outgoingDir, name) } });
      } catch (error) {
        results[index] = this.leftInPlace(path, how, error);
      }
    });
    candidates.sort((a, b) => a.index - b.index);
    // 2. Record them in one transaction; duplicates (of earlier files or within the chunk) are refused.
    const outcomes = await this.store.receiveMany(candidates.map((c) => ({ file: c.file, event: { kind: 'received' as const, detail: receivedFrom(how), ...event } })));
    const received: Array<{ index: number; path: string; file: DistributedFile }> = [];
    await forEachLimited(candidates, concurrency, async (c, i) => {
      const outcome = outcomes[i]!;
      if ('file' in outcome) return void received.push({ index: c.index, path: c.path, file: outcome.file });
      const d = outcome.duplicateOf;
      // The same file, recorded before a crash left it where it came from: take it up again.
      if (d.sha256 === c.file.sha256 && d.name === c.file.name && d.state === 'received' && !(await present(d.localPath))) return void received.push({ index: c.index, path: c.path, file: d });
      const what = outcome.by === 'name' ? `a file named "${c.file.name}"` : `a file with the same content (sha256 ${c.file.sha256!.slice(0, 12)}…) named "${d.name}"`;
      results[c.index] = await this.reject(c.path, how, c.file, `duplicate: ${what} was received ${d.receivedAt.toISOString()} and is ${d.state}`, event, 'duplicate');
    });
    // 3. Move (or copy) them to outgoing/, then route them all in one transaction.
    await mkdir(this.settings.outgoingDir, { recursive: true });
    const moved: DistributedFile[] = [];
    await forEachLimited(received, concurrency, async (r) => {
      try {
        if (how.mode === 'move') await moveFile(r.path, r.file.localPath!);
        else await copyFile(r.path, r.file.localPath!);
        moved.push(r.file);
      } catch (error) {
        results[r.index] = this.leftInPlace(r.path, how, error);
      }
    });
    const routed = new Map((await this.routeMany(moved)).map((r) => [r.file.id, r]));
    for (const r of received) if (routed.has(r.file.id)) results[r.index] = routed.get(r.file.id)!;
    return results;
  }

  private leftInPlace(path: string, how: IntakeSource, error: unknown): IntakeResult {
    const reason = (error as Error).message;
    this.logger.warn('could not take a file in; it stays where it is', { file: basename(path), error: reason });
    return { name: how.name ?? basename(path), outcome: 'error', reason };
  }

  /** Routes received (or unroutable) files and records the routes in one transaction. */
  async routeMany(files: readonly DistributedFile[]): Promise<Array<Extract<IntakeResult, { file: DistributedFile }>>> {
    const router = this.router();
    const results: Array<Extract<IntakeResult, { file: DistributedFile }>> = [];
    const changes: Array<Parameters<DistributionStore['applyMany']>[0][number]> = [];
    for (const file of files) {
      const outcome = await router.route({ name: file.name, mimeType: file.mimeType ?? 'application/octet-stream', receivedAt: file.receivedAt });
      if ('unroutable' in outcome) {
        changes.push({ file, fields: { state: 'unroutable', reason: outcome.unroutable }, events: [{ kind: 'unroutable', detail: outcome.unroutable }], from: ['received', 'unroutable'] });
        results.push({ name: file.name, outcome: 'unroutable', file: { ...file, state: 'unroutable', reason: outcome.unroutable }, reason: outcome.unroutable });
        continue;
      }
      const r = outcome.route;
      const fields = { state: 'routed' as const, reason: undefined, label: r.label, tag: r.tag, destination: r.base, folder: r.folder };
      changes.push({ file, fields, events: [{ kind: 'routed', detail: `rule ${r.label}, tag ${r.tag} → ${r.base}:${r.folder || '/'}` }], from: ['received', 'unroutable'] });
      results.push({ name: file.name, outcome: 'routed', file: { ...file, ...fields } });
    }
    const applied = await this.store.applyMany(changes);
    return results.filter((r) => applied.has(r.file.id));
  }

  /** Routes the files held as unroutable again (after the folders table changed); schedules those now routed. */
  async rerouteHeld(): Promise<{ routed: number; stillUnroutable: number }> {
    const held = await this.store.list({ state: 'unroutable', limit: 100_000 });
    const routed = (await this.routeMany(held)).filter((r) => r.outcome === 'routed').map((r) => r.file.id);
    await this.schedule(routed);
    return { routed: routed.length, stillUnroutable: held.length - routed.length };
  }

  private async reject(path: string, how: IntakeSource, file: Parameters<DistributionStore['recordRejected']>[0], reason: string, event: { actor?: string; address?: string }, kind: 'rejected' | 'duplicate' = 'rejected'): Promise<IntakeResult> {
    let rejectedPath: string | undefined;
    try {
      rejectedPath = how.mode === 'move' ? await moveIntoFolder(path, this.settings.rejectedDir, file.name) : await copyInto(path, this.settings.rejectedDir, file.name);
    } catch (error) {
      this.logger.warn('could not put a refused file into rejected/', { file: file.name, error: (error as Error).message });
    }
    await this.store.recordRejected({ ...file, ...(rejectedPath ? { localPath: rejectedPath } : {}) }, reason, { ...event, detail: receivedFrom(how) }, kind);
    this.logger.info('refused a file', { file: file.name, reason });
    return { name: file.name, outcome: 'rejected', reason, rejectedPath };
  }
}

/** The detail of a `received` event: where the file came from. */
function receivedFrom(how: IntakeSource): string {
  return how.ref ? `from ${how.source} ${how.ref}` : `from ${how.source}`;
}

async function present(path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function copyInto(source: string, folder: string, name: string): Promise<string> {
  const temp = join(folder, `.${name}.${process.pid}.copy`);
  await mkdir(folder, { recursive: true });
  await copyFile(source, temp);
  try {
    return await moveIntoFolder(temp, folder, name);
  } finally {
    await rm(temp, { force: true });
  }
}
