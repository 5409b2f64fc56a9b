// Partial uploads on S3, readable and resumable from any node: the bytes received so far are
// objects `incoming/<upload id>/<start>-<end>` in the depot's `incoming` bucket (a marker
// `incoming/<upload id>/.upload` says the upload exists), so the state lives in the store, not
// in a process. Every piece but the last holds at least S3's 5 MiB part minimum: a short last
// piece is read back and rewritten longer by the next append (as @tus/s3-store keeps its
// `.part` object). Finishing makes the object with a multipart upload whose parts are copied
// inside the store from the pieces (no bytes pass through the node), then drops the pieces.
// Where two pieces start at the same offset (a node died between writing a longer one and
// deleting the one it replaced), the longer one holds the bytes.
import { Readable } from 'node:stream';
import { forEachLimited, NotFoundError, ValidationError, type ByteRange, type PartialEntry, type PartialUploads, type StoredObject } from '../../core/api.js';
import { S3Error } from './s3-client.js';
import type { S3Client } from './s3-client.js';
import { MIN_PART, objectKeyOf } from './s3-layout.js';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const PIECE = /^incoming\/([A-Za-z0-9_-]{1,64})\/(\d{15})-(\d{15})$/;
const MARKER = '.upload';

interface Piece {
  key: string;
  start: number;
  end: number;
}

interface UploadState {
  exists: boolean;
  /** Pieces from offset 0, each starting where the previous ended. */
  chain: Piece[];
  /** Pieces no longer part of the chain (replaced or cut off). */
  stale: Piece[];
  size: number;
  modified: Date;
}

const pad = (n: number): string => String(n).padStart(15, '0');

function checkId(uploadId: string): void {
  if (!ID.test(uploadId)) throw new ValidationError(`upload id ${JSON.stringify(String(uploadId).slice(0, 80))} is not 1 to 64 letters, digits, "-" or "_"`);
}

