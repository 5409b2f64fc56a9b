// RT-DC checks on the three real files of the format and on broken files made here with
// h5wasm: each problem is named, metadata is extracted in JSON-safe form, statistics do
// not depend on the batch size, and the worker thread's limits turn a runaway read into an
// invalid file instead of a stalled or crashed process.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import h5wasm, { type File as H5File, type Group as H5Group } from 'h5wasm/node';
import { inspectRtdcFile, REQUIRED_ATTRIBUTES } from '../../../plugins/schema-rtdc/rtdc-inspection.js';
import { runRtdcInspection } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';

const samples = process.env.PLATFORM_TEST_RTDC_DIR ?? fileURLToPath(new URL('../../../../../shared/data/rtdc/', import.meta.url));
const haveSamples = existsSync(join(samples, 'calibration_beads.rtdc'));

/** Writes a small valid RT-DC file, with `change` applied before closing. */
async function makeRtdc(path: string, change: (file: H5File) => void = () => undefined, events = 4): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  const attrs: Record<string, string | number> = {
    'experiment:date': '2026-11-23', 'experiment:time': '12:00:00', 'experiment:sample': 'test', 'experiment:run index': 1,
    'imaging:pixel size': 0.34, 'imaging:frame rate': 2000, 'setup:channel width': 20, 'setup:chip region': 'channel', 'setup:flow rate': 0.04, 'setup:medium': 'CellCarrier',
  };
  for (const [key, value] of Object.entries(attrs)) file.create_attribute(key, value, null, typeof value === 'number' ? '<d' : null);
  file.create_attribute('experiment:event count', events, null, '<i8');
  const group = file.create_group('events');
  group.create_dataset({ name: 'deform', data: new Float64Array(Array.from({ length: events }, (_, i) => i / 10)), dtype: '<d' });
  group.create_dataset({ name: 'area_um', data: new Float64Array([10, 20, 30, 40].slice(0, events)), dtype: '<d' });
  group.create_dataset({ name: 'image', data: new Uint8Array(events * 6 * 8), shape: [events, 6, 8], dtype: '<B' });
  group.create_dataset({ name: 'mask', data: new Uint8Array(events * 6 * 8), shape: [events, 6, 8], dtype: '<B' });
  change(file);
  file.close();
}

describe('RT-DC inspection', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the real files and extracts their metadata', { skip: !haveSamples && 'the shared RT-DC samples are not beside the repository' }, async () => {
    const beads = await inspectRtdcFile(join(samples, 'calibration_beads.rtdc'));
    assert.deepEqual(beads.problems, []);
    assert.equal(beads.metadata['dc:experiment:event count'], 7);
    assert.equal(beads.metadata['dc:experiment:date'], '2018-12-11');
    assert.equal(beads.metadata['dc:format'], 'RT-FDC');
    assert.ok((beads.metadata['dc:features'] as string[]).includes('trace/fl1_raw'));
    const stats = (beads.metadata['dc:statistics'] as Record<string, { count: number; min: number; max: number; mean: number }>).deform!;
    assert.equal(stats.count, 7);
    assert.ok(stats.min <= stats.mean && stats.mean <= stats.max);
    const background = await inspectRtdcFile(join(samples, '2020-10_image_bg.rtdc'));
    assert.deepEqual(background.problems, []);
    assert.equal(background.metadata['dc:format'], 'RT-DC');
    assert.ok((background.metadata['dc:features'] as string[]).includes('image_bg'));
    const contours = await inspectRtdcFile(join(samples, 'mask_contour_reference.rtdc'));
    assert.deepEqual(contours.problems, []);
    assert.ok((contours.metadata['dc:features'] as string[]).includes('contour'));
    assert.doesNotThrow(() => JSON.stringify([beads, background, contours]));
  });

  it('accepts a generated file, with the same statistics in batches of 2 as in one batch', async () => {
    const path = join(dir, 'good.rtdc');
    await makeRtdc(path);
    const whole = await inspectRtdcFile(path);
    assert.deepEqual(whole.problems, []);
    assert.deepEqual((await inspectRtdcFile(path, { batchSize: 2 })).metadata, whole.metadata);
    assert.deepEqual((whole.metadata['dc:statistics'] as Record<string, unknown>).area_um, { count: 4, min: 10, max: 40, mean: 25 });
  });

  it('names what is wrong with broken files', async () => {
    const cases: Array<[string, (f: H5File) => void, RegExp]> = [
      ['missing-attribute', (f) => f.delete_attribute('setup:channel width'), /required root attribute "setup:channel width" is missing/],
      ['short-feature', (f) => (f.get('events') as H5Group).create_dataset({ name: 'bright_avg', data: new Float64Array([1, 2]), dtype: '<d' }), /feature "bright_avg" has 2 events, not the event count 4/],
      ['image-shapes', (f) => (f.get('events') as H5Group).create_dataset({ name: 'image_bg', data: new Uint8Array(4 * 7 * 8), shape: [4, 7, 8], dtype: '<B' }), /image-like features differ in size/],
    ];
    for (const [name, change, problem] of cases) {
      const path = join(dir, `${name}.rtdc`);
      await makeRtdc(path, change);
      const { problems } = await inspectRtdcFile(path);
      assert.ok(problems.some((p) => problem.test(p)), `${name}: ${problems.join('; ')}`);
    }
    await h5wasm.ready;
    const noEvents = new h5wasm.File(join(dir, 'no-events.rtdc'), 'w');
    for (const key of REQUIRED_ATTRIBUTES) noEvents.create_attribute(key, 1, null, '<d');
    noEvents.close();
    assert.ok((await inspectRtdcFile(join(dir, 'no-events.rtdc'))).problems.includes('the "events" group is missing'));
  });

  it('calls a text file, a truncated file and a missing file invalid', async () => {
    writeFileSync(join(dir, 'text.rtdc'), 'just text');
    assert.deepEqual((await inspectRtdcFile(join(dir, 'text.rtdc'))).problems, ['not an HDF5 file (no HDF5 signature)']);
    assert.deepEqual((await inspectRtdcFile(join(dir, 'absent.rtdc'))).problems, ['not an HDF5 file (no HDF5 signature)']);
    const full = join(dir, 'full.rtdc');
    await makeRtdc(full);
    const bytes = (await import('node:fs')).readFileSync(full);
    writeFileSync(join(dir, 'truncated.rtdc'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    const truncated = await runRtdcInspection(join(dir, 'truncated.rtdc'), { timeoutMs: 30_000, maxOldGenerationSizeMb: 256 });
    assert.ok(truncated.problems.length > 0, 'a truncated file is invalid');
  });

  it('gives the same answer in a worker thread, and turns a time-out into a reason', async () => {
    const path = join(dir, 'worker.rtdc');
    await makeRtdc(path);
    assert.deepEqual(await runRtdcInspection(path, { timeoutMs: 30_000, maxOldGenerationSizeMb: 256 }), await inspectRtdcFile(path));
    const slow = await runRtdcInspection(path, { timeoutMs: 1, maxOldGenerationSizeMb: 256 });
    assert.match(slow.problems[0]!, /took longer than 1 ms/);
  });
});
