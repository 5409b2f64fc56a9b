// An in-memory Depot for tests of code that stores files (intake, downloads, inspect),
// contributed by a tiny inline plugin. It hashes while writing like a real depot.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { definePlugin, type PluginDefinition } from '../../core/plugins/define-plugin.js';
import { Depot, type ByteRange, type DepotEntry, type StoredObject } from '../../core/plugins/hooks/depot.js';
import { NotFoundError, ValidationError } from '../../core/errors.js';

/** A Depot keeping objects in a Map. */
export class MemoryDepot implements Depot {
  readonly objects = new Map<string, { data: Buffer; modified: Date }>();
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
    const location = `resources/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`;
    this.objects.set(location, { data, modified: new Date() });
    return { location, size: data.length, sha256 };
  }

  async open(location: string, range?: ByteRange): Promise<Readable> {
    const object = this.objects.get(location);
    if (!object) throw new NotFoundError(`no object at ${location}`);
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
