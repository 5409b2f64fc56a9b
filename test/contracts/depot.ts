// The contract every Depot must keep, run by each depot plugin's tests: bytes, sizes and
// hashes round-trip (streamed, in constant memory), ranges are exact, failures leave nothing
// behind, replacing is whole, list() tells the truth, and partial uploads (when the depot
// has them) append, truncate and finish. It assumes only what the Depot interface promises,
// plus one thing its JSDoc implies: a key always maps to the same location.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFoundError, ValidationError, type Depot, type DepotEntry } from '../../core/api.js';

/** How a depot's test suite hands the contract a fresh, empty depot. */
export interface DepotContractOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Makes a depot for this suite; `cleanup` is called once after all its tests. */
  make(): Promise<{ depot: Depot; cleanup(): Promise<void> }>;
}

const MiB = 1024 * 1024;

/** Deterministic content: byte i of every generated stream, so ranges can be checked without holding the file. */
function patternByte(i: number): number {
  return (i * 131 + (i >>> 8) * 7 + (i >>> 16) * 3) & 0xff;
}

function pattern(start: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = patternByte(start + i);
  return out;
}

/** A stream of `total` pattern bytes made chunk by chunk (never one big buffer), hashed as it is read. */
function generated(total: number, chunk = 64 * 1024 + 3): { source: Readable; read(): { size: number; sha256: string } } {
  const hash = createHash('sha256');
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const bytes = pattern(sent, Math.min(chunk, total - sent));
      hash.update(bytes);
      sent += bytes.length;
      this.push(bytes);
    },
  });
  return { source, read: () => ({ size: sent, sha256: hash.copy().digest('hex') }) };
}

/** A stream that sends `chunks` pieces of `piece`, then fails with `message`. */
function failing(piece: Buffer, chunks: number, message: string): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < chunks) {
        sent++;
        this.push(piece);
      } else this.destroy(new Error(message));
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Size and sha256 of a stream, read in constant memory. */
async function digest(stream: Readable): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Uint8Array);
    size += (chunk as Uint8Array).length;
  }
  return { size, sha256: hash.digest('hex') };
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const bytes = (text: string): Readable => Readable.from([Buffer.from(text)]);

const isNotFound = (error: unknown): boolean => error instanceof NotFoundError || (error as { code?: unknown }).code === 'PLATFORM_ERR_NOT_FOUND';
const isValidation = (error: unknown): boolean => error instanceof ValidationError || (error as { code?: unknown }).code === 'PLATFORM_ERR_VALIDATION';

