// A small S3 client over undici: exactly the calls the depot makes (buckets, objects, ranged
// reads, listings, multipart uploads, server-side copies, presigned URLs), path-style
// addressing, every request signed with SigV4. Responses are always consumed or destroyed
// so connections return to the pool.
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { EMPTY_SHA256, encodeS3Path, presignS3Url, signS3Request, UNSIGNED_PAYLOAD, type Credentials } from './s3-request-signer.js';
import { xmlTags, xmlText } from './s3-xml.js';

/** An error answer of S3, with its code (`NoSuchKey`, `InvalidRange`, ...). */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

/** How to reach the store. */
export interface S3ClientOptions {
  endpoint: string;
  region: string;
  credentials: Credentials;
  /** Connections kept per origin (default 16). */
  connections?: number;
}

/** One object in a listing. */
export interface S3Object {
  key: string;
  size: number;
  modified: Date;
}

/** One unfinished multipart upload in a listing. */
export interface S3MultipartUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

type Body = Buffer | Readable | undefined;

interface SendOptions {
  bucket: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Body;
  /** Statuses that are answers rather than errors (e.g. 404 for a HEAD). */
  accept?: number[];
}

/** The S3 client. */
export class S3Client {
  private readonly endpoint: URL;
  private readonly dispatcher: Dispatcher;

  constructor(private readonly options: S3ClientOptions) {
    this.endpoint = new URL(options.endpoint);
    this.dispatcher = new Agent({ connections: options.connections ?? 16, keepAliveTimeout: 10_000 });
  }

  /** The URL of a bucket or object, path-style. */
  url(bucket: string, key?: string, query: Record<string, string> = {}): URL {
    const base = this.endpoint.pathname.replace(/\/$/, '');
    const url = new URL(this.endpoint.origin);
    url.pathname = `${base}/${encodeS3Path(bucket)}${key === undefined ? '' : `/${encodeS3Path(key, true)}`}`;
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url;
  }

  /** A presigned GET of an object, valid for `seconds`, with the response headers S3 should send. */
  presignGet(bucket: string, key: string, seconds: number, responseHeaders: Record<string, string> = {}): string {
    return presignS3Url('GET', this.url(bucket, key, responseHeaders), this.options.credentials, this.options.region, seconds).href;
  }

  private async send(method: string, options: SendOptions): Promise<Dispatcher.ResponseData> {
    const url = this.url(options.bucket, options.key, options.query);
    const body = options.body;
    const headers: Record<string, string> = { ...options.headers };
    if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
    const payloadHash = body === undefined ? EMPTY_SHA256 : UNSIGNED_PAYLOAD;
    const signed = signS3Request({ method, url, headers, payloadHash }, this.options.credentials, this.options.region);
    const response = await request(signed.url, { method, headers: signed.headers, body, dispatcher: this.dispatcher });
    if (response.statusCode < 300 || options.accept?.includes(response.statusCode)) return response;
    const text = await response.body.text().catch(() => '');
    const code = xmlText(text, 'Code') ?? `HTTP${response.statusCode}`;
    throw new S3Error(response.statusCode, code, `S3 ${method} ${options.bucket}/${options.key ?? ''} answered ${response.statusCode} ${code}${xmlText(text, 'Message') ? `: ${xmlText(text, 'Message')}` : ''}`);
  }

  private async text(method: string, options: SendOptions): Promise<{ status: number; text: string; headers: Dispatcher.ResponseData['headers'] }> {
    const response = await this.send(method, options);
    return { status: response.statusCode, text: await response.body.text(), headers: response.headers };
  }

  /** Creates a bucket; one that this user already owns is fine. */
  async createBucket(bucket: string): Promise<void> {
    try {
      await this.text('PUT', { bucket });
    } catch (error) {
      if (!(error instanceof S3Error && error.code === 'BucketAlreadyOwnedByYou')) throw error;
    }
  }

  /** Names of every bucket of this user. */
  async listBuckets(): Promise<string[]> {
    const url = new URL(this.endpoint.origin);
    url.pathname = this.endpoint.pathname.replace(/\/$/, '') || '/';
    const signed = signS3Request({ method: 'GET', url, headers: {}, payloadHash: EMPTY_SHA256 }, this.options.credentials, this.options.region);
    const response = await request(signed.url, { method: 'GET', headers: signed.headers, dispatcher: this.dispatcher });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new S3Error(response.statusCode, xmlText(text, 'Code') ?? 'ListBuckets', `S3 ListBuckets answered ${response.statusCode}`);
    return xmlTags(text, 'Bucket').map((b) => xmlText(b, 'Name') ?? '');
  }

  /** Deletes an empty bucket; an absent one is fine. */
  async deleteBucket(bucket: string): Promise<void> {
    await this.text('DELETE', { bucket, accept: [404] });
  }

  /** Stores a whole object from a buffer. @returns its ETag. */
  async putObject(bucket: string, key: string, body: Buffer): Promise<string> {
    const response = await this.text('PUT', { bucket, key, body });
    return String(response.headers.etag ?? '');
  }

  /** Stores a whole object from a stream of known length (no buffering). */
  async putObjectStream(bucket: string, key: string, body: Readable, length: number): Promise<void> {
    await this.text('PUT', { bucket, key, body, headers: { 'content-length': String(length) } });
  }

  /** Size and modification time, or undefined when absent. */
  async headObject(bucket: string, key: string): Promise<S3Object | undefined> {
    const response = await this.send('HEAD', { bucket, key, accept: [404] });
    await response.body.dump();
    if (response.statusCode === 404) return undefined;
    return { key, size: Number(response.headers['content-length']), modified: new Date(String(response.headers['last-modified'])) };
  }

