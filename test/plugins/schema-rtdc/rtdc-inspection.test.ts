// RT-DC inspection: the three real files of the format are valid with the metadata and
// statistics read off them by hand; files that are not RT-DC and broken RT-DC files made
// here with h5wasm each name their exact problem; statistics do not depend on the batch
// size; and the worker-thread runner answers like the direct call or fails clearly.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import h5wasm, { type File as H5File, type Group as H5Group, type Metadata } from 'h5wasm/node';
import {
  inspectRtdcFile, jsonSafe, REQUIRED_ATTRIBUTES, REQUIRED_FLUORESCENCE_ATTRIBUTES,
  type RtdcFeatureStatistics, type RtdcInspection,
} from '../../../plugins/schema-rtdc/rtdc-inspection.js';
import { runRtdcInspection, runRtdcInspectionContained } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';
import { ContainedProcessError } from '../../../core/jobs/contained-process.js';
import { rtdcSamplesDir } from '../../helpers/rtdc-samples.js';

// dist/test/plugins/schema-rtdc/ -> four levels up is the repository; the samples sit beside it.
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const samples = rtdcSamplesDir;
const noSamples = !existsSync(join(samples, 'calibration_beads.rtdc')) && `the RT-DC samples are not in ${samples} (set PLATFORM_TEST_RTDC_DIR)`;
const sample = (name: string): string => join(samples, name);
const limits = { timeoutMs: 30_000, memoryMb: 512 };

function statistics(inspection: RtdcInspection): Record<string, RtdcFeatureStatistics> {
  return inspection.metadata['dc:statistics'] as unknown as Record<string, RtdcFeatureStatistics>;
}

function features(inspection: RtdcInspection): string[] {
  return inspection.metadata['dc:features'] as string[];
}

/** Root attributes of a small valid RT-DC file (every required one, typed as dclab writes them). */
const ATTRIBUTES: Record<string, string | number> = {
  'experiment:date': '2026-11-23', 'experiment:time': '12:00:00', 'experiment:sample': 'test', 'experiment:run index': 1,
  'imaging:flash device': 'LED', 'imaging:flash duration': 2, 'imaging:frame rate': 2000, 'imaging:pixel size': 0.34,
  'imaging:roi position x': 600, 'imaging:roi position y': 500, 'imaging:roi size x': 8, 'imaging:roi size y': 6,
  'setup:channel width': 20, 'setup:chip region': 'channel', 'setup:flow rate': 0.04, 'setup:medium': 'CellCarrier',
};

interface MakeOptions {
  /** Applied before the file is closed. */
  change?: (file: H5File, events: H5Group | undefined) => void;
  events?: number;
  /** Leave out the `events` group. */
  withoutEvents?: boolean;
  /** Store `deform` deflate-compressed in chunks of 2 events (for damaging it afterwards). */
  compressDeform?: boolean;
  /** Write HDF5 1.8 structures (version-1 object headers, without checksums) so bytes can be patched. */
  oldFormat?: boolean;
}

/** Writes a small valid RT-DC file: 4 events of deform, area_um, and 6x8 image and mask. */
async function makeRtdc(path: string, options: MakeOptions = {}): Promise<void> {
  const events = options.events ?? 4;
  await h5wasm.ready;
  const file = options.oldFormat ? new h5wasm.File(path, 'w', { libver: ['earliest', 'v108'] }) : new h5wasm.File(path, 'w');
  for (const [key, value] of Object.entries(ATTRIBUTES)) file.create_attribute(key, value, null, typeof value === 'number' ? '<d' : null);
  file.create_attribute('experiment:event count', BigInt64Array.of(BigInt(events)), [], '<q');
  let group: H5Group | undefined;
  if (!options.withoutEvents) {
    group = file.create_group('events');
    const deform = Float64Array.from({ length: events }, (_, i) => i / 10);
    if (options.compressDeform) group.create_dataset({ name: 'deform', data: deform, dtype: '<d', chunks: [2], compression: 'gzip', compression_opts: 4 });
    else group.create_dataset({ name: 'deform', data: deform, dtype: '<d' });
    group.create_dataset({ name: 'area_um', data: Float64Array.from({ length: events }, (_, i) => 10 * (i + 1)), dtype: '<d' });
    group.create_dataset({ name: 'image', data: new Uint8Array(events * 6 * 8), shape: [events, 6, 8], dtype: '<B' });
    group.create_dataset({ name: 'mask', data: new Uint8Array(events * 6 * 8), shape: [events, 6, 8], dtype: '<B' });
  }
  options.change?.(file, group);
  file.close();
}

