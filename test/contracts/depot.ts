// The contract every Depot must keep (run by each depot plugin's tests): bytes and hashes
// round-trip, ranges are exact, failures leave nothing behind, and partial uploads (when
// the depot has them) append, truncate and finish without copying.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Depot } from '../../core/plugins/hooks/depot.js';

/** How a test makes a fresh depot. */
export interface DepotContractOptions {
  name: string;
  make(): Promise<{ depot: Depot; cleanup(): Promise<void> }>;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function chunked(data: Buffer, size = 65_536): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) return this.push(null);
      this.push(data.subarray(offset, offset + size));
      offset += size;
    },
  });
}

function failing(after: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(after);
      } else this.destroy(new Error('client went away'));
    },
  });
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Registers the contract suite. */
export function runDepotContract(options: DepotContractOptions): void {
  describe(`Depot contract: ${options.name}`, () => {
    let depot: Depot;
    let cleanup: () => Promise<void>;
    before(async () => ({ depot, cleanup } = await options.make()));
    after(async () => cleanup());

    async function locations(): Promise<string[]> {
      const out: string[] = [];
      for await (const entry of depot.list()) out.push(entry.location);
      return out.sort();
    }

    it('stores bytes and reports their size and sha256, streamed in chunks', async () => {
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const stored = await depot.put(randomUUID(), chunked(data));
      assert.equal(stored.size, data.length);
      assert.equal(stored.sha256, sha(data));
      assert.deepEqual(await readAll(await depot.open(stored.location)), data);
      assert.equal((await depot.stat(stored.location))?.size, data.length);
    });

    it('stores an empty file', async () => {
      const stored = await depot.put(randomUUID(), Readable.from([]));
      assert.equal(stored.size, 0);
      assert.equal(stored.sha256, sha(Buffer.alloc(0)));
    });

    it('serves exact byte ranges and refuses ranges outside the file', async () => {
      const data = randomBytes(1000);
      const { location } = await depot.put(randomUUID(), Readable.from([data]));
      for (const [start, end] of [[0, 0], [999, 999], [10, 500], [0, 999]] as const) {
        assert.deepEqual(await readAll(await depot.open(location, { start, end })), data.subarray(start, end + 1));
      }
      await assert.rejects(async () => readAll(await depot.open(location, { start: 990, end: 1000 })));
    });

    it('keeps nothing when the expected size or sha256 differs, or the source fails', async () => {
      const before = await locations();
      const key = randomUUID();
      await assert.rejects(depot.put(key, Readable.from([Buffer.from('abc')]), { size: 4 }), /size mismatch/);
      await assert.rejects(depot.put(key, Readable.from([Buffer.from('abc')]), { sha256: '0'.repeat(64) }), /checksum mismatch/);
      await assert.rejects(depot.put(key, failing(Buffer.from('partial'))), /client went away/);
      assert.deepEqual(await locations(), before);
    });

    it('deletes, and deleting twice is fine; a missing object is NotFound', async () => {
      const { location } = await depot.put(randomUUID(), Readable.from([Buffer.from('x')]));
      await depot.delete(location);
      await depot.delete(location);
      assert.equal(await depot.stat(location), undefined);
      await assert.rejects(depot.open(location), (error: { code?: string }) => error.code === 'PLATFORM_ERR_NOT_FOUND');
    });

    it('lists exactly what was stored', async () => {
      const before = await locations();
      const a = await depot.put(randomUUID(), Readable.from([Buffer.from('a')]));
      const b = await depot.put(randomUUID(), Readable.from([Buffer.from('b')]));
      assert.deepEqual(await locations(), [...before, a.location, b.location].sort());
    });

    it('appends partial uploads at their offset, truncates, keeps what arrived before a failure, and finishes', async (t) => {
      const partials = depot.partials;
      if (!partials) return t.skip('this depot has no partial uploads');
      const id = randomBytes(16).toString('hex');
      await partials.create(id);
      assert.equal(await partials.size(id), 0);
      assert.equal(await partials.append(id, 0, Readable.from([Buffer.from('hello ')]), 100), 6);
      await assert.rejects(partials.append(id, 3, Readable.from([Buffer.from('x')]), 100), /offset/);
      await assert.rejects(partials.append(id, 6, Readable.from([Buffer.from('far too long')]), 5), /more than/);
      assert.equal(await partials.size(id), 6);
      assert.equal(await partials.append(id, 6, failing(Buffer.from('wor')), 100), 3);
      assert.equal(await partials.size(id), 9);
      await partials.truncate(id, 6);
      assert.equal(await partials.append(id, 6, Readable.from([Buffer.from('world')]), 5), 5);
      assert.deepEqual(await readAll(await partials.open(id, { start: 0, end: 4 })), Buffer.from('hello'));
      const listed: string[] = [];
      for await (const entry of partials.list()) listed.push(entry.uploadId);
      assert.ok(listed.includes(id));
      const key = randomUUID();
      const stored = await partials.finish(id, key, { size: 11, sha256: sha(Buffer.from('hello world')) });
      assert.deepEqual(await readAll(await depot.open(stored.location)), Buffer.from('hello world'));
      assert.equal(await partials.size(id), undefined);
    });
  });
}