  /**
   * Reads an object or an inclusive byte range of it. @returns the body stream, or undefined when absent.
   * @throws S3Error `InvalidRange` for a range outside the object.
   */
  async getObject(bucket: string, key: string, range?: { start: number; end: number }): Promise<Readable | undefined> {
    const headers = range ? { range: `bytes=${range.start}-${range.end}` } : undefined;
    const response = await this.send('GET', { bucket, key, headers, accept: [404] });
    if (response.statusCode === 404) {
      await response.body.dump();
      return undefined;
    }
    // S3 clamps a range that runs past the end (bytes=990-1000 of 1000 bytes gives 990-999):
    // an exact reader must hear of it.
    const served = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(response.headers['content-range'] ?? ''));
    if (range && served && Number(served[2]) !== range.end) {
      // Destroying an unfinished body emits an AbortError: it is expected here, not a failure.
      response.body.on('error', () => undefined);
      response.body.destroy();
      throw new S3Error(416, 'InvalidRange', `S3 GET ${bucket}/${key}: bytes ${range.start}-${range.end} asked, the object has ${served[3]} bytes`);
    }
    return response.body;
  }

  /** Deletes an object; an absent one is fine. */
  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.text('DELETE', { bucket, key, accept: [404] });
  }

  /** Copies an object inside the store (up to 5 GiB), without the bytes passing through here. */
  async copyObject(fromBucket: string, fromKey: string, bucket: string, key: string): Promise<void> {
    const response = await this.text('PUT', { bucket, key, headers: { 'x-amz-copy-source': `/${encodeS3Path(fromBucket)}/${encodeS3Path(fromKey, true)}` } });
    // A copy can fail after its 200 status line: the error is then in the body.
    if (/<Error>/.test(response.text)) throw new S3Error(500, xmlText(response.text, 'Code') ?? 'CopyFailed', `S3 copy of ${fromBucket}/${fromKey} failed`);
  }

  /** Every object under a prefix, page by page. */
  async *listObjects(bucket: string, prefix = ''): AsyncIterable<S3Object> {
    let token: string | undefined;
    do {
      const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': '1000' };
      if (token) query['continuation-token'] = token;
      const { text } = await this.text('GET', { bucket, query });
      for (const item of xmlTags(text, 'Contents')) {
        yield { key: xmlText(item, 'Key') ?? '', size: Number(xmlText(item, 'Size')), modified: new Date(xmlText(item, 'LastModified') ?? 0) };
      }
      token = xmlText(text, 'IsTruncated') === 'true' ? xmlText(text, 'NextContinuationToken') : undefined;
    } while (token);
  }

  /** Starts a multipart upload. @returns its upload id. */
  async createMultipartUpload(bucket: string, key: string): Promise<string> {
    const { text } = await this.text('POST', { bucket, key, query: { uploads: '' } });
    const uploadId = xmlText(text, 'UploadId');
    if (!uploadId) throw new S3Error(500, 'NoUploadId', `S3 gave no UploadId for ${bucket}/${key}`);
    return uploadId;
  }

  /** Sends one part (1..10000). @returns its ETag. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    const response = await this.text('PUT', { bucket, key, body, query: { partNumber: String(partNumber), uploadId } });
    return String(response.headers.etag ?? '');
  }

  /** Makes a part from (a range of) another object, inside the store. @returns its ETag. */
  async uploadPartCopy(bucket: string, key: string, uploadId: string, partNumber: number, fromBucket: string, fromKey: string): Promise<string> {
    const { text } = await this.text('PUT', { bucket, key, query: { partNumber: String(partNumber), uploadId }, headers: { 'x-amz-copy-source': `/${encodeS3Path(fromBucket)}/${encodeS3Path(fromKey, true)}` } });
    const etag = xmlText(text, 'ETag');
    if (!etag) throw new S3Error(500, xmlText(text, 'Code') ?? 'CopyFailed', `S3 part copy of ${fromBucket}/${fromKey} failed`);
    return etag;
  }

  /** Completes a multipart upload: the object appears whole, at once. */
  async completeMultipartUpload(bucket: string, key: string, uploadId: string, etags: string[]): Promise<void> {
    const xml = `<CompleteMultipartUpload>${etags.map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${etag.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const { text } = await this.text('POST', { bucket, key, query: { uploadId }, body: Buffer.from(xml) });
    // Completion can fail after its 200 status line: the error is then in the body.
    if (/<Error>/.test(text)) throw new S3Error(500, xmlText(text, 'Code') ?? 'CompleteFailed', `S3 could not complete ${bucket}/${key}: ${xmlText(text, 'Message') ?? ''}`);
  }

  /** Aborts a multipart upload, dropping its parts; an unknown one is fine. */
  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.text('DELETE', { bucket, key, query: { uploadId }, accept: [404] });
  }

  /** Every unfinished multipart upload of a bucket. */
  async *listMultipartUploads(bucket: string): AsyncIterable<S3MultipartUpload> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const query: Record<string, string> = { uploads: '' };
      if (keyMarker) query['key-marker'] = keyMarker;
      if (idMarker) query['upload-id-marker'] = idMarker;
      const { text } = await this.text('GET', { bucket, query });
      for (const item of xmlTags(text, 'Upload')) {
        yield { key: xmlText(item, 'Key') ?? '', uploadId: xmlText(item, 'UploadId') ?? '', initiated: new Date(xmlText(item, 'Initiated') ?? 0) };
      }
      const truncated = xmlText(text, 'IsTruncated') === 'true';
      keyMarker = truncated ? xmlText(text, 'NextKeyMarker') : undefined;
      idMarker = truncated ? xmlText(text, 'NextUploadIdMarker') : undefined;
    } while (keyMarker);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
