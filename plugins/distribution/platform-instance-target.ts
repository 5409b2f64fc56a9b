// Another instance of this platform as a destination: the file is uploaded with tus 1.0 into
// a draft dataset there, authenticated by an API token read from a file or a `.dcor-access`
// token (whose certificate is then pinned), over HTTPS with the server's certificate pinned. The remote platform hashes what it stores, so the sha256 is
// verified; the dataset (the routed folder, else the destination's) must be a draft.
import { X509Certificate } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
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
}

const b64 = (value: string): string => Buffer.from(value).toString('base64');

/** Uploads through the other platform's tus endpoint and reads back through its action API. */
export class PlatformInstanceTarget implements DeliveryTarget {
  readonly kind = 'platform';
  private readonly base: URL;
  private connection: Promise<{ token: string; agent: Agent }> | undefined;

  constructor(readonly name: string, private readonly options: PlatformInstanceOptions) {
    this.base = new URL(options.url);
  }

  /** The token and a connection pool trusting only the pinned certificate, made on first use. */
  private connect(): Promise<{ token: string; agent: Agent }> {
    this.connection ??= this.options.credentials().then(({ token, certificatePem: pem }) => {
      const pinned = pem ? new X509Certificate(pem).fingerprint256 : undefined;
      const agent = new Agent({
        connections: 4,
        connect: pinned ? { ca: pem, checkServerIdentity: (_host: string, cert: PeerCertificate) => (cert.fingerprint256 === pinned ? undefined : new Error(`certificate ${cert.fingerprint256} is not the pinned ${pinned}`)) } : {},
      });
      return { token, agent };
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
    let connection: { token: string; agent: Agent };
    try {
      connection = await this.connect();
    } catch (error) {
      // Never the password or the token: only what went wrong with the file.
      throw new DeliveryError(`destination "${this.name}": its credentials cannot be read: ${(error as Error).message}`, true);
    }
    try {
      return await request(url, { method, dispatcher: connection.agent, signal, headers: { 'user-agent': USER_AGENT, authorization: connection.token, ...init.headers }, ...(init.body ? { body: init.body } : {}) });
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

  async send(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<RemoteCopy> {
    const dataset = this.dataset(folder);
    const created = await this.call('POST', 'upload/tus/', signal, {
      headers: { 'tus-resumable': '1.0.0', 'upload-length': String(file.size), 'upload-metadata': `package_id ${b64(dataset)},filename ${b64(file.name)},sha256 ${b64(file.sha256)}` },
    });
    if (created.statusCode !== 201) throw await this.failure(`creating the upload of "${file.name}" in dataset "${dataset}"`, created.statusCode, created.body);
    await created.body.dump();
    const location = String(created.headers.location ?? '');
    if (file.size > 0) {
      const patched = await this.call('PATCH', location, signal, { body: file.open(), headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(file.size) } }).catch(async (error: unknown) => {
        await this.terminate(location);
        throw error;
      });
      if (patched.statusCode !== 204) {
        const failure = await this.failure(`sending "${file.name}"`, patched.statusCode, patched.body);
        await this.terminate(location);
        throw failure;
      }
      await patched.body.dump();
    }
    const copy = await this.stat(folder, file.name, signal);
    if (!copy) throw new DeliveryError(`destination "${this.name}": "${file.name}" is not in dataset "${dataset}" after its upload`, true);
    return copy;
  }

  /** Ends an unfinished upload there, so that a retry can use the name again. */
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
