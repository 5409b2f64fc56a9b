// The client side of the platform for `platform upload`: calls the action API and speaks
// tus to /upload/tus/, trusting exactly the certificate from the user's access token.
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { PlatformError } from '../errors.js';

/** An error answer from the server, with its status. */
export class ServerError extends PlatformError {
  constructor(readonly httpStatus: number, message: string) {
    super('PLATFORM_ERR_SERVER', httpStatus, 'Validation Error', message);
  }
}

/** Talks to one platform server with one API key. */
export class PlatformClient {
  private readonly dispatcher: Dispatcher;

  constructor(
    readonly server: string,
    private readonly apiKey: string,
    /** PEM certificate to trust, alone; undefined for plain http (tests, local servers). */
    ca: string | undefined,
  ) {
    this.dispatcher = new Agent({ connect: ca ? { ca, rejectUnauthorized: true } : {}, keepAliveTimeout: 10_000 });
  }

  /** Calls an action; @returns its result. @throws ServerError with the server's message. */
  async action<T>(name: string, input: Record<string, unknown>): Promise<T> {
    const response = await this.send(`/api/3/action/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
    const body = (await response.body.json().catch(() => undefined)) as { success?: boolean; result?: T; error?: { message?: string } } | undefined;
    if (response.statusCode !== 200 || !body?.success) throw new ServerError(response.statusCode, `${name}: ${body?.error?.message ?? `HTTP ${response.statusCode}`}`);
    return body.result as T;
  }

  /** Creates a tus upload; @returns its URL path. */
  async createUpload(length: number, metadata: Record<string, string>): Promise<string> {
    const encoded = Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');
    const response = await this.send('/upload/tus/', { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': encoded } });
    const text = await response.body.text();
    const location = response.headers.location;
    if (response.statusCode !== 201 || typeof location !== 'string') throw new ServerError(response.statusCode, `creating the upload failed: ${messageOf(text, response.statusCode)}`);
    return new URL(location, this.server).pathname;
  }

  /** The server's offset of an upload, or undefined when it is gone (finished, expired, unknown). */
  async offset(path: string): Promise<number | undefined> {
    const response = await this.send(path, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
    await response.body.dump();
    if (response.statusCode === 404 || response.statusCode === 410) return undefined;
    if (response.statusCode !== 200) throw new ServerError(response.statusCode, `asking for the upload offset failed: HTTP ${response.statusCode}`);
    return Number(response.headers['upload-offset']);
  }

  /** Sends bytes [start, end) of a file at `start`, showing each chunk to `onChunk` as it goes; @returns the new offset. */
  async patch(path: string, file: string, start: number, end: number, onChunk: (chunk: Buffer) => void): Promise<number> {
    // A Transform observes the bytes without setting the file stream flowing before undici reads it.
    const body = createReadStream(file, { start, end: end - 1, highWaterMark: 256 * 1024 }).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          onChunk(chunk);
          done(null, chunk);
        },
      }),
    );
    const response = await this.send(path, {
      method: 'PATCH',
      headers: { 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': String(start), 'content-length': String(end - start) },
      body,
    });
    const text = await response.body.text();
    if (response.statusCode !== 204) throw new ServerError(response.statusCode, `sending bytes ${start}-${end} failed: ${messageOf(text, response.statusCode)}`);
    return Number(response.headers['upload-offset']);
  }

  /** Closes connections. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async send(path: string, options: { method: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string | NodeJS.ReadableStream }): Promise<Dispatcher.ResponseData> {
    try {
      return await request(new URL(path, this.server), { dispatcher: this.dispatcher, method: options.method, headers: { authorization: this.apiKey, ...(options.headers ?? {}) }, ...(options.body ? { body: options.body as string } : {}) });
    } catch (error) {
      const code = (error as { code?: string; cause?: { code?: string } }).code ?? (error as { cause?: { code?: string } }).cause?.code;
      if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
        throw new PlatformError('PLATFORM_ERR_TLS', 495, 'Validation Error', `the server at ${this.server} does not present the certificate in your access token (${code}); check --server, or ask for a new token`);
      }
      throw error;
    }
  }
}

function messageOf(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    return parsed.error?.message ?? `HTTP ${status}`;
  } catch {
    return text.trim().slice(0, 200) || `HTTP ${status}`;
  }
}
