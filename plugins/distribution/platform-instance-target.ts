// Another instance of this platform as a destination: the file is uploaded with tus 1.0 into
// a draft dataset there, authenticated by an API token read from a file or a `.dcor-access`
// token (whose certificate is then pinned), over HTTPS with the server's certificate pinned.
// The upload goes in parts; an upload cut off (a dropped connection, a crash) is resumed by
// the next attempt from the offset the other platform holds. The remote platform hashes what
// it stores, so the sha256 is verified; the dataset (the routed folder, else the
// destination's) must be a draft.
import { X509Certificate } from 'node:crypto';
import { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
// undici is loaded on the first request: commands that send nothing (anonymise run) start faster.
import type { Agent, Dispatcher, request as undiciRequest } from 'undici';
import type { DeliveryTarget, OutgoingFile, RemoteCopy } from './delivery-target.js';
import { DeliveryError } from './delivery-target.js';
import { USER_AGENT } from './webdav-target.js';

/** The API token of the other platform, and its certificate to pin for https. */
export interface PlatformCredentials {
  token: string;
  certificatePem?: string;
}

/** How to reach the other platform. */
export interface PlatformInstanceOptions {
  /** Its site URL, ending in `/`. */
  url: string;
  /** Default dataset (name or id) when the route gives no folder. */
  dataset: string;
  /** Reads the credentials (a token file, or a `.dcor-access` file); called once, when first needed. */
  credentials: () => Promise<PlatformCredentials>;
  /** Bytes per PATCH (default 8 MiB): a connection cut off loses at most this much, the rest is resumed. */
  chunkBytes?: number;
}

/** Default bytes per PATCH. */
export const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;

/** Hands out consecutive parts of one stream as request bodies of exact lengths. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private rest: Buffer | undefined;

  constructor(source: Readable) {
    this.iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The next `length` bytes, as a stream. */
  take(length: number): Readable {
    const next = async (): Promise<Buffer> => {
      const held = this.rest;
      this.rest = undefined;
      if (held) return held;
      const read = await this.iterator.next();
      if (read.done) throw new Error(`the file ended before the ${length} bytes of this part`);
      return read.value;
    };
    const self = this;
    return Readable.from(
      (async function* () {
        for (let left = length; left > 0; ) {
          let chunk = await next();
          if (chunk.length > left) {
            self.rest = chunk.subarray(left);
            chunk = chunk.subarray(0, left);
          }
          left -= chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  }
}

const b64 = (value: string): string => Buffer.from(value).toString('base64');

/** Uploads through the other platform's tus endpoint and reads back through its action API. */
/** What a request needs once the credentials are read and undici is loaded. */
interface Connection {
  token: string;
  agent: Agent;
  request: typeof undiciRequest;
}

export class PlatformInstanceTarget implements DeliveryTarget {
  readonly kind = 'platform';
  private readonly base: URL;
  private readonly chunkBytes: number;
  private connection: Promise<Connection> | undefined;

  constructor(readonly name: string, private readonly options: PlatformInstanceOptions) {
    this.base = new URL(options.url);
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  }

  /** The token and a connection pool trusting only the pinned certificate, made on first use. */
  private connect(): Promise<Connection> {
    this.connection ??= this.options.credentials().then(async ({ token, certificatePem: pem }) => {
      const { Agent, request } = await import('undici');
      const pinned = pem ? new X509Certificate(pem).fingerprint256 : undefined;
      const agent = new Agent({
        connections: 4,
        connect: pinned ? { ca: pem, checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.fingerprint256 === pinned ? undefined : new Error(`certificate ${cert.fingerprint256} is not the pinned ${pinned}`)) } : {},
      });
      return { token, agent, request };
    });
    // A file that could not be read is read again next time (it may be fixed meanwhile).
    this.connection.catch(() => (this.connection = undefined));
    return this.connection;
  }

  private dataset(folder: string): string {
    return folder || this.options.dataset;
  }

  private async call(method: Dispatcher.HttpMethod, path: string, signal: AbortSignal, init: { body?: Readable | string; headers?: Record<string, string> } = {}) {
    const url = new URL(path, this.base);
    let connection: Connection;
    try {
      connection = await this.connect();
    } catch (error) {
      // Never the password or the token: only what went wrong with the file.
      throw new DeliveryError(`destination "${this.name}": its credentials cannot be read: ${(error as Error).message}`, true);
    }
    try {
      return await connection.request(url, { method, dispatcher: connection.agent, signal, headers: { 'user-agent': USER_AGENT, authorization: connection.token, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
    } catch (error) {
      if (signal.aborted) throw error;
      const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      throw new DeliveryError(`destination "${this.name}" (${url.origin}): ${method} ${url.pathname} failed: ${e.code ?? e.cause?.code ?? ''} ${(e.cause?.message ?? e.message).slice(0, 200)}`.trim(), true);
    }
  }

  private async failure(what: string, statusCode: number, body: { text(): Promise<string> }): Promise<DeliveryError> {
    let message = '';
    try {
      const parsed = JSON.parse(await body.text()) as { error?: { message?: string } };
      message = parsed.error?.message ?? '';
    } catch {
      // not JSON: the status says enough
    }
    const where = `destination "${this.name}": ${what} answered ${statusCode}${message ? `: ${message.slice(0, 300)}` : ''}`;
    return new DeliveryError(statusCode === 401 || statusCode === 403 ? `${where} (check the destination's token)` : where, statusCode >= 500 || statusCode === 408 || statusCode === 429);
  }

  /**
   * Uploads with tus in PATCHes of `chunkBytes`, recording the upload URL and each offset the
   * other platform acknowledged; an upload an earlier attempt left unfinished is resumed from
   * the offset the other platform reports (`HEAD`), or started again when it is gone there.
   */
  async send(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<RemoteCopy> {
    const dataset = this.dataset(folder);
    const resumed = await this.resume(file, folder, signal);
    if (resumed && 'copy' in resumed) return resumed.copy;
    let upload = resumed;
    if (!upload) {
      upload = { url: await this.create(file, dataset, signal), offset: 0 };
      await file.progress?.save({ ...upload, folder, sha256: file.sha256 });
    }
    await this.patchFrom(file, folder, upload, signal);
    await file.progress?.clear();
    const copy = await this.stat(folder, file.name, signal);
    if (!copy) throw new DeliveryError(`destination "${this.name}": "${file.name}" is not in dataset "${dataset}" after its upload`, true);
    return copy;
  }

  /** The recorded unfinished upload and its offset there, the copy when it turns out complete, or undefined to start anew. */
  private async resume(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<{ url: string; offset: number } | { copy: RemoteCopy } | undefined> {
    const point = await file.progress?.load();
    if (!point) return undefined;
    if (point.sha256 !== file.sha256 || point.folder !== folder) {
      // Started for other bytes or another dataset: end it there, so its name is free again.
      await this.terminate(point.url);
      await file.progress!.clear();
      return undefined;
    }
    const head = await this.call('HEAD', point.url, signal, { headers: { 'tus-resumable': '1.0.0' } });
    await head.body.dump();
    if (head.statusCode === 404 || head.statusCode === 410) {
      // Expired or removed there, or finished with its answer lost: the dataset tells which.
      await file.progress!.clear();
      const there = await this.stat(folder, file.name, signal);
      return there ? { copy: there } : undefined;
    }
    if (head.statusCode !== 200) throw new DeliveryError(`destination "${this.name}": HEAD of the unfinished upload of "${file.name}" answered ${head.statusCode}`, head.statusCode >= 500 || head.statusCode === 408 || head.statusCode === 429);
    const offset = Number(head.headers['upload-offset']);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > file.size) throw new DeliveryError(`destination "${this.name}": the unfinished upload of "${file.name}" reports offset ${String(head.headers['upload-offset'])} for a file of ${file.size} bytes`, true);
    return { url: point.url, offset };
  }

  /** Creates the upload there. @returns its URL. */
  private async create(file: OutgoingFile, dataset: string, signal: AbortSignal): Promise<string> {
    const created = await this.call('POST', 'upload/tus/', signal, {
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(file.size), 'upload-metadata': `package_id ${b64(dataset)},filename ${b64(file.name)},sha256 ${b64(file.sha256)}` },
    });
    if (created.statusCode === 409) {
      const failure = await this.failure(`creating the upload of "${file.name}" in dataset "${dataset}"`, created.statusCode, created.body);
      // A resource of that name without a file is an upload someone left unfinished there.
      const unfinished = await this.unfinished(dataset, file.name, signal).catch(() => false);
      if (unfinished) throw new DeliveryError(`${failure.message}; that resource holds no file yet (an upload left unfinished that this platform did not record, or a resource made without a file): delete it there, or wait until the unfinished upload expires there`, false);
      throw failure;
    }
    if (created.statusCode !== 201) throw await this.failure(`creating the upload of "${file.name}" in dataset "${dataset}"`, created.statusCode, created.body);
    await created.body.dump();
    const location = String(created.headers.location ?? '');
    if (!location) throw new DeliveryError(`destination "${this.name}": creating the upload of "${file.name}" answered 201 without a Location`, true);
    return new URL(location, this.base).toString();
  }

  /** Sends the bytes from `upload.offset` in PATCHes of at most `chunkBytes`, recording each acknowledged offset. */
  private async patchFrom(file: OutgoingFile, folder: string, upload: { url: string; offset: number }, signal: AbortSignal): Promise<void> {
    const source = file.open(upload.offset);
    try {
      const parts = new ChunkReader(source);
      let offset = upload.offset;
      while (offset < file.size) {
        const length = Math.min(this.chunkBytes, file.size - offset);
        const patched = await this.call('PATCH', upload.url, signal, { body: parts.take(length), headers: { 'tus-resumable': '1.0.0', 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(length) } });
        if (patched.statusCode !== 204) {
          let failure = await this.failure(`sending "${file.name}" from byte ${offset}`, patched.statusCode, patched.body);
          // The other side still finishing a PATCH that was cut off (locked, or its offset not settled yet): ask again next attempt.
          if (patched.statusCode === 409 || patched.statusCode === 423) failure = new DeliveryError(failure.message, true);
          if (!failure.retryable) {
            // It will not be resumed: free the name there.
            await this.terminate(upload.url);
            await file.progress?.clear();
          }
          throw failure;
        }
        await patched.body.dump();
        const acknowledged = Number(patched.headers['upload-offset']);
        offset = Number.isSafeInteger(acknowledged) && acknowledged > offset ? acknowledged : offset + length;
        if (offset < file.size) await file.progress?.save({ url: upload.url, offset, folder, sha256: file.sha256 });
      }
    } finally {
      source.destroy();
    }
  }

  /** Whether the dataset holds a resource of that name without a file (an unfinished upload). */
  private async unfinished(dataset: string, name: string, signal: AbortSignal): Promise<boolean> {
    const shown = await this.call('GET', `api/3/action/package_show?id=${encodeURIComponent(dataset)}`, signal);
    if (shown.statusCode !== 200) {
      await shown.body.dump();
      return false;
    }
    const result = ((await shown.body.json()) as { result: { resources: Array<{ name: string; sha256?: string | null }> } }).result;
    return result.resources.some((r) => r.name === name && !r.sha256);
  }

  /** Ends an unfinished upload there, so that the name is free again. */
  private async terminate(location: string): Promise<void> {
    const controller = new AbortController();
    const answer = await this.call('DELETE', location, controller.signal, { headers: { 'tus-resumable': '1.0.0' } }).catch(() => undefined);
    await answer?.body.dump();
  }

  async stat(folder: string, name: string, signal: AbortSignal): Promise<RemoteCopy | undefined> {
    const dataset = this.dataset(folder);
    const shown = await this.call('GET', `api/3/action/package_show?id=${encodeURIComponent(dataset)}`, signal);
    if (shown.statusCode !== 200) throw await this.failure(`package_show of "${dataset}"`, shown.statusCode, shown.body);
    const result = ((await shown.body.json()) as { result: { name: string; resources: Array<{ id: string; name: string; size?: number; sha256?: string; state?: string }> } }).result;
    const found = result.resources.find((r) => r.name === name && r.sha256);
    if (!found) return undefined;
    return { location: new URL(`dataset/${result.name}/resource/${found.id}/download/${encodeURIComponent(name)}`, this.base).toString(), size: Number(found.size), sha256: found.sha256! };
  }

  async remove(folder: string, name: string, signal: AbortSignal): Promise<void> {
    const copy = await this.stat(folder, name, signal);
    if (!copy) return;
    const id = /resource\/([^/]+)\/download/.exec(copy.location)?.[1];
    const answer = await this.call('POST', 'api/3/action/resource_delete', signal, { body: JSON.stringify({ id }), headers: { 'content-type': 'application/json' } });
    await answer.body.dump();
  }

  async close(): Promise<void> {
    const connection = await this.connection?.catch(() => undefined);
    this.connection = undefined;
    await connection?.agent.close();
  }
}
