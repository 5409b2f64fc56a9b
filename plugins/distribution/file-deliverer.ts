// Delivery of routed files: checks before sending, the rule's anonymiser if it names one, send
// while hashing the bytes that go out, verify at the destination, then archive. Every step is
// recorded, and each is safe to run again after a crash: a file found complete at its
// destination is not sent twice, and an upload cut off is resumed where the destination can.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { forEachLimited, type Logger } from '../../core/api.js';
import type { DistributionSettings } from './distribution-settings.js';
import { remoteName, type DistributedFile, type DistributionStore, type EventInput } from './distribution-store.js';
import type { FileCheckRunner } from './file-check-runner.js';
import type { DeliveryTarget, RemoteCopy, TransferProgress } from './delivery-target.js';
import type { AnonymisationStep, AnonymisedCopy } from './anonymisation-step.js';
import { DeliveryError } from './delivery-target.js';
import { hashFile } from './file-hash.js';
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
    private readonly anonymisation: AnonymisationStep,
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
    const ready: Array<{ file: DistributedFile; target: DeliveryTarget; checked: string; anonymised: AnonymisedCopy | undefined }> = [];
    const done: Array<{ file: DistributedFile; copy: RemoteCopy | undefined; detail: string }> = [];
    const limit = this.settings.sendConcurrency;
    // 1. What each file needs: only archiving, finishing an interrupted send, or checks and a send.
    await forEachLimited(files, limit, async (file) => {
      try {
        const step = await this.prepare(file, signal);
        if (step.kind === 'skip') outcome.skipped++;
        else if (step.kind === 'rejected') outcome.rejected++;
        else if (step.kind === 'done') done.push({ file, copy: step.copy, detail: step.detail });
        else ready.push({ file, target: step.target, checked: step.checked, anonymised: step.anonymised });
      } catch (error) {
        failures.push({ file, error });
      }
    });
    // 2. Mark the ones to send as `sending` (with their check results, and what the anonymiser made) in one transaction.
    const sending = await this.store.applyMany(
      ready.map(({ file, target, checked, anonymised: a }) => {
        const events: EventInput[] = [{ kind: 'checked', detail: checked }];
        if (a && !a.reused) events.push({ kind: 'anonymised', detail: `by anonymiser "${a.anonymiser}": received sha256 ${file.sha256} (${file.size} bytes), sent sha256 ${a.sha256} (${a.size} bytes)` });
        events.push({ kind: 'sending', detail: `to ${target.name}:${file.folder || '/'}${a ? ` (the anonymised copy${a.name === file.name ? '' : `, as ${a.name}`})` : ''}` });
        const fields: Partial<DistributedFile> = a ? { state: 'sending', sentSha256: a.sha256, sentSize: a.size, sentName: a.name === file.name ? undefined : a.name } : { state: 'sending' };
        return { file, fields, events, from: ['routed', 'failed', 'sending'] as const };
      }),
    );
    // 3. Send them.
    await forEachLimited(ready.filter((r) => sending.has(r.file.id)), limit, async ({ file, target, anonymised: a }) => {
      if (signal.aborted) return;
      try {
        const sent = await this.send(a ? withCopy(file, a) : file, target, signal);
        if ('rejected' in sent) {
          await this.reject(file, sent.rejected);
          outcome.rejected++;
        } else done.push({ file: { ...(a ? withCopy(file, a) : file), state: 'sending' }, copy: sent.copy, detail: `verified size ${sent.copy.size}${sent.copy.sha256 ? ' and sha256' : ''}${sent.resumed ? `; resumed from byte ${sent.resumed.offset} of an upload an earlier attempt left unfinished` : ''}` });
      } catch (error) {
        if (!signal.aborted) failures.push({ file, error });
      }
    });
    // 4. Archive the delivered ones, and record `sent` and `archived` in one transaction.
    const archived: Array<Parameters<DistributionStore['applyMany']>[0][number]> = [];
    const sentAt = new Date();
    await forEachLimited(done, limit, async ({ file, copy, detail }) => {
      try {
        const { path, original } = await this.archiveCopy(file, file.sentAt ?? sentAt);
        const events: EventInput[] = file.state === 'sent' ? [] : [{ kind: 'sent', detail: `${copy?.location ?? file.remoteLocation}: ${detail}` }];
        events.push({ kind: 'archived', detail: original ? `${relative(this.settings.root, path)} (the anonymised copy that was sent); the received original: ${relative(this.settings.root, original)}` : relative(this.settings.root, path) });
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
  private async prepare(file: DistributedFile, signal: AbortSignal): Promise<{ kind: 'skip' } | { kind: 'rejected' } | { kind: 'done'; copy: RemoteCopy | undefined; detail: string } | { kind: 'send'; target: DeliveryTarget; checked: string; anonymised: AnonymisedCopy | undefined }> {
    if (file.state === 'sent') return { kind: 'done', copy: undefined, detail: 'sent before' };
    if (file.state !== 'routed' && file.state !== 'sending' && file.state !== 'failed') return { kind: 'skip' };
    if (!file.destination || file.folder === undefined || !file.localPath || !file.sha256 || file.size === undefined) throw new DeliveryError(`file "${file.name}" is not routed to a destination`, false);
    const target = this.target(file.destination);
    if (!target) throw new DeliveryError(`destination "${file.destination}" is not declared in the rules file`, false);
    if (file.state === 'sending') {
      // The last attempt was cut off after it started sending: the destination may hold it all.
      const there = await target.stat(file.folder, remoteName(file), signal);
      if (there && matches(there, file)) return { kind: 'done', copy: there, detail: 'found complete at the destination after an interrupted attempt; not sent again' };
    }
    const checked = await this.checks.run({ name: file.name, path: file.localPath, mimeType: file.mimeType ?? 'application/octet-stream', size: file.size, sha256: file.sha256 }, signal);
    if (!checked.ok) {
      await this.reject(file, `file check "${checked.check}" refused it: ${checked.reason}`);
      return { kind: 'rejected' };
    }
    // Checks look at what was received; the rule's anonymiser then makes what is sent.
    const rule = this.anonymisation.ruleFor(file.label);
    const anonymised = rule ? await this.anonymisation.apply(file, rule, signal) : undefined;
    return { kind: 'send', target, checked: checked.passed.length ? checked.passed.join('; ') : 'no check applies', anonymised };
  }

  /** Sends while hashing the bytes that go out, then verifies what the destination holds. */
  /**
   * Sends while hashing the bytes: those that go out, and those before the offset an unfinished
   * upload is resumed from (read locally, not sent). Then verifies what the destination holds.
   */
  private async send(file: DistributedFile, target: DeliveryTarget, signal: AbortSignal): Promise<{ copy: RemoteCopy; resumed: { offset: number } | undefined } | { rejected: string }> {
    let hash = createHash('sha256');
    let bytes = 0;
    let opened = false;
    let resumed: { offset: number } | undefined;
    const { size, sha256 } = expected(file);
    const localPath = file.sentSha256 ? this.anonymisation.pathOf(file) : file.localPath!;
    const copy = await target.send(
      {
        name: remoteName(file),
        size,
        sha256,
        open: (start = 0) => {
          // A second PUT inside one send (after MKCOL) counts from the start again.
          hash = createHash('sha256');
          bytes = 0;
          opened = true;
          resumed = start > 0 ? { offset: start } : undefined;
          let skip = start;
          return this.openSource(localPath, size).pipe(
            new Transform({
              transform: (chunk: Buffer, _enc, next) => {
                bytes += chunk.length;
                hash.update(chunk);
                if (skip >= chunk.length) return void ((skip -= chunk.length), next());
                const out = skip ? chunk.subarray(skip) : chunk;
                skip = 0;
                next(null, out);
              },
            }),
          );
        },
        progress: this.progress(file, target.name, sha256),
      },
      file.folder!,
      signal,
    );
    // Not opened: the destination found the whole file there already (an upload whose answer was lost).
    const sentSha = opened ? hash.digest('hex') : sha256;
    if (sentSha !== sha256 || (opened && bytes !== size)) {
      await target.remove(file.folder!, remoteName(file), signal).catch(() => undefined);
      const what = file.sentSha256 ? 'the anonymised copy changed after it was made' : 'the file changed after it was received';
      return { rejected: `${what}, or while it was being sent (the bytes sent hash to ${sentSha.slice(0, 12)}…, not ${sha256.slice(0, 12)}…); the remote copy was removed; drop the corrected file again` };
    }
    if (!matches(copy, file)) {
      await target.remove(file.folder!, remoteName(file), signal).catch(() => undefined);
      throw new DeliveryError(`verification failed at ${target.name}: it holds ${copy.size} bytes${copy.sha256 ? ` with sha256 ${copy.sha256.slice(0, 12)}…` : ''}, expected ${size}${copy.sha256 ? ` with ${sha256.slice(0, 12)}…` : ''}; the remote copy was removed`, true);
    }
    return { copy, resumed };
  }

  /** The database record of an upload of this file in progress (for destinations that resume). */
  private progress(file: DistributedFile, destination: string, sha256: string): TransferProgress {
    return {
      load: async () => {
        const point = await this.store.transfer(file.id);
        return point && point.destination === destination ? point : undefined;
      },
      save: (point) => this.store.saveTransfer(file.id, { ...point, destination, sha256: point.sha256 || sha256 }),
      clear: () => this.store.clearTransfer(file.id),
    };
  }

  /**
   * Moves what was sent into archive/YYYY/MM/DD/, or finds it there after a crash that came
   * after the move. For a file sent anonymised, that is the anonymised copy, and the received
   * original goes to originals/YYYY/MM/DD/.
   */
  private async archiveCopy(file: DistributedFile, sentAt: Date): Promise<{ path: string; original: string | undefined }> {
    const day = dayFolder(this.settings.archiveDir, sentAt);
    const outgoing = file.localPath && !file.localPath.startsWith(this.settings.archiveDir) && (await exists(file.localPath)) ? file.localPath : undefined;
    if (file.sentSha256) {
      const original = outgoing ? await moveIntoFolder(outgoing, dayFolder(this.settings.originalsDir, sentAt), file.name) : undefined;
      const copy = this.anonymisation.pathOf(file);
      if (await exists(copy)) {
        const path = await moveIntoFolder(copy, day, remoteName(file));
        await rm(dirname(copy), { recursive: true, force: true });
        return { path, original };
      }
    } else if (outgoing) return { path: await moveIntoFolder(outgoing, day, file.name), original: undefined };
    for (const when of [sentAt, file.updatedAt, new Date(file.updatedAt.getTime() - 86_400_000)]) {
      const found = await this.findArchived(dayFolder(this.settings.archiveDir, when), file);
      if (found) return { path: found, original: undefined };
    }
    throw new DeliveryError(`"${file.name}" was delivered, but its outgoing copy is gone and no archived copy was found`, false);
  }

  private async findArchived(folder: string, file: DistributedFile): Promise<string | undefined> {
    const names = new Set(await readdir(folder).catch(() => [] as string[]));
    for (let n = 1; names.has(numberedName(remoteName(file), n)); n++) {
      const path = join(folder, numberedName(remoteName(file), n));
      if ((await hashFile(path)).sha256 === expected(file).sha256) return path;
    }
    return undefined;
  }

  private async reject(file: DistributedFile, reason: string): Promise<void> {
    let path = file.localPath;
    if (path && (await exists(path))) path = await moveIntoFolder(path, this.settings.rejectedDir, file.name);
    await rm(dirname(this.anonymisation.pathOf(file)), { recursive: true, force: true });
    await this.store.clearTransfer(file.id);
    await this.store.update(file.id, { state: 'rejected', reason, localPath: path }, { kind: 'rejected', detail: reason });
    this.logger.warn('refused a file before sending', { file: file.name, reason });
  }
}

/** The file as it is sent: its anonymised copy's hash, size and name. */
function withCopy(file: DistributedFile, copy: AnonymisedCopy): DistributedFile {
  return { ...file, sentSha256: copy.sha256, sentSize: copy.size, sentName: copy.name === file.name ? undefined : copy.name };
}

/** What the destination should hold: the anonymised copy when one was made, else the file as received. */
function expected(file: DistributedFile): { size: number; sha256: string } {
  return file.sentSha256 ? { size: file.sentSize!, sha256: file.sentSha256 } : { size: file.size!, sha256: file.sha256! };
}

function matches(copy: RemoteCopy, file: DistributedFile): boolean {
  const want = expected(file);
  return copy.size === want.size && (copy.sha256 === undefined || copy.sha256 === want.sha256);
}
