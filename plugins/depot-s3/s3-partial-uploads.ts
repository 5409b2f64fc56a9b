// Partial uploads on S3, resumable from any node, written straight into the final object: each
// upload is an S3 multipart upload of the object it will become (begun when the upload is
// created with its resource id), and every PATCH's bytes go out as parts as they arrive. Only a
// tail under S3's 5 MiB part minimum waits aside, as an object `incoming/<id>/tail-<start>-<end>`
// (as @tus/s3-store keeps its `.part` object), and becomes the start of the next part.
// The state (multipart upload id, the parts' sizes and ETags, the tail) is a small JSON object
// `incoming/<id>/.upload` in the store, replaced after the bytes of an append are durable: a
// node that dies mid-append leaves parts the state does not name, which the next append
// overwrites (same part numbers) and completion leaves out. Finishing completes the multipart
// upload: no byte is copied. Parts cannot be read before completion, so `readable` is false.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ConflictError, NotFoundError, ValidationError, type ByteRange, type PartialEntry, type PartialUploads, type StoredObject } from '../../core/api.js';
import { S3Error } from './s3-client.js';
import type { S3Client } from './s3-client.js';
import { MIN_PART, objectKeyOf } from './s3-layout.js';
import { emptyState, parseState, stateSize, type Tail, type UploadState } from './s3-partial-state.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const MARKER = '.upload';

const pad = (n: number): string => String(n).padStart(15, '0');

function checkId(uploadId: string): void {
  if (!ID.test(uploadId)) throw new ValidationError(`upload id ${JSON.stringify(String(uploadId).slice(0, 80))} is not 1 to 64 letters, digits, "-" or "_"`);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function asBuffer(chunk: unknown): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
}

/** What the partial uploads use of their depot (not the depot itself: it holds them). */
export interface PartialUploadsDepot {
  readonly options: { readonly bucketPrefix: string; readonly concurrency: number; readonly partSize: number };
  readonly client: S3Client;
  ensureBucket(bucket: string): Promise<void>;
  bucketFor(resourceId: string): Promise<string>;
}

/** Partial uploads of the S3 depot. */
export class S3PartialUploads implements PartialUploads {
  readonly readable = false;

  constructor(private readonly depot: PartialUploadsDepot) {}

  /** The bucket partial uploads' state and tails live in. */
  get bucket(): string {
    return `${this.depot.options.bucketPrefix}incoming`;
  }

  private get client(): S3Client {
    return this.depot.client;
  }

  private markerKey(uploadId: string): string {
    return `incoming/${uploadId}/${MARKER}`;
  }

  private async load(uploadId: string): Promise<UploadState | undefined> {
    checkId(uploadId);
    let body: Readable | undefined;
    try {
      body = await this.client.getObject(this.bucket, this.markerKey(uploadId));
    } catch (error) {
      if (error instanceof S3Error && error.code === 'NoSuchBucket') return undefined;
      throw error;
    }
    return body ? parseState((await readAll(body)).toString('utf8'), uploadId) : undefined;
  }

  private async required(uploadId: string): Promise<UploadState> {
    const state = await this.load(uploadId);
    if (!state) throw new NotFoundError(`no partial upload ${uploadId}`);
    return state;
  }

  private async save(uploadId: string, state: UploadState): Promise<void> {
    await this.client.putObject(this.bucket, this.markerKey(uploadId), Buffer.from(JSON.stringify(state)));
  }

  private async putTail(uploadId: string, start: number, bytes: Buffer): Promise<Tail> {
    const tail = { key: `incoming/${uploadId}/tail-${pad(start)}-${pad(start + bytes.length)}`, start, end: start + bytes.length };
    await this.client.putObject(this.bucket, tail.key, bytes);
    return tail;
  }

  private async readTail(tail: Tail, uploadId: string): Promise<Buffer> {
    const body = await this.client.getObject(this.bucket, tail.key);
    if (!body) throw new NotFoundError(`the last bytes (${tail.key}) of upload ${uploadId} vanished`);
    return readAll(body);
  }

  async create(uploadId: string, key?: string): Promise<void> {
    checkId(uploadId);
    await this.depot.ensureBucket(this.bucket);
    // Without the resource id the object is assembled in the incoming bucket and copied into place at the end.
    const bucket = key === undefined ? this.bucket : await this.depot.bucketFor(key);
    const objectKey = key === undefined ? `incoming/${uploadId}/object` : objectKeyOf(key);
    const multipart = await this.client.createMultipartUpload(bucket, objectKey);
    await this.save(uploadId, emptyState(bucket, objectKey, multipart));
  }