function chainOf(pieces: Piece[]): { chain: Piece[]; stale: Piece[] } {
  const byStart = new Map<number, Piece>();
  const stale: Piece[] = [];
  for (const piece of pieces) {
    const other = byStart.get(piece.start);
    if (!other) byStart.set(piece.start, piece);
    else if (other.end >= piece.end) stale.push(piece);
    else {
      stale.push(other);
      byStart.set(piece.start, piece);
    }
  }
  const chain: Piece[] = [];
  for (let at = 0, next = byStart.get(0); next && next.end > at; at = next.end, next = byStart.get(at)) chain.push(next);
  const inChain = new Set(chain);
  for (const piece of byStart.values()) if (!inChain.has(piece)) stale.push(piece);
  return { chain, stale };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
  constructor(private readonly depot: PartialUploadsDepot) {}

  /** The bucket partial uploads live in. */
  get bucket(): string {
    return `${this.depot.options.bucketPrefix}incoming`;
  }

  private get client() {
    return this.depot.client;
  }

  private async state(uploadId: string): Promise<UploadState> {
    checkId(uploadId);
    const pieces: Piece[] = [];
    let exists = false;
    let modified = new Date(0);
    try {
      for await (const object of this.client.listObjects(this.bucket, `incoming/${uploadId}/`)) {
        if (object.modified > modified) modified = object.modified;
        if (object.key === `incoming/${uploadId}/${MARKER}`) exists = true;
        const match = PIECE.exec(object.key);
        if (match && match[1] === uploadId) pieces.push({ key: object.key, start: Number(match[2]), end: Number(match[3]) });
      }
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
    }
    const { chain, stale } = chainOf(pieces);
    return { exists, chain, stale, size: chain.at(-1)?.end ?? 0, modified };
  }

  private async putPiece(uploadId: string, start: number, bytes: Buffer): Promise<Piece> {
    const piece = { key: `incoming/${uploadId}/${pad(start)}-${pad(start + bytes.length)}`, start, end: start + bytes.length };
    await this.client.putObject(this.bucket, piece.key, bytes);
    return piece;
  }

  private async dropPieces(pieces: Piece[]): Promise<void> {
    for (const piece of pieces) await this.client.deleteObject(this.bucket, piece.key);
  }

  async create(uploadId: string): Promise<void> {
    checkId(uploadId);
    await this.depot.ensureBucket(this.bucket);
    await this.client.putObject(this.bucket, `incoming/${uploadId}/${MARKER}`, Buffer.alloc(0));
  }

  async size(uploadId: string): Promise<number | undefined> {
    const state = await this.state(uploadId);
    return state.exists ? state.size : undefined;
  }

  async append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number> {
    const state = await this.state(uploadId);
    if (!state.exists) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (offset !== state.size) throw new ValidationError(`offset ${offset} does not match the ${state.size} bytes received`);
    // Pieces beyond a gap (a node died while later pieces were already written) are not part
    // of the upload: they go before new ones could be mistaken for a continuation.
    await this.dropPieces(state.stale);
    const tail = state.chain.at(-1);
    const merge = tail !== undefined && tail.end - tail.start < MIN_PART ? tail : undefined;
    let start = merge ? merge.start : offset;
    let chunks: Buffer[] = merge ? [await readAll((await this.client.getObject(this.bucket, merge.key)) ?? Readable.from([]))] : [];
    let held = chunks[0]?.length ?? 0;
    let fresh = 0;
    let written = 0;
    const added: Piece[] = [];
    // Pieces are sent while the next ones are read, at most `concurrency` at once.
    const sending = new Set<Promise<void>>();
    let failure: unknown;
    const flush = async (): Promise<void> => {
      if (fresh === 0) return;
      const bytes = Buffer.concat(chunks, held);
      const piece = { key: `incoming/${uploadId}/${pad(start)}-${pad(start + bytes.length)}`, start, end: start + bytes.length };
      added.push(piece);
      start = piece.end;
      chunks = [];
      held = 0;
      fresh = 0;
      const sent: Promise<void> = this.client.putObject(this.bucket, piece.key, bytes).then(
        () => undefined,
        (error: unknown) => void (failure ??= error),
      );
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
      if (sending.size >= this.depot.options.concurrency) await Promise.race(sending);
      if (failure) throw failure;
    };
    let refused: unknown;
    try {
      for await (const chunk of source) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        if (written + buffer.length > limit) throw new ValidationError(`more than the ${limit} bytes left were sent`);
        chunks.push(buffer);
        held += buffer.length;
        fresh += buffer.length;
        written += buffer.length;
        if (held >= this.depot.options.partSize) await flush();
      }
    } catch (error) {
      // A refused append or a failed store keeps nothing; a source that failed mid-way keeps what arrived.
      if (error instanceof ValidationError || error instanceof S3Error || error === failure) refused = error;
    }
    if (!refused) await flush().catch((error: unknown) => void (refused = error));
    await Promise.all(sending);
    refused ??= failure;
    if (refused) {
      // Nothing of a refused append is kept: the pieces it wrote go, the old tail stays.
      await this.dropPieces(added).catch(() => undefined);
      if (!source.destroyed) source.destroy();
      throw refused;
    }
    if (merge && added.some((piece) => piece.start === merge.start)) await this.client.deleteObject(this.bucket, merge.key);
    return written;
  }

  async truncate(uploadId: string, size: number): Promise<void> {
    const state = await this.state(uploadId);
    if (!state.exists) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (!Number.isSafeInteger(size) || size < 0 || size > state.size) throw new ValidationError(`cannot cut upload ${uploadId} of ${state.size} bytes to ${size}`);
    for (const piece of state.chain) {
      if (piece.start >= size) await this.client.deleteObject(this.bucket, piece.key);
      else if (piece.end > size) {
        const kept = await readAll((await this.client.getObject(this.bucket, piece.key, { start: 0, end: size - piece.start - 1 })) ?? Readable.from([]));
        await this.putPiece(uploadId, piece.start, kept);
        await this.client.deleteObject(this.bucket, piece.key);
      }
    }
    await this.dropPieces(state.stale);
  }

  async open(uploadId: string, range?: ByteRange): Promise<Readable> {
    const state = await this.state(uploadId);
    if (!state.exists) throw new NotFoundError(`no partial upload ${uploadId}`);
    const { start, end } = range ?? { start: 0, end: state.size - 1 };
    if (range && (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end >= state.size)) {
      throw new ValidationError(`byte range ${start}-${end} is outside upload ${uploadId}, which has ${state.size} bytes`, { range: ['outside the file'] });
    }
    const client = this.client;
    const bucket = this.bucket;
    const pieces = state.chain.filter((piece) => piece.end > start && piece.start <= end);
    async function* bytes(): AsyncIterable<Buffer> {
      for (const piece of pieces) {
        const from = Math.max(start, piece.start) - piece.start;
        const to = Math.min(end, piece.end - 1) - piece.start;
        const body = await client.getObject(bucket, piece.key, { start: from, end: to });
        if (!body) throw new NotFoundError(`piece ${piece.key} of upload ${uploadId} vanished`);
        for await (const chunk of body) yield chunk as Buffer;
      }
    }
    return Readable.from(bytes());
  }

  async finish(uploadId: string, key: string, checked: { size: number; sha256: string }): Promise<StoredObject> {
    const objectKey = objectKeyOf(key);
    const state = await this.state(uploadId);
    if (!state.exists) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (state.size !== checked.size) throw new ValidationError(`upload ${uploadId} holds ${state.size} bytes, not ${checked.size}`);
    const bucket = await this.depot.bucketFor(key);
    if (state.chain.length === 0) await this.client.putObject(bucket, objectKey, Buffer.alloc(0));
    else if (state.chain.length === 1) await this.client.copyObject(this.bucket, state.chain[0]!.key, bucket, objectKey);
    else {
      const multipart = await this.client.createMultipartUpload(bucket, objectKey);
      try {
        const etags: string[] = [];
        // Copies inside the store, several at once: no bytes pass through this node.
        await forEachLimited(state.chain, 4, async (piece, i) => {
          etags[i] = await this.client.uploadPartCopy(bucket, objectKey, multipart, i + 1, this.bucket, piece.key);
        });
        await this.client.completeMultipartUpload(bucket, objectKey, multipart, etags);
      } catch (error) {
        await this.client.abortMultipartUpload(bucket, objectKey, multipart).catch(() => undefined);
        throw error;
      }
    }
    await this.delete(uploadId);
    return { location: `${bucket}/${objectKey}`, size: checked.size, sha256: checked.sha256 };
  }

  async delete(uploadId: string): Promise<void> {
    checkId(uploadId);
    const keys: string[] = [];
    try {
      for await (const object of this.client.listObjects(this.bucket, `incoming/${uploadId}/`)) keys.push(object.key);
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
    }
    // The marker last: while any piece remains, the upload is still listed (and can be deleted again).
    keys.sort((a, b) => Number(a.endsWith(MARKER)) - Number(b.endsWith(MARKER)));
    for (const key of keys) await this.client.deleteObject(this.bucket, key);
  }

  async *list(): AsyncIterable<PartialEntry> {
    const ids = new Set<string>();
    try {
      for await (const object of this.client.listObjects(this.bucket, 'incoming/')) {
        const id = object.key.split('/')[1];
        if (id && ID.test(id)) ids.add(id);
      }
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'NoSuchBucket')) throw error;
    }
    for (const uploadId of ids) {
      const state = await this.state(uploadId);
      yield { uploadId, size: state.size, modified: state.modified };
    }
  }
}
