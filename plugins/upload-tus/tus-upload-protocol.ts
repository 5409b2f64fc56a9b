// The tus 1.0 protocol (core, creation, termination, checksum, expiration) under
// /upload/tus/, so stock tus clients work. Upload state lives in the database and bytes in
// the active depot's partial uploads, so any node can resume any upload. Bytes are hashed
// as they arrive; the running hash is only a cache: a process that did not see the earlier
// bytes re-hashes them once from the depot, or, where the depot cannot read them back before
// the end (S3 multipart parts), leaves the hash to the depot's finish.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { Transform } from 'node:stream';
import type { Context, Hono } from 'hono';
import {
  ActionRunnerId, AuthorizationError, ConflictError, DatabaseId, NotFoundError, PlatformConfigId, ResourceIntakeId, ValidationError, StorageFullError, TusError,
  type Actor, type AppEnv, type Depot, type PartialUploads, type Services, type UploadProtocol,
} from '../../core/api.js';
import { TusUploadStore, type TusUpload } from './tus-upload-store.js';
import { parseUploadMetadata, sanitiseResourceName } from './upload-metadata.js';
import { requestBody } from './request-body.js';

const TUS_VERSION = '1.0.0';
const CHECKSUMS: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', md5: 'md5' };

interface RunningHash {
  offset: number;
  /** Undefined when no process saw every byte and the depot cannot read them back: the depot hashes at the end. */
  hash: Hash | undefined;
}

/** Limits from `[upload]`. */
interface UploadLimits {
  max_size: number;
  expiry_hours: number;
  quota_bytes: number;
}

/** The tus upload protocol. */
export class TusUploadProtocol implements UploadProtocol {
  readonly name = 'tus';
  private readonly hashes = new Map<string, RunningHash>();
  private readonly store: TusUploadStore;

  /**
   * @param lockSeconds how long a PATCH holds an upload's lock before renewing it; after a
   * crash the upload is writable again once this lease lapses.
   */
  constructor(
    private readonly services: Services,
    private readonly lockSeconds = 15,
  ) {
    this.store = new TusUploadStore(() => services.get(DatabaseId));
  }

  /** The upload store (for inspect and cleanup). */
  uploads(): TusUploadStore {
    return this.store;
  }

  mount(app: Hono<AppEnv>): void {
    app.use('*', async (c, next) => {
      c.header('Tus-Resumable', TUS_VERSION);
      if (c.req.method !== 'OPTIONS' && c.req.method !== 'GET') {
        const version = c.req.header('tus-resumable');
        if (version !== TUS_VERSION) {
          c.header('Tus-Version', TUS_VERSION);
          throw new TusError(412, `Tus-Resumable must be ${TUS_VERSION}, not ${version ?? '(missing)'}`);
        }
      }
      await next();
    });
    app.options('/', (c) => {
      const limits = this.limits();
      return c.body(null, 204, {
        'Tus-Version': TUS_VERSION,
        'Tus-Extension': 'creation,termination,checksum,expiration',
        'Tus-Max-Size': String(limits.max_size),
        'Tus-Checksum-Algorithm': Object.keys(CHECKSUMS).join(','),
      });
    });
    app.post('/', (c) => this.create(c));
    // hono answers HEAD with the GET route (without a body).
    app.get('/:id', (c) => this.head(c));
    app.patch('/:id', (c) => this.patch(c));
    app.delete('/:id', (c) => this.terminate(c));
  }

  private limits(): UploadLimits {
    return this.services.get(PlatformConfigId).section<UploadLimits>('upload');
  }

  private depot(name?: string): Depot & { partials: PartialUploads } {
    const intake = this.services.get(ResourceIntakeId);
    const depot = name ? intake.depot(name) : intake.activeDepot();
    if (!depot?.partials) throw new TusError(500, `depot "${name ?? 'active'}" cannot keep partial uploads`);
    return depot as Depot & { partials: PartialUploads };
  }

  private user(c: Context<AppEnv>): Actor & { kind: 'user' } {
    const actor = c.get('actor');
    if (actor.kind !== 'user') throw new AuthorizationError('uploads need an API token in the Authorization header');
    return actor;
  }

