// Delivery of routed files: checks before sending, send while hashing the bytes that go out,
// verify at the destination, then archive. Every step is recorded, and each is safe to run
// again after a crash: a file found complete at its destination is not sent twice.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { Logger } from '../../core/api.js';
import type { DistributionSettings } from './distribution-settings.js';
import type { DistributedFile, DistributionStore, EventInput } from './distribution-store.js';
import type { FileCheckRunner } from './file-check-runner.js';
import type { DeliveryTarget, RemoteCopy } from './delivery-target.js';
import { DeliveryError } from './delivery-target.js';
import { hashFile } from './file-hash.js';
import { forEachLimited } from './for-each-limited.js';
import { dayFolder, exists, moveIntoFolder, numberedName } from './archive-folder.js';

/** Opens the bytes of a file to send; replaceable so tests can change a file mid-send. */
export type SourceOpener = (path: string, size: number) => Readable;

const openWhole: SourceOpener = (path, size) => (size > 0 ? createReadStream(path, { end: size - 1 }) : Readable.from([]));

/** The outcome of a batch. */
export interface BatchOutcome {
  archived: number;
  skipped: number;
  rejected: number;
  failed: Array<{ name: string; reason: string; retryable: boolean }>;
}

/** Delivers files to their destinations. */
export class FileDeliverer {
  constructor(
    private readonly settings: DistributionSettings,
    private readonly store: DistributionStore,
    private readonly checks: FileCheckRunner,
    private readonly target: (name: string) => DeliveryTarget | undefined,
    private readonly logger: Logger,
    private readonly openSource: SourceOpener = openWhole,
  ) {}

  /**
   * Delivers a batch: checks and marks the files `sending` in one transaction, sends them
   * `send_concurrency` at a time, archives the verified ones and records them `sent` and
   * `archived` in one transaction, and the failures in another. One file's failure does not
   * stop the others. Safe to run again at any point (see {@link deliver} for the states).
   */
  async deliverBatch(fileIds: readonly string[], signal: AbortSignal): Promise<BatchOutcome> {
    const files = await this.store.getMany(fileIds);
    const outcome: BatchOutcome = { archived: 0, skipped: 0, rejected: 0, failed: [] };
    const failures: Array<{ file: DistributedFile; error: unknown }> = [];
    const ready: Array<{ file: DistributedFile; target: DeliveryTarget; checked: string }> = [];
    const done: Array<{ file: DistributedFile; copy: RemoteCopy | undefined; detail: string }> = [];
    const limit = this.settings.sendConcurrency;
    // 1. What each file needs: only archiving, finishing an interrupted send, or checks and a send.
    await forEachLimited(files, limit, async (file) => {
      try {
        const step = await this.prepare(file, signal);
        if (step.kind === 'skip') outcome.skipped++;
        else if (step.kind === 'rejected') outcome.rejected++;
        else if (step.kind === 'done') done.push({ file, copy: step.copy, detail: step.detail });
        else ready.push({ file, target: step.target, checked: step.checked });
      } catch (error) {
        failures.push({ file, error });
      }
    });
    // 2. Mark the ones to send as `sending` (with their check results) in one transaction.
    const sending = await this.store.applyMany(
      ready.map(({ file, target, checked }) => ({ file, fields: { state: 'sending' as const }, events: [{ kind: 'checked' as const, detail: checked }, { kind: 'sending' as const, detail: `to ${target.name}:${file.folder || '/'}` }], from: ['routed', 'failed', 'sending'] as const })),
    );
    // 3. Send them.
    await forEachLimited(ready.filter((r) => sending.has(r.file.id)), limit, async ({ file, target }) => {
      if (signal.aborted) return;
      try {
        const sent = await this.send(file, target, signal);
        if ('rejected' in sent) {
          await this.reject(file, sent.rejected);
          outcome.rejected++;
        } else done.push({ file: { ...file, state: 'sending' }, copy: sent.copy, detail: `verified size ${sent.copy.size}${sent.copy.sha256 ? ' and sha256' : ''}` });
      } catch (error) {
        if (!signal.aborted) failures.push({ file, error });
      }
    });
    // 4. Archive the delivered ones, and record `sent` and `archived` in one transaction.
    const archived: Array<Parameters<DistributionStore['applyMany']>[0][number]> = [];
    const sentAt = new Date();
    await forEachLimited(done, limit, async ({ file, copy, detail }) => {
      try {
        const path = await this.archiveCopy(file, file.sentAt ?? sentAt);
        const events: EventInput[] = file.state === 'sent' ? [] : [{ kind: 'sent', detail: `${copy?.location ?? file.remoteLocation}: ${detail}` }];
        events.push({ kind: 'archived', detail: relative(this.settings.root, path) });
        archived.push({ file, fields: { state: 'archived', sentAt: file.sentAt ?? sentAt, remoteLocation: copy?.location ?? file.remoteLocation, localPath: path, archivedAt: new Date(), reason: undefined }, events, from: [file.state] });
      } catch (error) {
        failures.push({ file, error });
      }
    });
    outcome.archived += (await this.store.applyMany(archived)).size;
    // 5. Record the failures (with their reasons) in one transaction.
    await this.store.applyMany(
      failures.map(({ file, error }) => {
        const retryable = !(error instanceof DeliveryError) || error.retryable;
        const reason = (error as Error).message;
        outcome.failed.push({ name: file.name, reason, retryable });
        return { file, fields: { state: 'failed' as const, reason }, events: [{ kind: 'failed' as const, detail: reason }], from: ['routed', 'sending', 'failed'] as const };
      }),
    );
    return outcome;
  }

