// A deliberately broken depot, run by contract-failures.test.ts to show that the Depot contract
// catches it: it stores what it was given even when the expected size or sha256 differs, and
// serves a range of a small file one byte too long.
import type { Readable } from 'node:stream';
import type { ByteRange, StoredObject } from '../../../core/api.js';
import { MemoryDepot } from '../../helpers/memory-depot.js';
import { runDepotContract } from '../depot.js';

class CarelessDepot extends MemoryDepot {
  override async put(key: string, source: Readable): Promise<StoredObject> {
    return super.put(key, source);
  }

  override async open(location: string, range?: ByteRange): Promise<Readable> {
    const object = this.objects.get(location);
    return range && object && range.end + 1 < object.data.length && object.data.length < 10_000 ? super.open(location, { start: range.start, end: range.end + 1 }) : super.open(location, range);
  }
}

runDepotContract({ name: 'careless', make: async () => ({ depot: new CarelessDepot(), cleanup: async () => undefined }) });