describe('RT-DC inspection of the real sample files', { skip: noSamples }, () => {
  it('calibration_beads.rtdc: valid RT-FDC with 7 events, traces, metadata and statistics', async () => {
    const beads = await inspectRtdcFile(sample('calibration_beads.rtdc'));
    assert.deepEqual(beads.problems, []);
    assert.equal(beads.valid, true);
    const m = beads.metadata;
    assert.equal(m['dc:experiment:event count'], 7);
    assert.equal(m['dc:experiment:date'], '2018-12-11');
    assert.equal(m['dc:experiment:time'], '10:04:03');
    assert.equal(m['dc:setup:channel width'], 20);
    assert.equal(m['dc:setup:medium'], 'CellCarrierB');
    assert.equal(m['dc:fluorescence:samples per event'], 177);
    assert.equal(m['dc:online_filter:target event count'], 5000, 'sections with "_" are extracted too');
    assert.equal(m['dc:online_contour:no absdiff'], true, "h5py's boolean enum becomes a boolean");
    assert.equal(m['dc:format'], 'RT-FDC');
    assert.deepEqual(m['dc:logs'], []);
    assert.deepEqual(m['dc:tables'], []);
    assert.equal(Object.keys(m).filter((k) => /^dc:[a-z_]+:/.test(k)).length, 57, 'every root attribute');
    const names = features(beads);
    assert.deepEqual(names, [...names].sort());
    assert.equal(names.length, 36);
    for (const name of ['deform', 'fl1_max', 'image', 'mask', 'trace/fl1_raw', 'trace/fl3_median']) assert.ok(names.includes(name), name);
    const stats = statistics(beads);
    assert.deepEqual(stats.index, { count: 7, min: 1, max: 7, mean: 4 });
    assert.deepEqual(stats.frame, { count: 7, min: 333, max: 1082, mean: 5052 / 7 });
    assert.equal(stats.fl1_max!.min, 8);
    assert.equal(stats.fl1_max!.max, 6167);
    assert.equal(stats.deform!.count, 7);
    assert.equal(stats.deform!.min, 0.00880240648984909);
    assert.equal(stats.deform!.max, 0.014356325380504131);
    assert.ok(stats.deform!.min! <= stats.deform!.mean! && stats.deform!.mean! <= stats.deform!.max!);
    // One entry per scalar feature; images and traces are not scalar.
    assert.deepEqual(Object.keys(stats).sort(), names.filter((n) => !['image', 'mask'].includes(n) && !n.startsWith('trace/')));
    for (const [name, s] of Object.entries(stats)) assert.equal(s.count, 7, name);
    assert.deepEqual(JSON.parse(JSON.stringify(beads)), beads, 'JSON-safe');
  });

  it('2020-10_image_bg.rtdc: valid RT-DC with 5 events and a background image', async () => {
    const background = await inspectRtdcFile(sample('2020-10_image_bg.rtdc'));
    assert.deepEqual(background.problems, []);
    assert.equal(background.valid, true);
    assert.equal(background.metadata['dc:experiment:event count'], 5);
    assert.equal(background.metadata['dc:format'], 'RT-DC');
    assert.equal(background.metadata['dc:setup:temperature'], 23.01);
    assert.deepEqual(background.metadata['dc:logs'], [], 'no logs group');
    assert.ok(features(background).includes('image_bg'));
    assert.equal(features(background).length, 21);
    // temp is 23.01 for every event, stored as float32.
    assert.deepEqual(statistics(background).temp, { count: 5, min: Math.fround(23.01), max: Math.fround(23.01), mean: Math.fround(23.01) });
    assert.deepEqual(JSON.parse(JSON.stringify(background)), background);
  });

  it('mask_contour_reference.rtdc: valid RT-DC with 8 events and one contour per event', async () => {
    const contours = await inspectRtdcFile(sample('mask_contour_reference.rtdc'));
    assert.deepEqual(contours.problems, []);
    assert.equal(contours.metadata['dc:experiment:event count'], 8);
    assert.equal(contours.metadata['dc:format'], 'RT-DC');
    assert.ok(features(contours).includes('contour'));
    assert.deepEqual(statistics(contours).index, { count: 8, min: 1, max: 8, mean: 4.5 });
    assert.equal(statistics(contours).contour, undefined, 'a group per event has no statistics');
  });

  it('every sample has every required attribute, and the fluorescence one the fluorescence attributes', async () => {
    for (const name of ['calibration_beads.rtdc', '2020-10_image_bg.rtdc', 'mask_contour_reference.rtdc']) {
      const { metadata } = await inspectRtdcFile(sample(name));
      for (const key of REQUIRED_ATTRIBUTES) assert.ok(`dc:${key}` in metadata, `${name}: ${key}`);
    }
    const { metadata } = await inspectRtdcFile(sample('calibration_beads.rtdc'));
    for (const key of REQUIRED_FLUORESCENCE_ATTRIBUTES) assert.ok(`dc:${key}` in metadata, key);
  });

  it('gives the same statistics in batches of 2 and of 1 as in one batch', async () => {
    for (const name of ['calibration_beads.rtdc', 'mask_contour_reference.rtdc']) {
      const whole = await inspectRtdcFile(sample(name));
      assert.deepEqual(await inspectRtdcFile(sample(name), { batchSize: 2 }), whole, name);
      assert.deepEqual(await inspectRtdcFile(sample(name), { batchSize: 1 }), whole, name);
    }
  });
});