  async size(uploadId: string): Promise<number | undefined> {
    const state = await this.load(uploadId);
    return state && stateSize(state);
  }

  async append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number> {
    const state = await this.required(uploadId);
    const size = stateSize(state);
    if (offset !== size) throw new ValidationError(`offset ${offset} does not match the ${size} bytes received`);
    const { partSize, concurrency } = this.depot.options;
    const parts = [...state.parts];
    let chunks: Buffer[] = state.tail ? [await this.readTail(state.tail, uploadId)] : [];
    let held = chunks[0]?.length ?? 0;
    let written = 0;
    const sending = new Set<Promise<void>>();
    let failure: unknown;
    // A part goes out while the next one is read, at most `concurrency` at once; memory is about (concurrency + 1) parts.
    const sendPart = async (): Promise<void> => {
      const bytes = Buffer.concat(chunks, held);
      chunks = [];
      held = 0;
      const number = parts.length + 1;
      parts.push({ size: bytes.length, etag: '' });
      const sent: Promise<void> = this.client.uploadPart(state.bucket, state.key, state.multipart, number, bytes).then(
        (etag) => void (parts[number - 1] = { size: bytes.length, etag }),
        (error: unknown) => void (failure ??= error),
      );
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
      if (sending.size >= concurrency) await Promise.race(sending);
      if (failure) throw failure;
    };
    let refused: unknown;
    try {
      for await (const chunk of source) {
        const buffer = asBuffer(chunk);
        if (written + buffer.length > limit) throw new ValidationError(`more than the ${limit} bytes left were sent`);
        chunks.push(buffer);
        held += buffer.length;
        written += buffer.length;
        if (held >= partSize) await sendPart();
      }
    } catch (error) {
      // A refused append or a failed store keeps nothing; a source that failed mid-way keeps what arrived.
      if (error instanceof ValidationError || error instanceof S3Error || error === failure) refused = error;
    }
    let tail: Tail | undefined = state.tail;
    if (!refused && written > 0) {
      try {
        // What is left becomes a part when S3 takes it as one, else the tail that waits for more bytes.
        if (held >= MIN_PART) await sendPart();
        const start = size + written - held;
        tail = held > 0 ? await this.putTail(uploadId, start, Buffer.concat(chunks, held)) : undefined;
      } catch (error) {
        refused = error;
      }
    }
    await Promise.all(sending);
    refused ??= failure;
    if (refused) {
      // Parts sent are not named by the state (the next append overwrites them); a new tail goes.
      if (tail && tail.key !== state.tail?.key) await this.client.deleteObject(this.bucket, tail.key).catch(() => undefined);
      if (!source.destroyed) source.destroy();
      throw refused;
    }
    if (written === 0) return 0;
    await this.save(uploadId, { ...state, parts, tail, undo: { parts: state.parts.length, tail: state.tail } });
    // The tail two appends back is no longer needed for an undo.
    const old = state.undo?.tail;
    if (old && old.key !== state.tail?.key && old.key !== tail?.key) await this.client.deleteObject(this.bucket, old.key).catch(() => undefined);
    return written;
  }

  /**
   * Cuts back to `size`: the size before the last append (its undo), a part boundary, or a
   * point inside the tail; bytes already sent inside a part cannot be cut.
   */
  async truncate(uploadId: string, size: number): Promise<void> {
    const state = await this.required(uploadId);
    const current = stateSize(state);
    if (!Number.isSafeInteger(size) || size < 0 || size > current) throw new ValidationError(`cannot cut upload ${uploadId} of ${current} bytes to ${size}`);
    if (size === current) return;
    const undone: UploadState = state.undo ? { ...state, parts: state.parts.slice(0, state.undo.parts), tail: state.undo.tail, undo: undefined } : state;
    if (state.undo && stateSize(undone) === size) {
      await this.save(uploadId, undone);
      if (state.tail && state.tail.key !== undone.tail?.key) await this.client.deleteObject(this.bucket, state.tail.key).catch(() => undefined);
      return;
    }
    const partsEnd = state.parts.reduce((sum, part) => sum + part.size, 0);
    if (state.tail && size >= partsEnd) {
      const kept = size > partsEnd ? await this.putTail(uploadId, partsEnd, (await this.readTail(state.tail, uploadId)).subarray(0, size - partsEnd)) : undefined;
      await this.save(uploadId, { ...state, tail: kept, undo: undefined });
      await this.client.deleteObject(this.bucket, state.tail.key).catch(() => undefined);
      return;
    }
    let end = 0;
    const parts = [];
    for (const part of state.parts) {
      if (end + part.size > size) break;
      parts.push(part);
      end += part.size;
    }
    if (end !== size) throw new ValidationError(`cannot cut upload ${uploadId} to ${size} bytes: that point lies inside a part already sent to the store`);
    await this.save(uploadId, { ...state, parts, tail: undefined, undo: undefined });
    if (state.tail) await this.client.deleteObject(this.bucket, state.tail.key).catch(() => undefined);
  }

