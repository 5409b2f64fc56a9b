// The contract every destination of the distribution plugin keeps (a local folder, WebDAV, a
// platform instance): what delivery relies on when it sends, verifies and, after an
// interrupted attempt, looks again. A sent file is there whole, with its size (and sha256 when
// the destination can tell); sending again replaces it; a send whose source fails or whose
// signal is aborted rejects and leaves no file under the name; remove is idempotent; and what it
// reports for the audit trail holds no credentials. It is structural (it names no plugin type),
// so it also holds a third party's transport to the same rules.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

/** A file delivery sends: `open(start)` gives a fresh stream of its bytes from `start`. */
export interface DestinationFile {
  name: string;
  size: number;
  sha256: string;
  open(start?: number): Readable;
}

/** What a destination says it holds. */
export interface DestinationCopy {
  location: string;
  size: number;
  sha256?: string;
}

/** A destination's transport, as delivery uses it. */
export interface DestinationUnderTest {
  readonly name: string;
  readonly kind: string;
  send(file: DestinationFile, folder: string, signal: AbortSignal): Promise<DestinationCopy>;
  stat(folder: string, name: string, signal: AbortSignal): Promise<DestinationCopy | undefined>;
  remove(folder: string, name: string, signal: AbortSignal): Promise<void>;
  publicPath?(folder: string, name: string): string;
  close(): Promise<void>;
}

/** How a destination's test suite hands the contract a fresh, empty destination. */
export interface DeliveryTargetContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<{ target: DestinationUnderTest; cleanup(): Promise<void> }>;
}

const signal = (): AbortSignal => new AbortController().signal;

/** A file of `bytes`; its stream fails after `failAfter` bytes when given. */
function outgoing(name: string, bytes: Buffer, failAfter?: number): DestinationFile {
  return {
    name,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    open(start = 0) {
      const rest = bytes.subarray(start);
      if (failAfter === undefined) return Readable.from([rest.subarray(0, rest.length >> 1), rest.subarray(rest.length >> 1)]);
      let sent = false;
      return new Readable({
        read() {
          if (sent) return void this.destroy(new Error('the source broke off'));
          sent = true;
          this.push(rest.subarray(0, failAfter));
        },
      });
    },
  };
}

/** Registers the contract suite (a node:test `describe`) for one destination. */
export function runDeliveryTargetContract(options: DeliveryTargetContractOptions): void {
  describe(`Delivery destination contract: ${options.name}`, () => {
    let target: DestinationUnderTest;
    let cleanup: () => Promise<void>;
    before(async () => ({ target, cleanup } = await options.make()));
    after(async () => {
      await target?.close();
      await cleanup?.();
    });
    const unique = (stem: string): string => `${stem}-${randomBytes(4).toString('hex')}.bin`;

    it('has a name and a kind', () => {
      assert.ok(target.name.length > 0);
      assert.ok(target.kind.length > 0);
    });

    it('holds a sent file whole: size (and sha256, when it can tell) as sent, in nested folders too', async () => {
      for (const folder of ['', 'inbox', 'site-a/2026']) {
        const bytes = randomBytes(200_003);
        const file = outgoing(unique('whole'), bytes);
        const sent = await target.send(file, folder, signal());
        assert.equal(sent.size, bytes.length, `folder "${folder}"`);
        if (sent.sha256 !== undefined) assert.equal(sent.sha256, file.sha256);
        const seen = await target.stat(folder, file.name, signal());
        assert.equal(seen?.size, bytes.length);
        if (seen?.sha256 !== undefined) assert.equal(seen.sha256, file.sha256);
        assert.ok(seen && seen.location.length > 0 && seen.location.includes(file.name), 'the location names the file');
      }
    });

    it('holds an empty file', async () => {
      const file = outgoing(unique('empty'), Buffer.alloc(0));
      assert.equal((await target.send(file, 'inbox', signal())).size, 0);
      assert.equal((await target.stat('inbox', file.name, signal()))?.size, 0);
    });

    it('replaces a file sent again under the same name', async () => {
      const name = unique('again');
      await target.send(outgoing(name, randomBytes(5000)), 'inbox', signal());
      const second = outgoing(name, randomBytes(1234));
      await target.send(second, 'inbox', signal());
      const seen = await target.stat('inbox', name, signal());
      assert.equal(seen?.size, 1234);
      if (seen?.sha256 !== undefined) assert.equal(seen.sha256, second.sha256);
    });

    it('rejects a send whose source fails, and shows no file under its name', async () => {
      const name = unique('broken');
      await assert.rejects(target.send(outgoing(name, randomBytes(100_000), 40_000), 'inbox', signal()));
      assert.equal(await target.stat('inbox', name, signal()), undefined, 'no file, whole or half, under the name');
    });

    it('rejects a send whose signal is aborted, and shows no file under its name', async () => {
      const name = unique('aborted');
      const controller = new AbortController();
      controller.abort(new Error('shutting down'));
      await assert.rejects(target.send(outgoing(name, randomBytes(50_000)), 'inbox', controller.signal));
      assert.equal(await target.stat('inbox', name, signal()), undefined);
    });

    it('says undefined for a name it never received', async () => {
      assert.equal(await target.stat('inbox', unique('never'), signal()), undefined);
    });

    it('removes, and removing again (or what never was) is fine', async () => {
      const file = outgoing(unique('removed'), randomBytes(10));
      await target.send(file, 'inbox', signal());
      await target.remove('inbox', file.name, signal());
      assert.equal(await target.stat('inbox', file.name, signal()), undefined);
      await target.remove('inbox', file.name, signal());
      await target.remove('inbox', unique('never'), signal());
    });

    it('reports locations and public paths without credentials', async () => {
      const file = outgoing(unique('where'), randomBytes(10));
      const sent = await target.send(file, 'inbox', signal());
      assert.doesNotMatch(sent.location, /\/\/[^/@\s]*@|password|token|secret/i);
      if (target.publicPath) {
        const path = target.publicPath('inbox', file.name);
        assert.ok(path.startsWith('/'), `public path ${path} is a URL path`);
        assert.ok(path.includes(encodeURIComponent(file.name)), 'the public path names the file');
      }
    });
  });
}
