// Listing a large depot-fs on threads gives exactly what the one-thread walk gives, in the
// same order; symbolic links and unsafe names are skipped there too; and a caller that stops
// early leaves no thread running.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsDepot, THREADED_WALK_MIN_DIRS, locationOfKey } from '../../../plugins/depot-fs/fs-depot.js';
import { topLevelNames, walkTopLevel } from '../../../plugins/depot-fs/depot-walk.js';
import { walkOnThreads } from '../../../plugins/depot-fs/depot-walk-threads.js';

describe('depot-fs listing of a large tree', () => {
  let root: string;
  let depot: FsDepot;
  const expected: string[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'depot-walk-'));
    depot = new FsDepot(root);
    // Enough top-level directories for the threaded walk, several objects in some of them.
    for (let i = 0; i < THREADED_WALK_MIN_DIRS + 44; i++) {
      for (let j = 0; j < 1 + (i % 3); j++) {
        const key = `${i.toString(16).padStart(3, '0')}${j}ab-object-${i}-${j}`;
        const location = locationOfKey(key);
        mkdirSync(join(root, location, '..'), { recursive: true });
        writeFileSync(join(root, location), `content of ${key}`);
        expected.push(location);
      }
    }
    expected.sort();
    // Neither a link nor an unsafe name is an object.
    symlinkSync(join(root, expected[0]!), join(root, 'resources', '000', 'linked'));
    writeFileSync(join(root, 'resources', '001', 'bad\\name'), 'x');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('lists every object once, in location order, with its size and path', async () => {
    const listed = [];
    for await (const entry of depot.list()) listed.push(entry);
    assert.deepEqual(listed.map((e) => e.location), expected);
    const first = listed[0]!;
    assert.equal(first.size, Buffer.byteLength(`content of ${first.location.replace(/^resources\/(...)\/(...)\//, '$1$2')}`));
    assert.equal(first.path, join(root, first.location));
  });

  it('gives on threads exactly what the walk on this thread gives', async () => {
    const resources = join(root, 'resources');
    const names = topLevelNames(resources);
    const inline = names.flatMap((name) => walkTopLevel(resources, name));
    for (const threads of [1, 2, 3]) {
      const threaded = [];
      for await (const object of walkOnThreads(resources, names, threads)) threaded.push(object);
      assert.deepEqual(threaded, inline, `${threads} thread(s)`);
    }
  });

  it('stops its threads when the caller stops early', async () => {
    let seen = 0;
    for await (const entry of depot.list()) {
      assert.ok(entry.location.startsWith('resources/'));
      if (++seen === 5) break;
    }
    assert.equal(seen, 5);
    // A thread left running would keep the test process alive; node --test reports that.
  });
});