describe('RT-DC inspection of files that are not RT-DC', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-not-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('calls a text file and an empty file not HDF5', async () => {
    writeFileSync(join(dir, 'text.rtdc'), 'just text, no HDF5 here');
    assert.deepEqual(await inspectRtdcFile(join(dir, 'text.rtdc')), { valid: false, problems: ['not an HDF5 file (no HDF5 signature)'], metadata: {} });
    writeFileSync(join(dir, 'empty.rtdc'), '');
    assert.deepEqual((await inspectRtdcFile(join(dir, 'empty.rtdc'))).problems, ['not an HDF5 file (no HDF5 signature)']);
  });

  it('calls a missing file not HDF5 and says it cannot be opened', async () => {
    assert.deepEqual(await inspectRtdcFile(join(dir, 'absent.rtdc')), { valid: false, problems: ['not an HDF5 file (it cannot be opened: ENOENT)'], metadata: {} });
  });

  it('calls a truncated HDF5 file unreadable', async () => {
    const full = join(dir, 'full.rtdc');
    await makeRtdc(full);
    const bytes = readFileSync(full);
    writeFileSync(join(dir, 'truncated.rtdc'), bytes.subarray(0, Math.floor(bytes.length / 3)));
    const truncated = await inspectRtdcFile(join(dir, 'truncated.rtdc'));
    assert.deepEqual([truncated.valid, truncated.metadata], [false, {}]);
    assert.match(truncated.problems.join('; '), /^not a readable HDF5 file \(truncated file: eof = \d+, sblock->base_addr = 0, stored_eof = \d+\)$/, 'HDF5\'s own cause');
  });

  it('refuses a batch size that is not a positive whole number', async () => {
    await assert.rejects(inspectRtdcFile(join(dir, 'absent.rtdc'), { batchSize: 0 }), { name: 'RangeError', message: /batchSize is 0/ });
    await assert.rejects(inspectRtdcFile(join(dir, 'absent.rtdc'), { batchSize: 2.5 }), RangeError);
  });
});

