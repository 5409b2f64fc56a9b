// A web server that accepts PUT (WebDAV, e.g. nginx's dav module) as a destination, through
// undici with keep-alive connections; an https server's certificate is pinned: only that
// exact certificate is trusted. Credentials come from files and never appear in messages.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
// undici is loaded on the first request: commands that send nothing (anonymise run) start faster.
import type { Agent, Dispatcher, request as undiciRequest } from 'undici';
import type { DeliveryTarget, OutgoingFile, RemoteCopy } from './delivery-target.js';
import { DeliveryError } from './delivery-target.js';

/** Sent with every request, so that access-log reading can tell the platform's own requests from recipients'. */
export const USER_AGENT = 'platform-distribution/0.1';

/** How a WebDAV send is verified. */
export type WebDavVerification = 'size' | 'sha256' | 'response';

/** How to reach a WebDAV destination. */
export interface WebDavOptions {
  /** Base URL ending in `/`, without credentials. */
  url: string;
  /** PEM of the server's certificate, pinned for https. */
  certificatePem?: string;
  /** `Basic ...` or `Bearer ...`, from secret files. */
  authorization?: string;
  /**
   * How a send is verified: `size` (default: a one-byte ranged GET reads back the stored
   * size), `sha256` (the file is read back and hashed), or `response` (the server's 2xx to a
   * PUT of exactly Content-Length bytes is taken as proof; nginx answers only after it stored
   * the whole body).
   */
  verify?: WebDavVerification;
  connections?: number;
}

/** Reads the secret files a WebDAV destination names into an Authorization header value. */
export function authorizationFromFiles(files: { usernameFile?: string | undefined; passwordFile?: string | undefined; tokenFile?: string | undefined }): string | undefined {
  const read = (file: string): string => readFileSync(file, 'utf8').trim();
  if (files.tokenFile) return `Bearer ${read(files.tokenFile)}`;
  if (files.usernameFile && files.passwordFile) return `Basic ${Buffer.from(`${read(files.usernameFile)}:${read(files.passwordFile)}`).toString('base64')}`;
  return undefined;
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e.code ?? e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the server running?)';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was closed by the server';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code && /CERT|SELF_SIGNED|ERR_TLS/.test(code)) return `the server's certificate is not the pinned one (${code})`;
  return (e.cause?.message ?? e.message ?? String(error)).slice(0, 300);
}

/** Delivers with PUT, verifies with a ranged GET, removes with DELETE. */
export class WebDavTarget implements DeliveryTarget {
  readonly kind = 'webdav';
  private connection: Promise<{ agent: Agent; request: typeof undiciRequest }> | undefined;
  private readonly pinned: string | undefined;
  private readonly base: URL;
  private readonly createdFolders = new Set<string>();

  constructor(readonly name: string, private readonly options: WebDavOptions) {
    this.base = new URL(options.url);
    const pem = options.certificatePem;
    this.pinned = pem ? new X509Certificate(pem).fingerprint256 : undefined;
  }

