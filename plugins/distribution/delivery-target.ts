// The transport of one destination, as delivery uses it (the platform's Distribution hook is
// about whole deliveries, not transports; see docs/distribution.md).
import type { Readable } from 'node:stream';

/** A file to send: its bytes come from `open()`, which delivery hashes while they go out. */
export interface OutgoingFile {
  name: string;
  size: number;
  sha256: string;
  /**
   * Opens the bytes to send from `start` (default 0) to the end: a fresh stream for each call.
   * Delivery still reads and hashes the bytes before `start` (the ones an earlier attempt sent).
   */
  open(start?: number): Readable;
  /** Where a destination that can resume (tus) finds and records how far an upload got. */
  progress?: TransferProgress;
}

/** How far an unfinished upload of these bytes got: its URL at the destination and the offset it acknowledged. */
export interface UploadPoint {
  url: string;
  offset: number;
  /** The folder it goes into and the sha256 of the bytes it was started for (resumed only for the same). */
  folder: string;
  sha256: string;
}

/** Delivery's record of an upload in progress, kept in the database across attempts and restarts. */
export interface TransferProgress {
  /** The upload an earlier attempt left unfinished, if one was recorded. */
  load(): Promise<UploadPoint | undefined>;
  /** Records the upload and the offset the destination acknowledged. */
  save(point: UploadPoint): Promise<void>;
  /** Forgets it (finished, or gone at the destination). */
  clear(): Promise<void>;
}

/** What the destination holds after a send, as far as it can tell. */
export interface RemoteCopy {
  /** Where it is, for the audit trail: a URL without credentials, a path, or `resource:<id>`. */
  location: string;
  size: number;
  /** Only when the destination can tell (a local folder, a platform resource, a WebDAV read-back). */
  sha256?: string;
}

/** A failure the destination reported, with whether retrying can help. */
export class DeliveryError extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One destination's transport. */
export interface DeliveryTarget {
  readonly name: string;
  readonly kind: string;
  /** Sends a file into `folder` under its name; resolves once the destination has all of it. */
  send(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<RemoteCopy>;
  /** What is at `folder/name` now, or undefined (to verify, and after an interrupted attempt). */
  stat(folder: string, name: string, signal: AbortSignal): Promise<RemoteCopy | undefined>;
  /** Removes `folder/name` (a copy that turned out wrong). */
  remove(folder: string, name: string, signal: AbortSignal): Promise<void>;
  /** The URL path a recipient fetches it by, for matching access-log lines (web servers only). */
  publicPath?(folder: string, name: string): string;
  close(): Promise<void>;
}
