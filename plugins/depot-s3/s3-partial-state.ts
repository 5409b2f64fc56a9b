// The state of one S3 partial upload, as kept in the store (`incoming/<id>/.upload`): which
// multipart upload it writes, the parts sent so far, the tail waiting for more bytes, and
// what the last append changed (so a chunk that failed its checksum can be dropped again).
import { ValidationError } from '../../core/api.js';

/** Bytes under S3's part minimum, kept as an object until more arrive. */
export interface Tail {
  key: string;
  start: number;
  end: number;
}

/** One part sent to the multipart upload (numbered by its place, from 1). */
export interface SentPart {
  size: number;
  etag: string;
}

/** The state of a partial upload. */
export interface UploadState {
  /** Where the multipart upload writes. */
  bucket: string;
  key: string;
  /** The multipart upload id. */
  multipart: string;
  parts: SentPart[];
  tail?: Tail | undefined;
  /** The parts count and tail before the last append. */
  undo?: { parts: number; tail?: Tail | undefined } | undefined;
}

/** A new upload's state. */
export function emptyState(bucket: string, key: string, multipart: string): UploadState {
  return { bucket, key, multipart, parts: [] };
}

/** Bytes received: the parts and the tail. */
export function stateSize(state: UploadState): number {
  return state.parts.reduce((sum, part) => sum + part.size, 0) + (state.tail ? state.tail.end - state.tail.start : 0);
}

const isTail = (value: unknown): value is Tail => {
  const tail = value as Tail;
  return typeof tail === 'object' && tail !== null && typeof tail.key === 'string' && Number.isSafeInteger(tail.start) && Number.isSafeInteger(tail.end) && tail.end > tail.start;
};

/** Reads a stored state. @throws ValidationError when it is not one (written by something else). */
export function parseState(text: string, uploadId: string): UploadState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const state = value as UploadState | undefined;
  const valid =
    typeof state === 'object' && state !== null &&
    typeof state.bucket === 'string' && typeof state.key === 'string' && typeof state.multipart === 'string' &&
    Array.isArray(state.parts) && state.parts.every((p) => Number.isSafeInteger(p?.size) && p.size > 0 && typeof p.etag === 'string') &&
    (state.tail === undefined || isTail(state.tail)) &&
    (state.undo === undefined || (Number.isSafeInteger(state.undo.parts) && (state.undo.tail === undefined || isTail(state.undo.tail))));
  if (!valid) throw new ValidationError(`the state of partial upload ${uploadId} in the store is not one this depot wrote`);
  return state;
}