  /** Delivers one file (a batch of one). */
  async deliver(file: DistributedFile, signal: AbortSignal): Promise<BatchOutcome> {
    return this.deliverBatch([file.id], signal);
  }

  /** Decides what a file needs before any sending. @throws DeliveryError when it cannot be delivered now. */
  private async prepare(file: DistributedFile, signal: AbortSignal): Promise<{ kind: 'skip' } | { kind: 'rejected' } | { kind: 'done'; copy: RemoteCopy | undefined; detail: string } | { kind: 'send'; target: DeliveryTarget; checked: string }> {
    if (file.state === 'sent') return { kind: 'done', copy: undefined, detail: 'sent before' };
    if (file.state !== 'routed' && file.state !== 'sending' && file.state !== 'failed') return { kind: 'skip' };
    if (!file.destination || file.folder === undefined || !file.localPath || !file.sha256 || file.size === undefined) throw new DeliveryError(`file "${file.name}" is not routed to a destination`, false);
    const target = this.target(file.destination);
    if (!target) throw new DeliveryError(`destination "${file.destination}" is not declared in the rules file`, false);
    if (file.state === 'sending') {
      // The last attempt was cut off after it started sending: the destination may hold it all.
      const there = await target.stat(file.folder, file.name, signal);
      if (there && matches(there, file)) return { kind: 'done', copy: there, detail: 'found complete at the destination after an interrupted attempt; not sent again' };
    }
    const checked = await this.checks.run({ name: file.name, path: file.localPath, mimeType: file.mimeType ?? 'application/octet-stream', size: file.size, sha256: file.sha256 }, signal);
    if (!checked.ok) {
      await this.reject(file, `file check "${checked.check}" refused it: ${checked.reason}`);
      return { kind: 'rejected' };
    }
    return { kind: 'send', target, checked: checked.passed.length ? checked.passed.join('; ') : 'no check applies' };
  }

  /** Sends while hashing the bytes that go out, then verifies what the destination holds. */
  private async send(file: DistributedFile, target: DeliveryTarget, signal: AbortSignal): Promise<{ copy: RemoteCopy } | { rejected: string }> {
    let hash = createHash('sha256');
    let bytes = 0;
    const localPath = file.localPath!;
    const size = file.size!;
    const copy = await target.send(
      {
        name: file.name,
        size,
        sha256: file.sha256!,
        open: () => {
          // A second PUT inside one send (after MKCOL) counts from the start again.
          hash = createHash('sha256');
          bytes = 0;
          return this.openSource(localPath, size).pipe(new Transform({ transform: (chunk: Buffer, _enc, next) => ((bytes += chunk.length), hash.update(chunk), next(null, chunk)) }));
        },
      },
      file.folder!,
      signal,
    );
    const sentSha = hash.digest('hex');
    if (sentSha !== file.sha256 || bytes !== size) {
      await target.remove(file.folder!, file.name, signal).catch(() => undefined);
      return { rejected: `the file changed after it was received, or while it was being sent (the bytes sent hash to ${sentSha.slice(0, 12)}…, not ${file.sha256!.slice(0, 12)}…); the remote copy was removed; drop the corrected file again` };
    }
    if (!matches(copy, file)) {
      await target.remove(file.folder!, file.name, signal).catch(() => undefined);
      throw new DeliveryError(`verification failed at ${target.name}: it holds ${copy.size} bytes${copy.sha256 ? ` with sha256 ${copy.sha256.slice(0, 12)}…` : ''}, expected ${size}${copy.sha256 ? ` with ${file.sha256!.slice(0, 12)}…` : ''}; the remote copy was removed`, true);
    }
    return { copy };
  }

  /** Moves a delivered file into archive/YYYY/MM/DD/, or finds it there after a crash that came after the move. */
  private async archiveCopy(file: DistributedFile, sentAt: Date): Promise<string> {
    if (file.localPath && !file.localPath.startsWith(this.settings.archiveDir) && (await exists(file.localPath))) return moveIntoFolder(file.localPath, dayFolder(this.settings.archiveDir, sentAt), file.name);
    for (const day of [sentAt, file.updatedAt, new Date(file.updatedAt.getTime() - 86_400_000)]) {
      const found = await this.findArchived(dayFolder(this.settings.archiveDir, day), file);
      if (found) return found;
    }
    throw new DeliveryError(`"${file.name}" was delivered, but its outgoing copy is gone and no archived copy was found`, false);
  }

  private async findArchived(folder: string, file: DistributedFile): Promise<string | undefined> {
    const names = new Set(await readdir(folder).catch(() => [] as string[]));
    for (let n = 1; names.has(numberedName(file.name, n)); n++) {
      const path = join(folder, numberedName(file.name, n));
      if ((await hashFile(path)).sha256 === file.sha256) return path;
    }
    return undefined;
  }

  private async reject(file: DistributedFile, reason: string): Promise<void> {
    let path = file.localPath;
    if (path && (await exists(path))) path = await moveIntoFolder(path, this.settings.rejectedDir, file.name);
    await this.store.update(file.id, { state: 'rejected', reason, localPath: path }, { kind: 'rejected', detail: reason });
    this.logger.warn('refused a file before sending', { file: file.name, reason });
  }
}

function matches(copy: RemoteCopy, file: DistributedFile): boolean {
  return copy.size === file.size && (copy.sha256 === undefined || copy.sha256 === file.sha256);
}
