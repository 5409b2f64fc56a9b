// depot-fs: the Depot contract, plus what only a filesystem depot must do: DCOR's layout,
// file modes, no leftovers, and no way out of its root.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FsDepot, locationOfKey } from '../../../plugins/depot-fs/fs-depot.js';
import plugin from '../../../plugins/depot-fs/index.js';
import { runDepotContract } from '../../contracts/depot.js';
import { MemoryDepot } from '../../helpers/memory-depot.js';

runDepotContract({
  name: 'depot-fs',
  make: async () => {
    const root = mkdtempSync(join(tmpdir(), 'depot-fs-'));
    return { depot: new FsDepot(root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
  },
});

runDepotContract({ name: 'memory (test helper)', make: async () => ({ depot: new MemoryDepot(), cleanup: async () => undefined }) });

describe('depot-fs on disk', () => {
  let root: string;
  let depot: FsDepot;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'depot-fs-'));
    depot = new FsDepot(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('stores in DCOR layout with mode 0640 and leaves nothing in tmp/', async () => {
    const key = randomUUID();
    const stored = await depot.put(key, Readable.from([Buffer.from('data')]));
    assert.equal(stored.location, `resources/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`);
    assert.equal(statSync(join(root, stored.location)).mode & 0o777, 0o640);
    await assert.rejects(depot.put(randomUUID(), Readable.from([Buffer.from('x')]), { size: 9 }));
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('refuses keys and locations that could leave the root', async () => {
    for (const key of ['../../etc/passwd', 'a/b/c/d/e/f', '', '..', 'abc']) {
      await assert.rejects(depot.put(key, Readable.from([Buffer.from('x')])), /not safe/);
      assert.throws(() => locationOfKey(key));
    }
    for (const location of ['../../etc/passwd', '/etc/passwd', 'resources/../../x', 'resources//x', 'incoming/abc', 'resources/a/./b']) {
      await assert.rejects(depot.open(location), /not a location of this depot|leaves the depot/);
      await assert.rejects(depot.delete(location), /not a location of this depot|leaves the depot/);
    }
  });

  it('does not follow a symlink that points outside the root', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'outside-'));
    writeFileSync(join(outside, 'secret'), 'secret');
    mkdirSync(join(root, 'resources', 'evi'), { recursive: true });
    symlinkSync(outside, join(root, 'resources', 'evi', 'l00'));
    await assert.rejects(depot.open('resources/evi/l00/secret'), /points outside the depot/);
    rmSync(outside, { recursive: true, force: true });
  });

  it('declares its root in a config schema', () => {
    assert.equal(plugin.name, 'depot-fs');
    assert.equal(plugin.config?.properties.root?.default, './data/depot');
  });
});
