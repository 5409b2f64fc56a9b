// depot-fs: the Depot contract, plus what only a filesystem depot must do: DCOR's layout on
// disk, file modes, no leftovers in tmp/, atomic replacement, and no way out of its root
// (neither by `..` nor by symlinks), and the plugin's declaration.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { Depot, Lifecycle, ValidationError, type PluginContext, type PluginLifecycle, type Services } from '../../../core/api.js';
import { FsDepot, locationOfKey } from '../../../plugins/depot-fs/fs-depot.js';
import plugin, { depotFsPaths, incomingDir } from '../../../plugins/depot-fs/index.js';
import { runDepotContract } from '../../contracts/depot.js';
import { MemoryDepot } from '../../helpers/memory-depot.js';

runDepotContract({
  name: 'depot-fs',
  make: async () => {
    const root = mkdtempSync(join(tmpdir(), 'depot-fs-'));
    return { depot: new FsDepot(root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
  },
});

// The in-memory depot other tests use stands in for a real one, so it must keep the contract too.
runDepotContract({ name: 'memory (test helper)', make: async () => ({ depot: new MemoryDepot(), cleanup: async () => undefined }) });

const text = (value: string): Readable => Readable.from([Buffer.from(value)]);
const isValidation = (error: unknown): boolean => error instanceof ValidationError;

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString();
}

/** Every file below `dir`, relative, or [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('depot-fs on disk', () => {
  let root: string;
  let depot: FsDepot;
  let outside: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'depot-fs-'));
    outside = mkdtempSync(join(tmpdir(), 'depot-fs-outside-'));
    writeFileSync(join(outside, 'secret'), 'secret');
    depot = new FsDepot(root);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('names itself fs and reports its directories', () => {
    assert.equal(depot.name, 'fs');
    const root2 = resolve(root);
    assert.deepEqual(depotFsPaths(root), { root: root2, resources: join(root2, 'resources'), incoming: join(root2, 'incoming'), tmp: join(root2, 'tmp') });
    assert.equal(incomingDir(root), join(root2, 'incoming'));
    assert.deepEqual(depot.paths, depotFsPaths(root));
    assert.equal(depotFsPaths('relative/depot').root, resolve('relative/depot'));
  });

  it('stores in DCOR layout resources/<rid[0:3]>/<rid[3:6]>/<rid[6:]>, with mode 0640', async () => {
    const key = '3f2b8c1e-5d4a-4e7f-9a0b-1c2d3e4f5a6b';
    const stored = await depot.put(key, text('data'));
    assert.equal(stored.location, 'resources/3f2/b8c/1e-5d4a-4e7f-9a0b-1c2d3e4f5a6b');
    assert.equal(locationOfKey(key), stored.location);
    const onDisk = join(root, 'resources', '3f2', 'b8c', '1e-5d4a-4e7f-9a0b-1c2d3e4f5a6b');
    assert.equal(readFileSync(onDisk, 'utf8'), 'data');
    assert.equal(statSync(onDisk).mode & 0o777, 0o640);
    assert.equal(await depot.localPath(stored.location), realpathSync(onDisk));
  });

  it('sets mode 0640 even under a restrictive umask', async () => {
    const previous = process.umask(0o077);
    try {
      const stored = await depot.put(randomUUID(), text('private'));
      assert.equal(statSync(join(root, stored.location)).mode & 0o777, 0o640);
    } finally {
      process.umask(previous);
    }
  });

  it('leaves nothing in tmp/ after a success or any kind of failure', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000, 1));
        this.destroy(new Error('connection reset'));
      },
    });
    await depot.put(randomUUID(), text('fine'));
    await assert.rejects(depot.put(randomUUID(), text('x'), { size: 9 }), isValidation);
    await assert.rejects(depot.put(randomUUID(), text('x'), { sha256: 'a'.repeat(64) }), isValidation);
    await assert.rejects(depot.put(randomUUID(), failing), /connection reset/);
    await assert.rejects(depot.put('../bad', text('x')), isValidation);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    assert.deepEqual(readdirSync(join(root, 'incoming')), []);
  });

  it('stops reading a source that runs past the expected size (a wrong upload cannot fill the disk)', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 65_536;
        this.push(Buffer.alloc(65_536));
      },
    });
    const key = randomUUID();
    await assert.rejects(depot.put(key, endless, { size: 100_000 }), (error: Error) => isValidation(error) && /expected 100000 bytes, received more/.test(error.message));
    assert.ok(produced < 1_000_000, `read ${produced} bytes of an endless source`);
    assert.ok(endless.destroyed);
    assert.equal(await depot.stat(locationOfKey(key)), undefined);
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  });

  it('accepts an upper-case expected sha256 and refuses a malformed one before reading', async () => {
    const stored = await depot.put(randomUUID(), text('abc'), { sha256: 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD' });
    assert.equal(stored.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const source = text('abc');
    await assert.rejects(depot.put(randomUUID(), source, { sha256: 'not-a-hash' }), (error: Error) => isValidation(error) && error.message.includes('"not-a-hash"') && /64 hexadecimal digits/.test(error.message));
    assert.ok(source.destroyed);
    await assert.rejects(depot.put(randomUUID(), text('abc'), { size: -1 }), (error: Error) => isValidation(error) && /-1 is not a byte count/.test(error.message));
  });

  it('replaces atomically: a reader that opened the old file keeps reading the old bytes', async () => {
    const key = randomUUID();
    const first = await depot.put(key, text('old content'));
    const inodeBefore = statSync(join(root, first.location)).ino;
    const reader = await depot.open(first.location);
    await depot.put(key, text('new'));
    assert.equal(await readAll(reader), 'old content');
    assert.equal(await readAll(await depot.open(first.location)), 'new');
    assert.notEqual(statSync(join(root, first.location)).ino, inodeBefore);
  });

  it('refuses keys that are not safe path components, saying why', async () => {
    const cases: Array<[string, RegExp]> = [
      ['', /is empty/],
      ['..', /contains "\.\."/],
      ['.', /contains "\."/],
      ['../../etc/passwd', /contains "\/"/],
      ['abcdefg/../../x', /contains "\/"/],
      ['a\\b\\c\\d\\e', /contains "\\"/],
      ['abcdef.hij', /contains "\."/],
      ['abc', /is 3 characters long/],
      ['abcdefgh\u0000', /contains "\\u0000"/],
      ['x'.repeat(201), /at most 200/],
    ];
    for (const [key, why] of cases) {
      const source = text('x');
      await assert.rejects(depot.put(key, source), (error: Error) => isValidation(error) && error.message.startsWith('depot key ') && why.test(error.message) && /resource id/.test(error.message), `key ${JSON.stringify(key)}`);
      assert.ok(source.destroyed, `source of key ${JSON.stringify(key)} was left open`);
      assert.throws(() => locationOfKey(key), ValidationError);
    }
    assert.deepEqual(filesUnder(outside), ['secret']);
  });

  it('refuses locations that would leave resources/, for open, stat, delete and localPath', async () => {
    writeFileSync(join(root, 'keep-me'), 'inside root, outside resources');
    const escapes = [
      '../../etc/passwd',
      '/etc/passwd',
      `${outside}/secret`,
      'resources/../keep-me',
      'resources/../../x',
      'resources/abc/../../keep-me',
      'resources//x',
      'resources/./x',
      'resources/x/',
      'resources',
      'resources/',
      '',
      'incoming/abcdefgh',
      'tmp/x',
      'keep-me',
      'resources/a\\..\\..\\keep-me',
      'resources/a\u0000b',
    ];
    for (const location of escapes) {
      const named = `location ${JSON.stringify(location)}`;
      await assert.rejects(depot.open(location), (error: Error) => isValidation(error) && error.message.startsWith('depot location '), named);
      await assert.rejects(depot.stat(location), isValidation, named);
      await assert.rejects(depot.delete(location), isValidation, named);
      await assert.rejects(depot.localPath(location), isValidation, named);
    }
    assert.equal(readFileSync(join(root, 'keep-me'), 'utf8'), 'inside root, outside resources');
    assert.deepEqual(filesUnder(outside), ['secret']);
    rmSync(join(root, 'keep-me'));
  });

  it('does not follow a symlinked directory that leads outside the root', async () => {
    mkdirSync(join(root, 'resources', 'evi'), { recursive: true });
    symlinkSync(outside, join(root, 'resources', 'evi', 'l00'));
    const location = 'resources/evi/l00/secret';
    await assert.rejects(depot.open(location), (error: Error) => isValidation(error) && /leads outside the depot/.test(error.message));
    await assert.rejects(depot.stat(location), isValidation);
    await assert.rejects(depot.localPath(location), isValidation);
    await assert.rejects(depot.delete(location), isValidation);
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret', 'delete reached outside the root');
    rmSync(join(root, 'resources', 'evi'), { recursive: true });
  });

  it('does not follow a symlinked file that leads outside the root, and delete removes only the link', async () => {
    mkdirSync(join(root, 'resources', 'lnk', 'fil'), { recursive: true });
    symlinkSync(join(outside, 'secret'), join(root, 'resources', 'lnk', 'fil', 'e'));
    await assert.rejects(depot.open('resources/lnk/fil/e'), isValidation);
    await assert.rejects(depot.stat('resources/lnk/fil/e'), isValidation);
    assert.ok(![...(await locations(depot))].includes('resources/lnk/fil/e'), 'list() reported a symlink');
    await depot.delete('resources/lnk/fil/e');
    assert.ok(!existsSync(join(root, 'resources', 'lnk', 'fil', 'e')));
    assert.equal(readFileSync(join(outside, 'secret'), 'utf8'), 'secret');
  });

  it('does not write through a symlinked directory that leads outside the root', async () => {
    symlinkSync(outside, join(root, 'resources', 'sym'));
    await assert.rejects(depot.put('symlinked-key', text('escaped')), (error: Error) => isValidation(error) && /leads outside the depot/.test(error.message));
    assert.deepEqual(readdirSync(outside), ['secret'], 'put created something outside the root');
    assert.deepEqual(readdirSync(join(root, 'tmp')), []);
    rmSync(join(root, 'resources', 'sym'));
  });

  it('follows symlinks that stay inside resources/, and a resources/ that is itself a symlink', async () => {
    const stored = await depot.put(randomUUID(), text('target'));
    mkdirSync(join(root, 'resources', 'ali', 'ase'), { recursive: true });
    symlinkSync(join(root, stored.location), join(root, 'resources', 'ali', 'ase', 's'));
    assert.equal(await readAll(await depot.open('resources/ali/ase/s')), 'target');
    rmSync(join(root, 'resources', 'ali'), { recursive: true });

    const movedRoot = mkdtempSync(join(tmpdir(), 'depot-fs-moved-'));
    const realResources = mkdtempSync(join(tmpdir(), 'depot-fs-storage-'));
    try {
      symlinkSync(realResources, join(movedRoot, 'resources'));
      const moved = new FsDepot(movedRoot);
      const kept = await moved.put(randomUUID(), text('on other storage'));
      assert.equal(await readAll(await moved.open(kept.location)), 'on other storage');
      assert.equal(filesUnder(realResources).length, 1);
    } finally {
      rmSync(movedRoot, { recursive: true, force: true });
      rmSync(realResources, { recursive: true, force: true });
    }
  });

  it('treats a directory at a location as no object', async () => {
    mkdirSync(join(root, 'resources', 'dir', 'ect', 'ory'), { recursive: true });
    assert.equal(await depot.stat('resources/dir/ect'), undefined);
    await assert.rejects(depot.open('resources/dir/ect'), (error: { code?: string }) => error.code === 'PLATFORM_ERR_NOT_FOUND');
    await assert.rejects(depot.delete('resources/dir/ect'), (error: Error) => isValidation(error) && /is a directory/.test(error.message));
    rmSync(join(root, 'resources', 'dir'), { recursive: true });
  });

  it('refuses byte ranges that are not whole numbers', async () => {
    const { location } = await depot.put(randomUUID(), text('0123456789'));
    for (const range of [{ start: Number.NaN, end: 3 }, { start: 0.5, end: 3 }, { start: 0, end: Number.POSITIVE_INFINITY }]) {
      await assert.rejects(depot.open(location, range), (error: Error) => isValidation(error) && /is not a range/.test(error.message), JSON.stringify(range));
    }
    assert.equal(await readAll(await depot.open(location, { start: 2, end: 4 })), '234');
  });

  it('lists resources/ only, never tmp/ or incoming/, and names missing files in errors without exposing the root', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'depot-fs-list-'));
    try {
      const d = new FsDepot(fresh);
      assert.deepEqual([...(await locations(d))], [], 'an empty depot lists nothing, even before its directories exist');
      const stored = await d.put(randomUUID(), text('listed'));
      await d.partials.create('upload-0001');
      await d.partials.append('upload-0001', 0, text('partial'), 100);
      writeFileSync(join(fresh, 'tmp', 'stray.part'), 'stray');
      writeFileSync(join(fresh, 'stray-at-root'), 'stray');
      // A file no location can name (a backslash in it) is skipped, so that everything list()
      // reports can be opened, stat'ed and deleted (inspect's orphan repair does exactly that).
      mkdirSync(join(fresh, 'resources', 'odd'), { recursive: true });
      writeFileSync(join(fresh, 'resources', 'odd', 'back\\slash'), 'odd');
      assert.deepEqual([...(await locations(d))], [stored.location]);
      for (const location of await locations(d)) assert.equal((await d.stat(location))?.size, 6);
      await d.delete(stored.location);
      await assert.rejects(d.open(stored.location), (error: Error) => error.message.includes(stored.location) && !error.message.includes(fresh));
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

async function locations(depot: FsDepot): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const entry of depot.list()) out.add(entry.location);
  return out;
}

describe('depot-fs plugin declaration', () => {
  it('is named depot-fs and declares its root in a config schema', () => {
    assert.equal(plugin.name, 'depot-fs');
    assert.match(plugin.version, /^\d+\.\d+\.\d+$/);
    assert.equal(plugin.config?.additionalProperties, false);
    const rootOption = plugin.config?.properties.root;
    assert.equal(rootOption?.type, 'string');
    assert.equal(rootOption?.default, './data/depot');
    assert.equal(rootOption?.['x-path'], true);
    assert.ok((rootOption?.description ?? '').length > 0);
  });

  it('contributes an fs depot at the resolved root, whose directories exist once the server starts', async () => {
    const base = mkdtempSync(join(tmpdir(), 'depot-fs-plugin-'));
    const contributed: Array<{ hook: unknown; value: unknown }> = [];
    const ctx = {
      name: 'depot-fs',
      config: { root: './data/depot' },
      resolvePath: (value: string) => resolve(base, value),
      contribute: (hook: unknown, value: unknown) => void contributed.push({ hook, value }),
    } as unknown as PluginContext;
    try {
      await plugin.register(ctx);
      const depots = contributed.filter((c) => c.hook === Depot).map((c) => c.value);
      assert.equal(depots.length, 1);
      const fsDepot = depots[0];
      assert.ok(fsDepot instanceof FsDepot);
      assert.equal(fsDepot.name, 'fs');
      assert.equal(fsDepot.paths.root, join(base, 'data', 'depot'));
      const lifecycle = contributed.find((c) => c.hook === Lifecycle)?.value as PluginLifecycle | undefined;
      assert.equal(existsSync(fsDepot.paths.resources), false, 'register itself must not touch the disk');
      await lifecycle?.onStart?.({} as Services);
      for (const dir of [fsDepot.paths.resources, fsDepot.paths.incoming, fsDepot.paths.tmp]) assert.ok(statSync(dir).isDirectory(), dir);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