describe('RT-DC inspection of broken RT-DC files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-broken-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Makes a file with `options` and returns its inspection. */
  async function inspectMade(name: string, options: MakeOptions = {}, batchSize?: number): Promise<RtdcInspection> {
    const path = join(dir, `${name}.rtdc`);
    await makeRtdc(path, options);
    return inspectRtdcFile(path, batchSize === undefined ? {} : { batchSize });
  }

  it('accepts the generated file as it is (the baseline of the cases below)', async () => {
    const good = await inspectMade('good');
    assert.deepEqual(good.problems, []);
    assert.equal(good.valid, true);
    assert.deepEqual(features(good), ['area_um', 'deform', 'image', 'mask']);
    assert.deepEqual(statistics(good).area_um, { count: 4, min: 10, max: 40, mean: 25 });
    assert.equal(good.metadata['dc:format'], 'RT-DC');
  });

  it('names a missing required root attribute', async () => {
    const broken = await inspectMade('missing-attribute', { change: (f) => f.delete_attribute('setup:channel width') });
    assert.equal(broken.valid, false);
    assert.deepEqual(broken.problems, ['required root attribute "setup:channel width" is missing']);
  });

  it('names a missing events group', async () => {
    const broken = await inspectMade('no-events', { withoutEvents: true });
    assert.deepEqual(broken.problems, ['the "events" group is missing']);
    assert.deepEqual(broken.metadata['dc:features'], []);
  });

  it('names a feature shorter than the event count', async () => {
    const broken = await inspectMade('short-feature', { change: (_, e) => e!.create_dataset({ name: 'bright_avg', data: new Float64Array([1, 2]), dtype: '<d' }) });
    assert.deepEqual(broken.problems, ['feature "bright_avg" has 2 events, not the event count 4']);
  });

  it('names image-like features whose sizes disagree', async () => {
    const broken = await inspectMade('image-shapes', { change: (_, e) => e!.create_dataset({ name: 'image_bg', data: new Uint8Array(4 * 7 * 8), shape: [4, 7, 8], dtype: '<B' }) });
    assert.deepEqual(broken.problems, ['image-like features differ in size: image 6x8, image_bg 7x8, mask 6x8']);
  });

  it('names an image-like feature that is not one 2D image per event', async () => {
    const broken = await inspectMade('flat-image', { change: (_, e) => e!.create_dataset({ name: 'image_bg', data: new Uint8Array(4 * 48), shape: [4, 48], dtype: '<B' }) });
    assert.deepEqual(broken.problems, ['image-like feature "image_bg" has shape [4, 48]; expected [events, height, width]']);
  });

  it('names a trace without a row per event, and counts traces as fluorescence', async () => {
    const broken = await inspectMade('short-trace', {
      change: (_, e) => {
        const traces = e!.create_group('trace');
        traces.create_dataset({ name: 'fl1_raw', data: new Int16Array(4 * 10), shape: [4, 10], dtype: '<h' });
        traces.create_dataset({ name: 'fl1_median', data: new Int16Array(3 * 10), shape: [3, 10], dtype: '<h' });
      },
    });
    assert.deepEqual(broken.problems, ['trace "fl1_median" has 3 rows, not the event count 4']);
    assert.equal(broken.metadata['dc:format'], 'RT-FDC');
    assert.deepEqual(features(broken), ['area_um', 'deform', 'image', 'mask', 'trace/fl1_median', 'trace/fl1_raw']);
  });

  it('requires the fluorescence attributes when there is fluorescence data', async () => {
    const broken = await inspectMade('fluorescence', { change: (_, e) => e!.create_dataset({ name: 'fl1_max', data: new Float64Array([1, 2, 3, 4]), dtype: '<d' }) });
    assert.deepEqual(broken.problems, REQUIRED_FLUORESCENCE_ATTRIBUTES.map((key) => `required root attribute "${key}" is missing (the file has fluorescence data)`));
    assert.equal(broken.metadata['dc:format'], 'RT-FDC');
  });

  it('names an event count that is not a whole number, and then checks no lengths against it', async () => {
    const broken = await inspectMade('fractional-count', { change: (f) => { f.delete_attribute('experiment:event count'); f.create_attribute('experiment:event count', 2.5, null, '<d'); } });
    assert.deepEqual(broken.problems, ['"experiment:event count" is 2.5, not a whole number of events']);
    assert.equal(statistics(broken).area_um!.count, 4, 'statistics then cover the whole feature');
  });

  it('does not follow an external link out of the file, and names it', async () => {
    const other = join(dir, 'someone-elses.rtdc');
    await makeRtdc(other);
    const linkedFeature = await inspectMade('linked-feature', { change: (_, e) => e!.create_external_link(other, '/events/area_um', 'volume') });
    assert.deepEqual(linkedFeature.problems, [`"events/volume" is an external link to ${other}:/events/area_um; an RT-DC file must hold its own data`]);
    assert.equal(statistics(linkedFeature).volume, undefined, 'nothing was read from the other file');
    const linkedEvents = await inspectMade('linked-events', { withoutEvents: true, change: (f) => f.create_external_link(other, '/events', 'events') });
    assert.deepEqual(linkedEvents.problems, [`"events" is an external link to ${other}:/events; an RT-DC file must hold its own data`]);
    assert.deepEqual(linkedEvents.metadata['dc:features'], []);
  });

  it('ignores NaN in statistics and leaves out what JSON cannot hold', async () => {
    const inspection = await inspectMade('nan', {
      change: (_, e) => {
        e!.create_dataset({ name: 'bright_avg', data: new Float64Array([1, NaN, 3, NaN]), dtype: '<d' });
        e!.create_dataset({ name: 'bright_sd', data: new Float64Array([NaN, NaN, NaN, NaN]), dtype: '<d' });
        e!.create_dataset({ name: 'circ', data: new Float64Array([1, Infinity, 2, 3]), dtype: '<d' });
      },
    });
    assert.deepEqual(inspection.problems, []);
    assert.deepEqual(statistics(inspection).bright_avg, { count: 2, min: 1, max: 3, mean: 2 });
    assert.deepEqual(statistics(inspection).bright_sd, { count: 0 });
    assert.deepEqual(statistics(inspection).circ, { count: 4, min: 1 });
  });

  it('gives the same statistics in batches of 2 as in one batch (odd event count)', async () => {
    const path = join(dir, 'five.rtdc');
    await makeRtdc(path, { events: 5 });
    const whole = await inspectRtdcFile(path);
    assert.deepEqual(statistics(whole).area_um, { count: 5, min: 10, max: 50, mean: 30 });
    assert.deepEqual(await inspectRtdcFile(path, { batchSize: 2 }), whole);
  });

  it('extracts root attributes in JSON-safe form', async () => {
    const inspection = await inspectMade('attributes', {
      change: (f) => {
        f.create_attribute('setup:temperature', NaN, null, '<d');
        f.create_attribute('setup:pressure', Infinity, null, '<d');
        f.create_attribute('setup:big', BigInt64Array.of(2n ** 60n), [], '<q');
        f.create_attribute('online_filter:deform polygon points', new Float64Array([0, 1, 2, 3, 4, 5]), [3, 2], '<d');
        f.create_attribute('not-rtdc', 'ignored');
      },
    });
    const m = inspection.metadata;
    assert.equal(m['dc:setup:temperature'], null);
    assert.equal(m['dc:setup:pressure'], null);
    assert.equal(m['dc:setup:big'], '1152921504606846976', 'an unsafe integer keeps its digits as a string');
    assert.equal(m['dc:experiment:event count'], 4, 'a safe int64 becomes a number');
    assert.deepEqual(m['dc:online_filter:deform polygon points'], [[0, 1], [2, 3], [4, 5]]);
    assert.equal(m['dc:experiment:date'], '2026-11-23');
    assert.equal('dc:not-rtdc' in m, false, 'only section:key attributes are RT-DC metadata');
    assert.deepEqual(JSON.parse(JSON.stringify(m)), m);
  });

  it('names a feature whose stored data cannot be decoded (h5wasm slice() would return garbage)', async () => {
    const path = join(dir, 'damaged.rtdc');
    await makeRtdc(path, { compressDeform: true });
    assert.deepEqual((await inspectRtdcFile(path)).problems, [], 'the compressed file is fine before the damage');
    const bytes = readFileSync(path);
    const zlib = bytes.indexOf(Buffer.from([0x78, 0x5e])); // the deflate stream of deform's first chunk
    assert.ok(zlib > 0, 'found the compressed chunk');
    bytes.fill(0xff, zlib + 2, zlib + 12);
    writeFileSync(path, bytes);
    const damaged = await inspectRtdcFile(path, { batchSize: 2 });
    assert.deepEqual(damaged.problems, ['feature "deform" is damaged: events 0 to 1 cannot be read (HDF5: filter returned failure during read)']);
    assert.equal(statistics(damaged).deform, undefined);
  });

  it('names a feature compressed with a filter this reader has no decoder for (never a silent gap)', async () => {
    const path = join(dir, 'sz.rtdc');
    await makeRtdc(path, { compressDeform: true, oldFormat: true });
    const bytes = readFileSync(path);
    // A version-1 filter pipeline message: id (2 bytes), name length, flags, values, name.
    const id = bytes.indexOf(Buffer.from('deflate\0', 'latin1')) - 8;
    assert.equal(bytes.readUInt16LE(id), 1, 'found the deflate filter id');
    bytes.writeUInt16LE(32017, id); // SZ (lossy), registered with the HDF Group, not loaded here
    writeFileSync(path, bytes);
    const inspection = await inspectRtdcFile(path);
    assert.deepEqual(inspection.problems, ['feature "deform" is compressed with deflate (id 32017), which this reader cannot decode']);
    assert.equal(statistics(inspection).deform, undefined);
  });
});

