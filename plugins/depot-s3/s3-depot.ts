// The S3 depot: resources as private objects, one bucket per organisation (created on
// demand), written with multipart uploads in bounded memory while hashing, so an object
// appears whole or not at all; ranged reads; presigned GET URLs for redirect downloads.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { contentDisposition, NotFoundError, ValidationError, type ByteRange, type Depot, type DepotEntry, type StoredObject } from '../../core/api.js';
import { S3Error, type S3Client } from './s3-client.js';
import { bucketOf, objectKeyOf, parseLocation } from './s3-layout.js';
export { MIN_PART } from './s3-layout.js';
import { S3PartialUploads } from './s3-partial-uploads.js';

/** How the depot is set up. */
export interface S3DepotOptions {
  /** Buckets are `<prefix><organisation name>`. */
  bucketPrefix: string;
  /** Bytes per multipart part (at least 5 MiB); memory per upload is about (concurrency + 1) parts. */
  partSize: number;
  /** Parts of one upload sent at once. */
  concurrency: number;
  /** The organisation owning a resource id, or undefined (then the `<prefix>shared` bucket is used). */
  organisationOf(resourceId: string): Promise<string | undefined>;
  /** Public downloads: `redirect` to a presigned URL (the default) or `stream` through the platform. */
  downloads?: 'redirect' | 'stream';
  /** How long a download redirect is valid (default 300 s). */
  presignSeconds?: number;
}

/** Reads `source` into pieces of at least `size` bytes, calling `onPiece` for each, and the last (possibly short) one with `last`. */
export async function forEachPiece(source: Readable, size: number, onPiece: (piece: Buffer, last: boolean) => Promise<void>): Promise<void> {
  let chunks: Buffer[] = [];
  let held = 0;
  for await (const chunk of source) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    chunks.push(buffer);
    held += buffer.length;
    if (held >= size) {
      const piece = Buffer.concat(chunks, held);
      chunks = [];
      held = 0;
      await onPiece(piece, false);
    }
  }
  await onPiece(Buffer.concat(chunks, held), true);
}

function checkRange(range: ByteRange, location: string): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new ValidationError(`byte range ${String(start)}-${String(end)} of ${location} is not a range: start and end are whole numbers with 0 <= start <= end (end inclusive)`, { range: ['not a byte range'] });
  }
}

/** The S3 depot. */
export class S3Depot implements Depot {
  readonly name = 's3';
  readonly partials: S3PartialUploads;
  private readonly buckets = new Set<string>();

  private readonly clientSource: S3Client | (() => S3Client);

  /** @param client the client, or a function making it when first needed (keys are read then). */
  constructor(
    client: S3Client | (() => S3Client),
    readonly options: S3DepotOptions,
  ) {
    this.clientSource = client;
    this.partials = new S3PartialUploads(this);
  }

  /** The S3 client. */
  get client(): S3Client {
    return typeof this.clientSource === 'function' ? this.clientSource() : this.clientSource;
  }

  /** A presigned GET for a public download, or undefined when downloads are streamed. */
  async downloadUrl(location: string, options: { filename: string; contentType: string }): Promise<string | undefined> {
    if (this.options.downloads === 'stream') return undefined;
    return this.presignedUrl(location, this.options.presignSeconds ?? 300, { contentDisposition: contentDisposition(options.filename), contentType: options.contentType });
  }

  /** The bucket a resource's object goes to, created if this process has not seen it yet. */
  async bucketFor(resourceId: string): Promise<string> {
    const organisation = await this.options.organisationOf(resourceId);
    const bucket = organisation === undefined ? `${this.options.bucketPrefix}shared` : bucketOf(this.options.bucketPrefix, organisation);
    await this.ensureBucket(bucket);
    return bucket;
  }

  /** Creates a bucket once per process (creating an owned bucket again is harmless, so nodes need not agree). */
  async ensureBucket(bucket: string): Promise<void> {
    if (this.buckets.has(bucket)) return;
    await this.client.createBucket(bucket);
    this.buckets.add(bucket);
  }

