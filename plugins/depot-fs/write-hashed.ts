// Streams a source into a file while hashing it: constant memory, no second read, and the
// file is fsynced before returning, so what the caller is told was written is on disk.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ValidationError } from '../../core/api.js';

/** Mode of every file depot-fs creates. */
export const FILE_MODE = 0o640;
/** Mode of every directory depot-fs creates. */
export const DIR_MODE = 0o750;

/** What {@link writeHashed} did. */
export interface HashedWrite {
  /** Bytes written. */
  size: number;
  /** Lowercase hex SHA-256 of the bytes written. */
  sha256: string;
  /** True when the source had more than `limit` bytes: reading stopped before the chunk that overflowed. */
  overflow: boolean;
  /** The source's error when it failed mid-way (what arrived before it is written and synced). */
  error?: unknown;
}

/** Options of {@link writeHashed}. */
export interface WriteHashedOptions {
  /** `open(2)` flags: `wx` for a new file, `r+` to write into an existing one. */
  flags: 'wx' | 'r+';
  /** Where to start writing; omitted writes from the start of a new file. */
  position?: number;
  /** Most bytes to accept. */
  limit?: number;
  /** False when the caller hashes the bytes itself (partial uploads): `sha256` is then ''. */
  hash?: boolean;
}

/** A chunk as bytes: streams may carry Buffers, other Uint8Arrays, or (object mode) strings. */
function asBytes(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new ValidationError(`the source stream yielded a ${chunk === null ? 'null' : typeof chunk} chunk; a depot stores bytes: pass a stream of Buffers, Uint8Arrays or strings`);
}

/**
 * Writes `source` to `path`, hashing as it goes.
 * A source that fails mid-way is reported in `error`, not thrown, so the caller decides
 * whether the bytes that arrived are kept (partial uploads) or removed (put).
 * @param path the file to write.
 * @param source the bytes.
 * @param options flags, start position and byte limit.
 * @returns size, sha256, whether the limit was exceeded, and the source's error if any.
 * @throws ValidationError when a chunk is not bytes; the filesystem's errors (disk full,
 * permissions). Either way the file is closed and the source destroyed first.
 */
export async function writeHashed(path: string, source: Readable, options: WriteHashedOptions): Promise<HashedWrite> {
  const limit = options.limit ?? Number.MAX_SAFE_INTEGER;
  const hash = options.hash === false ? undefined : createHash('sha256');
  const handle = await open(path, options.flags, FILE_MODE);
  let size = 0;
  let error: unknown;
  let overflow = false;
  const chunks = source[Symbol.asyncIterator]();
  // Chunks (64 KiB from a socket) are gathered into batches of about 1 MiB, written with one
  // writev each, and one batch is written while the next is read and hashed: a write per chunk,
  // awaited before the next read, held an upload at a third of the disk's rate. Four positioned
  // writes in flight were tried and were slower in the same benchmark run (a write holds one of
  // libuv's four threads, which SQLite and the other file work of the server share).
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let written = 0;
  let inflight: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    await inflight;
    if (!batchBytes) return;
    const buffers = batch;
    const position = options.position === undefined ? null : options.position + written;
    written += batchBytes;
    batch = [];
    batchBytes = 0;
    inflight = writeAll(handle, buffers, position);
    // Awaited at the next flush or below; this keeps a failure meanwhile from going unhandled.
    inflight.catch(() => undefined);
  };
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await chunks.next();
      } catch (failure) {
        // Only the source's own failure is reported; disk errors below are thrown.
        error = failure;
        break;
      }
      if (step.done) break;
      const bytes = asBytes(step.value);
      if (size + bytes.length > limit) {
        overflow = true;
        break;
      }
      hash?.update(bytes);
      batch.push(bytes);
      batchBytes += bytes.length;
      size += bytes.length;
      if (batchBytes >= BATCH_BYTES) await flush();
    }
    await flush();
    await inflight;
    await handle.sync();
  } finally {
    // Stops a source we did not read to its end (overflow, disk error) from holding its producer.
    if (!source.readableEnded) source.destroy();
    await inflight.catch(() => undefined);
    await handle.close();
  }
  return { size, sha256: hash?.digest('hex') ?? '', overflow, ...(error === undefined ? {} : { error }) };
}

/** Bytes gathered before a write. */
const BATCH_BYTES = 1024 * 1024;

/** Writes every byte of `buffers` at `position` (null: the file's current offset), however many calls that takes. */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number | null): Promise<void> {
  let rest = buffers;
  let at = position;
  while (rest.length) {
    const { bytesWritten } = await handle.writev(rest, at ?? undefined);
    if (at !== null) at += bytesWritten;
    let skip = bytesWritten;
    while (rest.length && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip) rest[0] = rest[0]!.subarray(skip);
  }
}
