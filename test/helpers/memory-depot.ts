// An in-memory Depot for tests of code that stores files (intake, downloads, inspect),
// contributed by a tiny inline plugin. It hashes while writing like a real depot.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { definePlugin, type PluginDefinition } from '../../core/plugins/define-plugin.js';
import { Depot, type ByteRange, type DepotEntry, type PartialEntry, type PartialUploads, type StoredObject } from '../../core/plugins/hooks/depot.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';

/** Partial uploads in memory, with the same contract as a real depot's. */
export class MemoryPartials implements PartialUploads {
  readonly uploads = new Map<string, { data: Buffer; modified: Date }>();
  constructor(private readonly depot: MemoryDepot) {}

  async create(uploadId: string): Promise<void> {
    this.uploads.set(uploadId, { data: Buffer.alloc(0), modified: new Date() });
  }

  async size(uploadId: string): Promise<number | undefined> {
    return this.uploads.get(uploadId)?.data.length;
  }

  async append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number> {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (offset !== upload.data.length) throw new ValidationError(`offset ${offset} does not match the ${upload.data.length} bytes received`);
    let written = 0;
    try {
      for await (const chunk of source) {
        const buffer = Buffer.from(chunk as Buffer);
        if (written + buffer.length > limit) {
          upload.data = upload.data.subarray(0, offset);
          throw new ValidationError(`more than the ${limit} bytes left were sent`);
        }
        upload.data = Buffer.concat([upload.data, buffer]);
        written += buffer.length;
      }
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      // A source that failed mid-way keeps what arrived.
    }
    upload.modified = new Date();
    return written;
  }

  async truncate(uploadId: string, size: number): Promise<void> {
    const upload = this.uploads.get(uploadId);
    if (upload) upload.data = upload.data.subarray(0, size);
  }

  async open(uploadId: string, range?: ByteRange): Promise<Readable> {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new NotFoundError(`no partial upload ${uploadId}`);
    return Readable.from([range ? upload.data.subarray(range.start, range.end + 1) : upload.data]);
  }

  async finish(uploadId: string, key: string, checked: { size: number; sha256?: string }): Promise<StoredObject> {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new NotFoundError(`no partial upload ${uploadId}`);
    const location = locationOf(key);
    this.depot.objects.set(location, { data: upload.data, modified: new Date() });
    this.uploads.delete(uploadId);
    return { location, size: checked.size, sha256: checked.sha256 ?? createHash('sha256').update(upload.data).digest('hex') };
  }

  async delete(uploadId: string): Promise<void> {
    this.uploads.delete(uploadId);
  }

  async *list(): AsyncIterable<PartialEntry> {
    for (const [uploadId, upload] of this.uploads) yield { uploadId, size: upload.data.length, modified: upload.modified };
  }
}

function locationOf(key: string): string {
  return `resources/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`;
}

/** A Depot keeping objects in a Map. */
export class MemoryDepot implements Depot {
  readonly objects = new Map<string, { data: Buffer; modified: Date }>();
  readonly partials: MemoryPartials = new MemoryPartials(this);
  constructor(readonly name = 'fs') {}

  async put(key: string, source: Readable, expect?: { size?: number; sha256?: string }): Promise<StoredObject> {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    for await (const chunk of source) {
      hash.update(chunk as Buffer);
      chunks.push(Buffer.from(chunk as Buffer));
    }
    const data = Buffer.concat(chunks);
    const sha256 = hash.digest('hex');
    if (expect?.size !== undefined && expect.size !== data.length) throw new ValidationError(`size mismatch: expected ${expect.size} bytes, received ${data.length}`);
    if (expect?.sha256 && expect.sha256 !== sha256) throw new ValidationError(`checksum mismatch: expected ${expect.sha256}, received ${sha256}`);
    const location = locationOf(key);
    this.objects.set(location, { data, modified: new Date() });
    return { location, size: data.length, sha256 };
  }

  async open(location: string, range?: ByteRange): Promise<Readable> {
    const object = this.objects.get(location);
    if (!object) throw new NotFoundError(`no object at ${location}`);
    if (range && (range.start < 0 || range.end < range.start || range.end >= object.data.length)) throw new ValidationError(`range ${range.start}-${range.end} is outside the ${object.data.length} bytes`);
    return Readable.from([range ? object.data.subarray(range.start, range.end + 1) : object.data]);
  }

  async stat(location: string): Promise<DepotEntry | undefined> {
    const object = this.objects.get(location);
    return object ? { location, size: object.data.length, modified: object.modified } : undefined;
  }

  async delete(location: string): Promise<void> {
    this.objects.delete(location);
  }

  async *list(): AsyncIterable<DepotEntry> {
    for (const [location, object] of this.objects) yield { location, size: object.data.length, modified: object.modified };
  }
}

/** An inline plugin contributing `depot` (named `fs` by default, the default active depot). */
export function memoryDepotPlugin(depot: MemoryDepot): PluginDefinition {
  return definePlugin({ name: 'test-memory-depot', version: '1.0.0', register: (ctx) => ctx.contribute(Depot, depot) });
}