  /**
   * Streams `source` into the object of `key`: one PUT when it fits in a part, else a
   * multipart upload completed only after size and sha256 are checked (aborted otherwise),
   * so a failed or refused write leaves the previous object, if any, as it was.
   */
  async put(key: string, source: Readable, expect?: { size?: number; sha256?: string }): Promise<StoredObject> {
    const objectKey = objectKeyOf(key);
    if (expect?.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(expect.sha256)) throw new ValidationError(`expected sha256 ${JSON.stringify(expect.sha256)} is not 64 hex digits`, { sha256: ['is not a sha256'] });
    const bucket = await this.bucketFor(key);
    const hash = createHash('sha256');
    let size = 0;
    let uploadId: string | undefined;
    const etags: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const check = (final: boolean): void => {
      if (expect?.size !== undefined && size > expect.size) throw new ValidationError(`size mismatch for ${key}: expected ${expect.size} bytes, received more than that; nothing was stored`, { size: ['larger than expected'] });
      if (!final) return;
      if (expect?.size !== undefined && size !== expect.size) throw new ValidationError(`size mismatch for ${key}: expected ${expect.size} bytes, received ${size}; nothing was stored`, { size: ['differs from the expected size'] });
    };
    const checkHash = (sha256: string): void => {
      if (expect?.sha256 !== undefined && expect.sha256.toLowerCase() !== sha256) throw new ValidationError(`checksum mismatch for ${key}: expected sha256 ${expect.sha256.toLowerCase()}, received ${sha256}; nothing was stored`, { sha256: ['differs from the expected sha256'] });
    };
    try {
      let single: Buffer | undefined;
      await forEachPiece(source, this.options.partSize, async (piece, last) => {
        hash.update(piece);
        size += piece.length;
        check(false);
        if (last && uploadId === undefined) {
          single = piece;
          return;
        }
        if (last && piece.length === 0) return;
        uploadId ??= await this.client.createMultipartUpload(bucket, objectKey);
        const number = etags.length + 1;
        etags.push('');
        const id = uploadId;
        const sending: Promise<void> = this.client.uploadPart(bucket, objectKey, id, number, piece).then((etag) => {
          etags[number - 1] = etag;
        });
        inFlight.add(sending);
        void sending.catch(() => undefined).finally(() => inFlight.delete(sending));
        if (inFlight.size >= this.options.concurrency || last) await Promise.race(inFlight);
      });
      await Promise.all(inFlight);
      check(true);
      const sha256 = hash.digest('hex');
      checkHash(sha256);
      if (uploadId === undefined) await this.client.putObject(bucket, objectKey, single ?? Buffer.alloc(0));
      else await this.client.completeMultipartUpload(bucket, objectKey, uploadId, etags);
      return { location: `${bucket}/${objectKey}`, size, sha256 };
    } catch (error) {
      await Promise.allSettled(inFlight);
      if (uploadId !== undefined) await this.client.abortMultipartUpload(bucket, objectKey, uploadId).catch(() => undefined);
      if (!source.destroyed) source.destroy();
      throw error;
    }
  }

  /** Opens an object or an exact byte range of it. @throws NotFoundError when absent; ValidationError for a range outside it. */
  async open(location: string, range?: ByteRange): Promise<Readable> {
    const { bucket, key } = parseLocation(this.options.bucketPrefix, location);
    if (range) checkRange(range, location);
    let body: Readable | undefined;
    try {
      body = await this.client.getObject(bucket, key, range);
    } catch (error) {
      if (error instanceof S3Error && error.code === 'InvalidRange') {
        const size = (await this.client.headObject(bucket, key))?.size;
        if (size === undefined) throw new NotFoundError(`no object at ${location} in depot "s3"`);
        throw new ValidationError(`byte range ${range?.start}-${range?.end} is outside ${location}, which has ${size} bytes`, { range: ['outside the file'] });
      }
      throw error;
    }
    if (!body) throw new NotFoundError(`no object at ${location} in depot "s3"`);
    return body;
  }

  /** Size and modification time, or undefined when absent. */
  async stat(location: string): Promise<DepotEntry | undefined> {
    const { bucket, key } = parseLocation(this.options.bucketPrefix, location);
    const head = await this.client.headObject(bucket, key);
    return head && { location, size: head.size, modified: head.modified };
  }

  /** Removes an object; absent ones are not an error. */
  async delete(location: string): Promise<void> {
    const { bucket, key } = parseLocation(this.options.bucketPrefix, location);
    await this.client.deleteObject(bucket, key);
  }

  /** Every resource object in every bucket of this depot (not partial uploads, not quarantine). */
  async *list(): AsyncIterable<DepotEntry> {
    const buckets = (await this.client.listBuckets()).filter((b) => b.startsWith(this.options.bucketPrefix)).sort();
    for (const bucket of buckets) {
      for await (const object of this.client.listObjects(bucket, 'resource/')) {
        yield { location: `${bucket}/${object.key}`, size: object.size, modified: object.modified };
      }
    }
  }

  /**
   * A presigned GET URL of an object, valid for `seconds`; S3 answers it with the given
   * Content-Disposition and Content-Type.
   */
  presignedUrl(location: string, seconds: number, response: { contentDisposition?: string; contentType?: string } = {}): string {
    const { bucket, key } = parseLocation(this.options.bucketPrefix, location);
    const headers: Record<string, string> = {};
    if (response.contentDisposition) headers['response-content-disposition'] = response.contentDisposition;
    if (response.contentType) headers['response-content-type'] = response.contentType;
    return this.client.presignGet(bucket, key, seconds, headers);
  }

  /**
   * Moves an object under `quarantine/` in its bucket (a copy, then a delete: never lost).
   * @returns the new location.
   */
  async quarantine(location: string): Promise<string> {
    const { bucket, key } = parseLocation(this.options.bucketPrefix, location);
    const target = key.startsWith('quarantine/') ? key : `quarantine/${key}`;
    if (target !== key) {
      await this.client.copyObject(bucket, key, bucket, target);
      await this.client.deleteObject(bucket, key);
    }
    return `${bucket}/${target}`;
  }
}