/** Registers the contract suite (a node:test `describe`) for one depot implementation. */
export function runDepotContract(options: DepotContractOptions): void {
  describe(`Depot contract: ${options.name}`, () => {
    let depot: Depot;
    let cleanup: () => Promise<void>;
    before(async () => ({ depot, cleanup } = await options.make()));
    after(async () => cleanup());

    async function listed(): Promise<Map<string, DepotEntry>> {
      const out = new Map<string, DepotEntry>();
      for await (const entry of depot.list()) {
        assert.ok(!out.has(entry.location), `list() reported ${entry.location} twice`);
        out.set(entry.location, entry);
      }
      return out;
    }

    /** The location a key maps to, left empty: stored once, then deleted. */
    async function emptyLocationOf(key: string): Promise<string> {
      const { location } = await depot.put(key, bytes('probe'));
      await depot.delete(location);
      assert.equal(await depot.stat(location), undefined);
      return location;
    }

    it('has a name', () => {
      assert.equal(typeof depot.name, 'string');
      assert.ok(depot.name.length > 0);
    });

    it('round-trips bytes, with size and sha256 equal to a hash of the input', async () => {
      const data = randomBytes(100_000);
      const stored = await depot.put(randomUUID(), Readable.from([data.subarray(0, 3), data.subarray(3, 70_000), data.subarray(70_000)]));
      assert.equal(stored.size, data.length);
      assert.equal(stored.sha256, sha(data));
      assert.match(stored.sha256, /^[0-9a-f]{64}$/);
      assert.deepEqual(await readAll(await depot.open(stored.location)), data);
      const stat = await depot.stat(stored.location);
      assert.equal(stat?.location, stored.location);
      assert.equal(stat?.size, data.length);
      assert.ok(stat?.modified instanceof Date && !Number.isNaN(stat.modified.getTime()));
    });

    it('stores an empty file', async () => {
      const stored = await depot.put(randomUUID(), Readable.from([]));
      assert.equal(stored.size, 0);
      assert.equal(stored.sha256, sha(Buffer.alloc(0)));
      assert.equal((await readAll(await depot.open(stored.location))).length, 0);
      assert.equal((await depot.stat(stored.location))?.size, 0);
      assert.equal((await listed()).get(stored.location)?.size, 0);
    });

    it('accepts Uint8Array and string chunks, not only Buffers', async () => {
      const stored = await depot.put(randomUUID(), Readable.from([new Uint8Array([104, 105]), ' there']));
      assert.equal(stored.size, 8);
      assert.equal(stored.sha256, sha(Buffer.from('hi there')));
      assert.equal((await readAll(await depot.open(stored.location))).toString(), 'hi there');
    });

    it('streams a multi-MiB input through, hashing it exactly', async () => {
      const total = 5 * MiB + 12_345;
      const input = generated(total);
      const stored = await depot.put(randomUUID(), input.source, { size: total });
      const sent = input.read();
      assert.equal(sent.size, total);
      assert.equal(stored.size, total);
      assert.equal(stored.sha256, sent.sha256);
      assert.deepEqual(await digest(await depot.open(stored.location)), { size: total, sha256: sent.sha256 });
      // Ranges that cross the generator's chunk boundaries and the depot's own.
      for (const [start, end] of [[65_535, 65_539 + 200_000], [total - 70_000, total - 1], [3 * MiB - 1, 3 * MiB]] as const) {
        assert.deepEqual(await readAll(await depot.open(stored.location, { start, end })), pattern(start, end - start + 1), `range ${start}-${end}`);
      }
    });

    it('serves exact inclusive byte ranges: first byte, last byte, middle, whole', async () => {
      const data = randomBytes(1000);
      const { location } = await depot.put(randomUUID(), Readable.from([data]));
      for (const [start, end] of [[0, 0], [999, 999], [10, 500], [0, 999], [1, 998]] as const) {
        assert.deepEqual(await readAll(await depot.open(location, { start, end })), data.subarray(start, end + 1), `range ${start}-${end}`);
      }
    });

    it('refuses ranges outside the file or backwards with a ValidationError', async () => {
      const { location } = await depot.put(randomUUID(), Readable.from([randomBytes(1000)]));
      for (const range of [{ start: 990, end: 1000 }, { start: 1000, end: 1000 }, { start: 5000, end: 6000 }, { start: 10, end: 9 }, { start: -1, end: 5 }]) {
        await assert.rejects(async () => readAll(await depot.open(location, range)), isValidation, `range ${range.start}-${range.end}`);
      }
      const empty = await depot.put(randomUUID(), Readable.from([]));
      await assert.rejects(async () => readAll(await depot.open(empty.location, { start: 0, end: 0 })), isValidation);
    });

    it('keeps nothing when the size differs from the expected one, and says both', async () => {
      const key = randomUUID();
      const location = await emptyLocationOf(key);
      const before = await listed();
      await assert.rejects(depot.put(key, bytes('abc'), { size: 4 }), (error: Error) => isValidation(error) && /\b4\b/.test(error.message) && /\b3\b/.test(error.message));
      await assert.rejects(depot.put(key, bytes('abcdef'), { size: 2 }), isValidation);
      assert.equal(await depot.stat(location), undefined);
      await assert.rejects(depot.open(location), isNotFound);
      assert.deepEqual([...(await listed()).keys()], [...before.keys()]);
    });

    it('keeps nothing when the sha256 differs from the expected one, and says both', async () => {
      const key = randomUUID();
      const location = await emptyLocationOf(key);
      const before = await listed();
      const wrong = sha(Buffer.from('something else'));
      await assert.rejects(depot.put(key, bytes('abc'), { size: 3, sha256: wrong }), (error: Error) => isValidation(error) && error.message.includes(wrong) && error.message.includes(sha(Buffer.from('abc'))));
      assert.equal(await depot.stat(location), undefined);
      assert.deepEqual([...(await listed()).keys()], [...before.keys()]);
    });

    it('stores when the expected size and sha256 match', async () => {
      const data = randomBytes(4321);
      const stored = await depot.put(randomUUID(), Readable.from([data]), { size: data.length, sha256: sha(data) });
      assert.equal(stored.size, data.length);
      assert.deepEqual(await readAll(await depot.open(stored.location)), data);
    });

    it('keeps nothing when the source stream fails mid-way, and passes its error on', async () => {
      const key = randomUUID();
      const location = await emptyLocationOf(key);
      const before = await listed();
      await assert.rejects(depot.put(key, failing(randomBytes(64 * 1024), 20, 'client went away')), /client went away/);
      assert.equal(await depot.stat(location), undefined);
      assert.deepEqual([...(await listed()).keys()], [...before.keys()]);
    });

    it('leaves an existing object untouched when a replacement fails', async () => {
      const key = randomUUID();
      const original = await depot.put(key, bytes('original'));
      await assert.rejects(depot.put(key, bytes('replacement'), { sha256: sha(Buffer.from('nope')) }), isValidation);
      await assert.rejects(depot.put(key, failing(Buffer.from('replace'), 3, 'source broke')), /source broke/);
      assert.equal((await readAll(await depot.open(original.location))).toString(), 'original');
      assert.equal((await depot.stat(original.location))?.size, 8);
    });

    it('replaces an object stored again under the same key', async () => {
      const key = randomUUID();
      const first = await depot.put(key, bytes('first version'));
      const second = await depot.put(key, bytes('second'));
      assert.equal(second.location, first.location);
      assert.equal((await readAll(await depot.open(second.location))).toString(), 'second');
      assert.equal((await depot.stat(second.location))?.size, 6);
      assert.equal([...(await listed()).keys()].filter((location) => location === first.location).length, 1);
    });

    it('deletes: stat is then undefined, open is NotFound, and deleting again is fine', async () => {
      const { location } = await depot.put(randomUUID(), bytes('x'));
      await depot.delete(location);
      assert.equal(await depot.stat(location), undefined);
      await assert.rejects(depot.open(location), isNotFound);
      await depot.delete(location);
      assert.ok(!(await listed()).has(location));
    });

    it('deleting a location that never held anything is fine', async () => {
      const location = await emptyLocationOf(randomUUID());
      await depot.delete(location);
      assert.equal(await depot.stat(location), undefined);
    });

    it('says NotFound when opening a location that holds nothing', async () => {
      const location = await emptyLocationOf(randomUUID());
      await assert.rejects(depot.open(location), isNotFound);
      await assert.rejects(depot.open(location, { start: 0, end: 0 }), (error: unknown) => isNotFound(error) || isValidation(error));
    });

    it('lists exactly what was stored, with sizes, and forgets what was deleted', async () => {
      const before = await listed();
      const a = await depot.put(randomUUID(), bytes('a'));
      const b = await depot.put(randomUUID(), bytes('bb'));
      const c = await depot.put(randomUUID(), bytes('ccc'));
      let now = await listed();
      assert.deepEqual([...now.keys()].sort(), [...before.keys(), a.location, b.location, c.location].sort());
      assert.deepEqual([a, b, c].map((s) => now.get(s.location)?.size), [1, 2, 3]);
      assert.ok([a, b, c].every((s) => now.get(s.location)?.modified instanceof Date));
      await depot.delete(b.location);
      now = await listed();
      assert.deepEqual([...now.keys()].sort(), [...before.keys(), a.location, c.location].sort());
    });

    it('appends partial uploads at their offset, truncates, keeps what arrived before a failure, and finishes', async (t) => {
      const partials = depot.partials;
      if (!partials) return t.skip('this depot has no partial uploads');
      const id = randomBytes(16).toString('hex');
      await partials.create(id);
      assert.equal(await partials.size(id), 0);
      assert.equal(await partials.append(id, 0, bytes('hello '), 100), 6);
      await assert.rejects(partials.append(id, 3, bytes('x'), 100), /offset/);
      await assert.rejects(partials.append(id, 6, bytes('far too long'), 5), /more than/);
      assert.equal(await partials.size(id), 6);
      assert.equal(await partials.append(id, 6, failing(Buffer.from('wor'), 1, 'client went away'), 100), 3);
      assert.equal(await partials.size(id), 9);
      await partials.truncate(id, 6);
      assert.equal(await partials.append(id, 6, bytes('world'), 5), 5);
      assert.deepEqual(await readAll(await partials.open(id, { start: 0, end: 4 })), Buffer.from('hello'));
      const ids: string[] = [];
      for await (const entry of partials.list()) ids.push(entry.uploadId);
      assert.ok(ids.includes(id));
      const before = await listed();
      const stored = await partials.finish(id, randomUUID(), { size: 11, sha256: sha(Buffer.from('hello world')) });
      assert.deepEqual(await readAll(await depot.open(stored.location)), Buffer.from('hello world'));
      assert.equal(await partials.size(id), undefined);
      assert.deepEqual([...(await listed()).keys()].sort(), [...before.keys(), stored.location].sort());
      await partials.delete(id);
    });
  });
}