  /** A connection pool trusting only the pinned certificate, made on first use. */
  private connect(): Promise<{ agent: Agent; request: typeof undiciRequest }> {
    const { options, pinned } = this;
    const pem = options.certificatePem;
    this.connection ??= import('undici').then(({ Agent, request }) => ({ request, agent: new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: 10_000,
      connect: pinned
        ? {
            ca: pem,
            // The pinned certificate stands for the server's identity: exactly it, whatever the host name.
            checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.fingerprint256 === pinned ? undefined : new Error(`certificate ${cert.fingerprint256} is not the pinned ${pinned}`)),
          }
        : {},
    }) }));
    return this.connection;
  }

  /** The URL of `folder/name` (each part percent-encoded). */
  url(folder: string, name?: string): URL {
    const parts = [...folder.split('/').filter(Boolean), ...(name === undefined ? [] : [name])].map(encodeURIComponent);
    return new URL(parts.join('/') + (name === undefined && parts.length ? '/' : ''), this.base);
  }

  publicPath(folder: string, name: string): string {
    return this.url(folder, name).pathname;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'user-agent': USER_AGENT, ...(this.options.authorization ? { authorization: this.options.authorization } : {}), ...extra };
  }

  private async call(method: Dispatcher.HttpMethod, url: URL, signal: AbortSignal, init: { body?: Readable; headers?: Record<string, string> } = {}) {
    try {
      const { agent, request } = await this.connect();
      return await request(url, { method, dispatcher: agent, signal, headers: this.headers(init.headers), ...(init.body ? { body: init.body } : {}) });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new DeliveryError(`destination "${this.name}" (${url.origin}): ${method} failed: ${describe(error)}`, true);
    }
  }

  private failure(method: string, url: URL, status: number): DeliveryError {
    const where = `destination "${this.name}": ${method} ${url.pathname} answered ${status}`;
    if (status === 507) return new DeliveryError(`${where} (Insufficient Storage: the remote disk is full)`, true);
    if (status === 401 || status === 403) return new DeliveryError(`${where} (not allowed: check the destination's credentials)`, false);
    if (status === 413) return new DeliveryError(`${where} (the file is larger than the server accepts)`, false);
    return new DeliveryError(`${where}`, status >= 500 || status === 408 || status === 429 || status === 409);
  }

  /** Creates the folders of a path with MKCOL (for servers without create_full_put_path). */
  private async makeFolders(folder: string, signal: AbortSignal): Promise<void> {
    let path = '';
    for (const part of folder.split('/').filter(Boolean)) {
      path += `${part}/`;
      if (this.createdFolders.has(path)) continue;
      const url = this.url(path);
      const { statusCode, body } = await this.call('MKCOL', url, signal);
      await body.dump();
      if (statusCode >= 300 && statusCode !== 405) throw this.failure('MKCOL', url, statusCode);
      this.createdFolders.add(path);
    }
  }

  async send(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<RemoteCopy> {
    const url = this.url(folder, file.name);
    for (let round = 0; ; round++) {
      const { statusCode, body } = await this.call('PUT', url, signal, { body: file.open(), headers: { 'content-length': String(file.size), 'content-type': 'application/octet-stream' } });
      await body.dump();
      // 409: the folder is missing and the server does not create it: make it, once.
      if (statusCode === 409 && round === 0 && folder) {
        await this.makeFolders(folder, signal);
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) throw this.failure('PUT', url, statusCode);
      break;
    }
    if (this.options.verify === 'response') return { location: url.toString(), size: file.size };
    const copy = await this.stat(folder, file.name, signal);
    if (!copy) throw new DeliveryError(`destination "${this.name}": ${url.pathname} is missing right after PUT`, true);
    return copy;
  }

  /**
   * What the server holds, by a one-byte ranged GET (its Content-Range names the size). A
   * HEAD would do, but undici closes the connection after every HEAD (for servers that send
   * a body anyway), which costs a new connection per file.
   */
  async stat(folder: string, name: string, signal: AbortSignal): Promise<RemoteCopy | undefined> {
    const url = this.url(folder, name);
    const { statusCode, headers, body } = await this.call('GET', url, signal, { headers: { range: 'bytes=0-0' } });
    // A server ignores the range of an empty file and answers 200 with no body; destroying that
    // (already finished) body makes undici reject with AbortError, so only a body left unread is cut off.
    if (statusCode === 200 && headers['content-length'] !== '0') body.destroy();
    else await body.dump();
    if (statusCode === 404) return undefined;
    let size: number;
    const range = String(headers['content-range'] ?? '');
    if (statusCode === 206 || statusCode === 416) size = Number(/\/(\d+)$/.exec(range)?.[1] ?? NaN);
    else if (statusCode === 200) size = Number(headers['content-length']);
    else throw this.failure('GET', url, statusCode);
    if (!Number.isFinite(size)) throw new DeliveryError(`destination "${this.name}": GET ${url.pathname} gave no size (Content-Range "${range}")`, true);
    const copy: RemoteCopy = { location: url.toString(), size };
    if (this.options.verify === 'sha256') copy.sha256 = await this.fetchSha256(url, signal);
    return copy;
  }

  private async fetchSha256(url: URL, signal: AbortSignal): Promise<string> {
    const { statusCode, body } = await this.call('GET', url, signal);
    if (statusCode !== 200) {
      await body.dump();
      throw this.failure('GET', url, statusCode);
    }
    const hash = createHash('sha256');
    for await (const chunk of body) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  async remove(folder: string, name: string, signal: AbortSignal): Promise<void> {
    const url = this.url(folder, name);
    const { statusCode, body } = await this.call('DELETE', url, signal);
    await body.dump();
    if (statusCode !== 404 && (statusCode < 200 || statusCode >= 300)) throw this.failure('DELETE', url, statusCode);
  }

  async close(): Promise<void> {
    if (this.connection) await (await this.connection).agent.close();
  }
}