  private async create(c: Context<AppEnv>): Promise<Response> {
    const actor = this.user(c);
    const limits = this.limits();
    if (c.req.header('upload-defer-length')) throw new TusError(400, 'Upload-Defer-Length is not supported; send Upload-Length');
    const lengthHeader = c.req.header('upload-length');
    if (!lengthHeader || !/^\d{1,16}$/.test(lengthHeader)) throw new ValidationError(`Upload-Length must be a whole number of bytes, not ${lengthHeader ?? '(missing)'}`);
    const length = Number(lengthHeader);
    if (length > limits.max_size) throw new TusError(413, `the file is ${length} bytes; the limit is ${limits.max_size} bytes ([upload] max_size)`);
    const metadata = parseUploadMetadata(c.req.header('upload-metadata'));
    const datasetRef = metadata.package_id ?? metadata.dataset;
    if (!datasetRef) throw new ValidationError('Upload-Metadata needs "package_id" (the dataset name or id)', { package_id: ['Missing value'] });
    if (!metadata.filename) throw new ValidationError('Upload-Metadata needs "filename"', { filename: ['Missing value'] });
    const declared = metadata.sha256?.toLowerCase();
    if (declared !== undefined && !/^[0-9a-f]{64}$/.test(declared)) throw new ValidationError(`Upload-Metadata sha256 must be 64 hex digits`, { sha256: ['is not a sha256'] });
    const name = sanitiseResourceName(metadata.filename);

    const actions = this.services.get(ActionRunnerId);
    const call = { actor, address: c.get('address'), requestId: c.get('requestId') };
    const dataset = (await actions.run('package_show', { id: datasetRef }, call)) as { id: string; name: string; state: string; resources: Array<{ name: string }> };
    if (dataset.state !== 'draft') throw new ConflictError(`dataset "${dataset.name}" is ${dataset.state}; files can be uploaded only to drafts`);
    if (dataset.resources.some((r) => r.name === name) || (await this.store.nameInFlight(dataset.id, name))) {
      throw new ConflictError(`dataset "${dataset.name}" already has a resource named "${name}"`, { filename: ['is already used in this dataset'] });
    }
    const inFlight = await this.store.bytesInFlight(actor.user.id);
    if (inFlight + length > limits.quota_bytes) {
      throw new TusError(413, `this upload would bring your unfinished uploads to ${inFlight + length} bytes; the quota is ${limits.quota_bytes} bytes ([upload] quota_bytes); finish or delete other uploads first`);
    }
    const resource = (await actions.run('resource_create', { package_id: dataset.id, name }, call)) as { id: string };
    const depot = this.depot();
    const upload = await this.store.create({
      resourceId: resource.id, datasetId: dataset.id, userId: actor.user.id, depot: depot.name, length,
      metadata: { ...metadata, filename: name }, declaredSha256: declared, expiresAt: this.expiry(),
    });
    await depot.partials.create(upload.id, resource.id);
    this.hashes.set(upload.id, { offset: 0, hash: createHash('sha256') });
    if (length === 0) await this.complete(upload, call);
    return c.body(null, 201, { Location: this.location(c, upload.id), 'Upload-Expires': upload.expiresAt.toUTCString(), 'Upload-Offset': '0' });
  }

  private location(c: Context<AppEnv>, id: string): string {
    const path = new URL(c.req.url).pathname.replace(/\/?$/, '/');
    return `${path}${id}`;
  }

  private expiry(): Date {
    return new Date(Date.now() + this.limits().expiry_hours * 3_600_000);
  }

  /** The upload, if it exists, is the caller's and has not expired. */
  private async owned(c: Context<AppEnv>): Promise<TusUpload> {
    const actor = this.user(c);
    const upload = await this.store.find(c.req.param('id') ?? '');
    if (!upload) throw new NotFoundError(`no upload "${c.req.param('id')}" (finished, deleted or never created)`);
    if (upload.userId !== actor.user.id && !actor.user.sysadmin) throw new NotFoundError(`no upload "${c.req.param('id')}" (finished, deleted or never created)`);
    if (upload.expiresAt <= new Date()) throw new TusError(410, `upload ${upload.id} expired at ${upload.expiresAt.toISOString()}; start it again`);
    return upload;
  }

  private async head(c: Context<AppEnv>): Promise<Response> {
    const upload = await this.owned(c);
    // The bytes in the depot are authoritative: after a crash mid-PATCH they run ahead of the row.
    const stored = await this.depot(upload.depot).partials.size(upload.id);
    const offset = stored ?? upload.offset;
    if (offset !== upload.offset) await this.store.setOffset(upload.id, offset, upload.expiresAt);
    return c.body(null, 200, {
      'Upload-Offset': String(offset),
      'Upload-Length': String(upload.length),
      'Upload-Expires': upload.expiresAt.toUTCString(),
      'Cache-Control': 'no-store',
    });
  }