  /** Only the tail (bytes not yet sent as a part) can be read back. */
  async open(uploadId: string, range?: ByteRange): Promise<Readable> {
    const state = await this.required(uploadId);
    const size = stateSize(state);
    const { start, end } = range ?? { start: 0, end: size - 1 };
    if (range && (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= size)) {
      throw new ValidationError(`byte range ${start}-${end} is outside upload ${uploadId}, which has ${size} bytes`, { range: ['outside the file'] });
    }
    if (end < start) return Readable.from([]);
    const tail = state.tail;
    if (!tail || start < tail.start) throw new ConflictError(`bytes ${start}-${end} of upload ${uploadId} were sent to the store as parts of a multipart upload; they can be read once the upload is finished`);
    const body = await this.client.getObject(this.bucket, tail.key, { start: start - tail.start, end: end - tail.start });
    if (!body) throw new NotFoundError(`the last bytes (${tail.key}) of upload ${uploadId} vanished`);
    return body;
  }

  async finish(uploadId: string, key: string, checked: { size: number; sha256?: string }): Promise<StoredObject> {
    const objectKey = objectKeyOf(key);
    const state = await this.required(uploadId);
    const size = stateSize(state);
    if (size !== checked.size) throw new ValidationError(`upload ${uploadId} holds ${size} bytes, not ${checked.size}`);
    const bucket = await this.depot.bucketFor(key);
    const parts = [...state.parts];
    // The tail is the last part, which S3 lets be short; a file under 5 MiB is that one part.
    if (state.tail) parts.push({ size: state.tail.end - state.tail.start, etag: await this.client.uploadPart(state.bucket, state.key, state.multipart, parts.length + 1, await this.readTail(state.tail, uploadId)) });
    if (parts.length === 0) {
      await this.client.abortMultipartUpload(state.bucket, state.key, state.multipart);
      await this.client.putObject(bucket, objectKey, Buffer.alloc(0));
    } else {
      await this.client.completeMultipartUpload(state.bucket, state.key, state.multipart, parts.map((part) => part.etag));
      if (state.bucket !== bucket || state.key !== objectKey) {
        await this.client.copyObject(state.bucket, state.key, bucket, objectKey);
        await this.client.deleteObject(state.bucket, state.key);
      }
    }
    let sha256 = checked.sha256;
    if (sha256 === undefined) {
      const hash = createHash('sha256');
      const body = await this.client.getObject(bucket, objectKey);
      if (!body) throw new NotFoundError(`the finished object ${bucket}/${objectKey} vanished`);
      for await (const chunk of body) hash.update(chunk as Buffer);
      sha256 = hash.digest('hex');
    }
    await this.removeObjects(uploadId);
    return { location: `${bucket}/${objectKey}`, size, sha256 };
  }

  private async removeObjects(uploadId: string): Promise<void> {
    const keys: string[] = [];
    try {
      for await (const object of this.client.listObjects(this.bucket, `incoming/${uploadId}/`)) keys.push(object.key);
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
    }
    // The state last: while any tail remains, the upload is still listed (and can be deleted again).
    keys.sort((a, b) => Number(a.endsWith(MARKER)) - Number(b.endsWith(MARKER)));
    for (const key of keys) await this.client.deleteObject(this.bucket, key);
  }

  async delete(uploadId: string): Promise<void> {
    const state = await this.load(uploadId);
    if (state) await this.client.abortMultipartUpload(state.bucket, state.key, state.multipart);
    await this.removeObjects(uploadId);
  }

  async *list(): AsyncIterable<PartialEntry> {
    const ids = new Map<string, Date>();
    try {
      for await (const object of this.client.listObjects(this.bucket, 'incoming/')) {
        const id = object.key.split('/')[1];
        if (id && ID.test(id) && object.key.endsWith(`/${MARKER}`)) ids.set(id, object.modified);
      }
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
    }
    for (const [uploadId, modified] of ids) {
      const state = await this.load(uploadId);
      if (state) yield { uploadId, size: stateSize(state), modified };
    }
  }

  /** The multipart uploads that partial uploads are writing (they are not stale, whatever their age). */
  async multipartIds(): Promise<Set<string>> {
    const out = new Set<string>();
    for await (const entry of this.list()) {
      const state = await this.load(entry.uploadId);
      if (state) out.add(state.multipart);
    }
    return out;
  }
}