describe('jsonSafe', () => {
  const meta = (type: number, size: number): Metadata => ({ type, size, signed: false, littleEndian: true, vlen: false, shape: [3], maxshape: [3], chunks: null, total_size: 3 });
  it('turns raw bytes into UTF-8, keeps uint8 numbers as numbers', () => {
    assert.equal(jsonSafe(new TextEncoder().encode('ä-b'), meta(5, 1)), 'ä-b');
    assert.deepEqual(jsonSafe(Uint8Array.of(1, 2, 3), meta(0, 1)), [1, 2, 3]);
    assert.deepEqual(jsonSafe(BigInt64Array.of(1n, 2n ** 62n)), [1, '4611686018427387904']);
    assert.deepEqual(jsonSafe([1, NaN, -Infinity]), [1, null, null]);
    assert.equal(jsonSafe(undefined), null);
  });
});

describe('RT-DC inspection in a contained process', () => {
  let dir: string;
  let path: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-worker-'));
    path = join(dir, 'worker.rtdc');
    await makeRtdc(path, { events: 5 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('returns exactly what the direct call returns', async () => {
    assert.deepEqual(await runRtdcInspectionContained(path, limits), await inspectRtdcFile(path));
    assert.deepEqual(await runRtdcInspectionContained(path, { ...limits, batchSize: 2 }), await inspectRtdcFile(path));
    writeFileSync(join(dir, 'text.rtdc'), 'text');
    assert.deepEqual(await runRtdcInspectionContained(join(dir, 'text.rtdc'), limits), await inspectRtdcFile(join(dir, 'text.rtdc')));
  });

  it('returns the same for the real sample', { skip: noSamples }, async () => {
    const beads = sample('calibration_beads.rtdc');
    assert.deepEqual(await runRtdcInspectionContained(beads, limits), await inspectRtdcFile(beads));
  });

  it('kills the process at the time limit', async () => {
    await assert.rejects(runRtdcInspectionContained(path, { ...limits, timeoutMs: 1 }), (error: unknown) => {
      assert.ok(error instanceof ContainedProcessError);
      assert.equal(error.message, 'the check exceeded its time limit of 0.001 s');
      assert.equal(error.reason, 'timeout');
      return true;
    });
  });

  it('kills the process when aborted, and starts none for an aborted signal', async () => {
    const controller = new AbortController();
    const running = runRtdcInspectionContained(path, { ...limits, signal: controller.signal });
    controller.abort(new Error('job cancelled'));
    await assert.rejects(running, { name: 'ContainedProcessError', reason: 'aborted', message: 'the check was cancelled' });
    await assert.rejects(runRtdcInspectionContained(path, { ...limits, signal: AbortSignal.abort() }), { reason: 'aborted' });
  });

  it('rejects with the error when the inspection itself throws', async () => {
    await assert.rejects(runRtdcInspectionContained(path, { ...limits, batchSize: 0 }), {
      reason: 'failed', message: /^batchSize is 0/,
    });
  });

  it('runRtdcInspection (the schema\'s view) turns a time-out into an invalid file, but not a cancellation', async () => {
    assert.deepEqual(await runRtdcInspection(path, { ...limits, timeoutMs: 1 }), { valid: false, problems: ['the RT-DC check ended without an answer: the check exceeded its time limit of 0.001 s'], metadata: {} });
    assert.deepEqual(await runRtdcInspection(path, limits), await inspectRtdcFile(path));
    await assert.rejects(runRtdcInspection(path, { ...limits, signal: AbortSignal.abort() }), { reason: 'aborted' });
  });
});