  private async patch(c: Context<AppEnv>): Promise<Response> {
    const upload = await this.owned(c);
    if (c.req.header('content-type') !== 'application/offset+octet-stream') throw new TusError(415, 'a PATCH must have Content-Type: application/offset+octet-stream');
    const offsetHeader = c.req.header('upload-offset');
    if (!offsetHeader || !/^\d{1,16}$/.test(offsetHeader)) throw new ValidationError(`Upload-Offset must be a whole number, not ${offsetHeader ?? '(missing)'}`);
    const offset = Number(offsetHeader);
    const checksum = parseChecksum(c.req.header('upload-checksum'));
    // Take the body before anything is awaited: a client that hangs up while the lock is
    // taken must not leave an error on the request with no listener (an uncaught exception)
    // nor a body that never ends (a PATCH that holds the upload's lock for ever).
    const body = requestBody(c);
    let bodyFailure: Error | undefined;
    const remember = (error: Error): void => void (bodyFailure ??= error);
    body.on('error', remember);
    const owner = randomUUID();
    if (!(await this.store.lock(upload.id, owner, this.lockSeconds))) throw new TusError(423, `upload ${upload.id} is being written by another request; retry when it ends`);
    // A renewal that fails (no database connection free in time) is retried by the next one; unhandled, it would end the process.
    const renew = setInterval(() => void this.store.lock(upload.id, owner, this.lockSeconds).catch(() => undefined), (this.lockSeconds * 1000) / 3);
    try {
      const depot = this.depot(upload.depot);
      const stored = (await depot.partials.size(upload.id)) ?? 0;
      const current = Math.max(stored, 0);
      if (current !== upload.offset) await this.store.setOffset(upload.id, current, upload.expiresAt);
      if (offset !== current) throw new TusError(409, `Upload-Offset ${offset} does not match the ${current} bytes received; send HEAD to learn the offset`);
      const running = await this.runningHash(upload, depot.partials, current);
      const before = running.hash?.copy();
      const chunkHash = checksum ? createHash(checksum.algorithm) : undefined;
      let seen = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          seen += chunk.length;
          running.hash?.update(chunk);
          chunkHash?.update(chunk);
          done(null, chunk);
        },
      });
      // The body's failure is passed to the tap (below) while the depot may still be awaiting
      // (a stat, an open) before it reads the tap and listens to it: the tap must have a
      // listener from the start, or a client hanging up in that gap is an uncaught 'error'
      // that ends the process. The depot still sees the failure (the tap is destroyed).
      tap.on('error', remember);
      // A client that hung up ends the body where it stopped: what arrived is kept (as when it
      // hangs up mid-body) and the lock is released, rather than waiting for an end that never comes.
      const hungUp = (): void => {
        body.unpipe(tap);
        tap.end();
      };
      if (bodyFailure || (body.destroyed && !body.readableEnded)) queueMicrotask(hungUp);
      else {
        body.on('error', (error) => tap.destroy(error));
        body.on('close', () => {
          if (!body.readableEnded && !tap.writableEnded) hungUp();
        });
      }
      let written: number;
      try {
        written = await depot.partials.append(upload.id, current, body.pipe(tap), upload.length - current);
      } catch (error) {
        await depot.partials.truncate(upload.id, current);
        running.hash = before;
        running.offset = current;
        if (error instanceof ValidationError) throw new TusError(413, `the PATCH carries more than the ${upload.length - current} bytes left of Upload-Length; nothing of it was kept`);
        if (error instanceof StorageFullError) throw new TusError(507, `the server's storage is full; nothing of this PATCH was kept and the upload stays at offset ${current}: resume from there later`);
        throw error;
      }
      if (written !== seen) {
        // The hash saw bytes that did not reach the depot: let the next PATCH re-hash.
        this.hashes.delete(upload.id);
      } else {
        running.offset = current + written;
      }
      if (checksum && chunkHash) {
        const actual = chunkHash.digest('base64');
        if (actual !== checksum.value || written !== seen) {
          await depot.partials.truncate(upload.id, current);
          this.hashes.set(upload.id, { offset: current, hash: before });
          throw new TusError(460, `Upload-Checksum ${checksum.algorithm} mismatch: the chunk was discarded; send it again from offset ${current}`);
        }
      }
      const offsetNow = current + written;
      const expiresAt = this.expiry();
      await this.store.setOffset(upload.id, offsetNow, expiresAt);
      if (offsetNow === upload.length) {
        await this.complete({ ...upload, offset: offsetNow }, { actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId') });
      }
      return c.body(null, 204, { 'Upload-Offset': String(offsetNow), 'Upload-Expires': expiresAt.toUTCString() });
    } finally {
      clearInterval(renew);
      await this.store.unlock(upload.id, owner);
    }
  }

  /**
   * The running hash at `offset`, re-hashing the received prefix when this process lacks it
   * (or none, when the depot cannot read the prefix back: it hashes the finished object).
   */
  private async runningHash(upload: TusUpload, partials: PartialUploads, offset: number): Promise<RunningHash> {
    const cached = this.hashes.get(upload.id);
    if (cached && cached.offset === offset) return cached;
    if (offset > 0 && partials.readable === false) return this.unhashed(upload.id, offset);
    const hash = createHash('sha256');
    if (offset > 0) for await (const chunk of await partials.open(upload.id, { start: 0, end: offset - 1 })) hash.update(chunk as Buffer);
    const running = { offset, hash };
    this.hashes.set(upload.id, running);
    return running;
  }

  private unhashed(uploadId: string, offset: number): RunningHash {
    const running = { offset, hash: undefined };
    this.hashes.set(uploadId, running);
    return running;
  }

  /** Moves the finished upload into place and hands it to core's intake. */
  private async complete(upload: TusUpload, call: { actor: Actor; address?: string; requestId?: string }): Promise<void> {
    const depot = this.depot(upload.depot);
    const running = await this.runningHash(upload, depot.partials, upload.length);
    const sha256 = running.hash?.digest('hex');
    this.hashes.delete(upload.id);
    const intake = this.services.get(ResourceIntakeId);
    const discard = async (actual: string, location?: string): Promise<never> => {
      if (location === undefined) await depot.partials.delete(upload.id);
      else await depot.delete(location);
      await this.store.remove(upload.id);
      await this.services.get(ActionRunnerId).run('resource_delete', { id: upload.resourceId }, call).catch(() => undefined);
      throw new TusError(460, `the file's sha256 ${actual} differs from the declared ${upload.declaredSha256}; the upload was discarded`);
    };
    if (sha256 !== undefined && upload.declaredSha256 && upload.declaredSha256 !== sha256) await discard(sha256);
    const stored = await depot.partials.finish(upload.id, upload.resourceId, { size: upload.length, ...(sha256 === undefined ? {} : { sha256 }) });
    if (upload.declaredSha256 && upload.declaredSha256 !== stored.sha256) await discard(stored.sha256, stored.location);
    await intake.recordStored(upload.resourceId, depot.name, stored, { actor: call.actor, ...(call.address ? { address: call.address } : {}), protocol: this.name });
    await this.store.remove(upload.id);
  }

  private async terminate(c: Context<AppEnv>): Promise<Response> {
    const upload = await this.owned(c);
    const owner = randomUUID();
    if (!(await this.store.lock(upload.id, owner, this.lockSeconds))) throw new TusError(423, `upload ${upload.id} is being written; retry when it ends`);
    await this.depot(upload.depot).partials.delete(upload.id);
    await this.store.remove(upload.id);
    this.hashes.delete(upload.id);
    await this.services.get(ActionRunnerId).run('resource_delete', { id: upload.resourceId }, { actor: c.get('actor'), address: c.get('address') }).catch(() => undefined);
    return c.body(null, 204);
  }

  /** Removes uploads past expiry (bytes and rows, and their waiting resources). @returns their ids. */
  async removeExpired(now = new Date()): Promise<string[]> {
    const removed: string[] = [];
    for (const upload of await this.store.expired(now)) {
      await this.depot(upload.depot).partials.delete(upload.id).catch(() => undefined);
      await this.store.remove(upload.id);
      this.hashes.delete(upload.id);
      await this.services.get(ActionRunnerId).run('resource_delete', { id: upload.resourceId }, { actor: { kind: 'system', name: 'upload-tus' } }).catch(() => undefined);
      removed.push(upload.id);
    }
    return removed;
  }
}

function parseChecksum(header: string | undefined): { algorithm: string; value: string } | undefined {
  if (!header) return undefined;
  const [name, value, ...rest] = header.trim().split(' ');
  const algorithm = name ? CHECKSUMS[name.toLowerCase()] : undefined;
  if (!algorithm || !value || rest.length) throw new TusError(400, `Upload-Checksum must be "<algorithm> <base64>" with one of ${Object.keys(CHECKSUMS).join(', ')}`);
  return { algorithm, value };
}
