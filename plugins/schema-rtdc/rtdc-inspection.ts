// Reads an RT-DC file (HDF5) with h5wasm and checks it against the RT-DC format: HDF5,
// required root attributes, an `events` group, per-event features as long as the event
// count, image-like features of one shape, traces with one row per event. Extracts every
// root attribute as `dc:section:key`, the features, the format (RT-FDC with fluorescence),
// logs, tables and per-scalar-feature statistics, reading datasets in bounded batches
// (never whole). Runs inside a contained process (see run-rtdc-inspection.ts) in production,
// with h5wasm's browser build, whose file system holds nothing but the file under
// inspection (one-file-fs.ts) and the compression filters (rtdc-filters.ts).
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import h5wasm, { BrokenSoftLink, Module, type Attribute, type Dataset, type File as H5File, type Group, type Metadata } from 'h5wasm';
import { mountOneFile, type EmscriptenFs } from './one-file-fs.js';
import { FILTER_DIRECTORY, FILTERS, installFilters } from './rtdc-filters.js';
import { unknownFeatureProblem } from './rtdc-feature-names.js';
import { captureHdf5Diagnostics, type Hdf5Diagnostics } from './hdf5-diagnostics.js';
import { jsonSafe, shaped, type JsonValue } from './hdf5-json-values.js';

export { jsonSafe, shaped, type JsonValue } from './hdf5-json-values.js';
import { arrayType, sampleIndices, summarise, type RtdcFeatureStatistics } from './rtdc-statistics.js';

export type { RtdcFeatureStatistics } from './rtdc-statistics.js';


/** The outcome of inspecting one file. */
export interface RtdcInspection {
  /** True when `problems` is empty. */
  valid: boolean;
  /** Why the file is not valid RT-DC, one sentence each; empty when it is valid. */
  problems: string[];
  /** What the file says about itself (`dc:section:key`, `dc:features`, `dc:statistics`, ...). */
  metadata: Record<string, JsonValue>;
  /** Every scalar feature with statistics at the same sampled events; absent without an event count. */
  sample?: RtdcEventSample;
}

/**
 * Scalar features' values at `count` events spread evenly over `totalEvents`
 * (see sampleIndices), each as the base64 of little-endian float64s (NaN kept).
 */
export interface RtdcEventSample {
  totalEvents: number;
  count: number;
  values: Record<string, string>;
}

/** Sizes above which a file is refused unread; every one is a `[plugin:schema-rtdc]` setting. */
export interface RtdcLimits {
  /** Largest root attribute, in bytes (fixed-size from its declaration; strings as read). */
  maxAttributeBytes: number;
  /** Most root attributes. */
  maxRootAttributes: number;
  /** Most members of `events`, `events/trace`, `logs` and `tables`. */
  maxMembers: number;
  /** A dataset declaring more than this many times the file's size (and over 64 MiB) is not read. */
  maxExpansion: number;
}


/** Options of {@link inspectRtdcFile}. */
export interface RtdcInspectionOptions {
  /** Size limits (default {@link DEFAULT_LIMITS}). */
  limits?: Partial<RtdcLimits>;
  /** Events read at once when computing statistics (default {@link DEFAULT_BATCH_SIZE}). */
  batchSize?: number;
  /** The folder of the compression filters (default: h5wasm-plugins' own, see rtdc-filters.ts). */
  filterDirectory?: string;
  /** Most events of the stored sample (default {@link DEFAULT_SAMPLE_EVENTS}; 0: none). */
  sampleEvents?: number;
}

/** Events sampled at inspection unless the caller says otherwise. */
export const DEFAULT_SAMPLE_EVENTS = 5000;


/**
 * A scalar feature that declares more than this many times the bytes of the whole file is
 * refused unread (above {@link EXPANSION_FLOOR_BYTES}): HDF5 reads unwritten chunks as fill
 * values, so a few kilobytes can declare terabytes, and reading them would only stall the
 * worker until its time limit. Real RT-DC features compress far less than 1000-fold.
 */
export const MAX_EXPANSION = 1000;
/** The defaults of {@link RtdcLimits}. */
export const DEFAULT_LIMITS: Readonly<RtdcLimits> = { maxAttributeBytes: 1 << 20, maxRootAttributes: 2000, maxMembers: 1000, maxExpansion: MAX_EXPANSION };
/** Declared sizes up to this are read whatever the file's size. */
const EXPANSION_FLOOR_BYTES = 64 * 2 ** 20;

/** Events read at once when computing statistics, unless the caller says otherwise. */
export const DEFAULT_BATCH_SIZE = 100_000;

/**
 * Root attributes every RT-DC file must have: dclab's `IMPORTANT_KEYS`
 * (dclab/rtdc_dataset/check.py), whose absence its IntegrityChecker calls a "violation"
 * and DCOR-Aid refuses to upload. dclab's full `dfn.config_keys` is much longer (it lists
 * every optional key and dclab reports those only as "alerts"), so it is not the bar here.
 * All three sample files (2018 Shape-In, 2018 dclab, 2020 Shape-In) carry every key below.
 */
export const REQUIRED_ATTRIBUTES: readonly string[] = [
  'experiment:date', 'experiment:event count', 'experiment:run index', 'experiment:sample', 'experiment:time',
  'imaging:flash device', 'imaging:flash duration', 'imaging:frame rate', 'imaging:pixel size',
  'imaging:roi position x', 'imaging:roi position y', 'imaging:roi size x', 'imaging:roi size y',
  'setup:channel width', 'setup:chip region', 'setup:flow rate', 'setup:medium',
];

/**
 * Root attributes a file with fluorescence data must also have (dclab's `IMPORTANT_KEYS_FL`).
 * "With fluorescence" is dclab's rule: any `fluorescence:*` attribute or an `fl1_max`,
 * `fl2_max` or `fl3_max` feature. The fluorescence sample (calibration_beads) has them all.
 */
export const REQUIRED_FLUORESCENCE_ATTRIBUTES: readonly string[] = [
  'fluorescence:bit depth', 'fluorescence:channel count', 'fluorescence:channels installed',
  'fluorescence:laser count', 'fluorescence:lasers installed', 'fluorescence:sample rate',
  'fluorescence:samples per event', 'fluorescence:signal max', 'fluorescence:signal min',
  'fluorescence:trace median',
];

/** Features that hold one 2D image per event and must all have the same height and width. */
export const IMAGE_FEATURES: readonly string[] = ['image', 'image_bg', 'mask'];

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
/** HDF5's own filters, which h5wasm always has, and the plugins loaded into it (rtdc-filters.ts). */
const KNOWN_FILTERS = new Set([1, 2, 3, 5, 6, ...Object.values(FILTERS)]);
/** Names of HDF5's datatype classes (H5T_class_t), for messages. */
const TYPE_CLASS_NAMES: Record<number, string> = { 0: 'integer', 1: 'float', 2: 'time', 3: 'string', 4: 'bitfield', 5: 'opaque', 6: 'compound', 7: 'reference', 8: 'enum', 9: 'variable-length', 10: 'array' };
/** Classes that can never be a scalar feature's values (numbers, or booleans as an enum). */
const NON_SCALAR_CLASSES = new Set([3, 5, 6, 7, 9, 10]);

/** What a look at the first bytes of a file says. */
export type Hdf5Sniff = { hdf5: true } | { hdf5: false; reason: string };

/**
 * Looks for the HDF5 signature where HDF5 itself looks (offset 0, then 512, 1024, 2048, ...
 * up to the end of the file), so that a text file is refused without HDF5 printing its
 * error stack.
 * @param fd - an open descriptor of the file
 * @param size - the file's size in bytes
 * @returns whether it carries the signature, and why not
 */
export function sniffHdf5(fd: number, size: number): Hdf5Sniff {
  const buffer = Buffer.alloc(HDF5_SIGNATURE.length);
  for (let offset = 0; offset + buffer.length <= size; offset = offset === 0 ? 512 : offset * 2) {
    if (readSync(fd, buffer, 0, buffer.length, offset) === buffer.length && buffer.equals(HDF5_SIGNATURE)) return { hdf5: true };
  }
  return { hdf5: false, reason: 'no HDF5 signature' };
}

/** The message of anything thrown (h5wasm sometimes throws plain strings). */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The external file a link points to, read without following the link; undefined for other links. */
function externalTarget(group: Group, path: string): string | undefined {
  // h5wasm's get() follows external links into other host files, so they are found first.
  const link = group.get_external_link(path) as { filename?: string; obj_path?: string };
  return typeof link.filename === 'string' ? `${link.filename}:${link.obj_path ?? ''}` : undefined;
}

/**
 * Reads a member of `group`, refusing links that leave the file: null when there is no
 * such member, undefined when it is an external link (reported as a problem).
 */
function member(group: Group, names: readonly string[], name: string, problems: string[]): ReturnType<Group['get']> | undefined {
  // Asking HDF5 about a name that is not there prints its error stack: look in `names` first.
  if (!names.includes(name)) return null;
  const path = group.path === '/' ? `/${name}` : `${group.path}/${name}`;
  const external = externalTarget(group, path);
  if (external !== undefined) {
    problems.push(`"${path.slice(1)}" is an external link to ${external}; an RT-DC file must hold its own data`);
    return undefined;
  }
  return group.get(path);
}

/** Filters of a dataset that this reader has no decoder for, as "name (id N)". */
function missingFilters(dataset: Dataset): string[] {
  return dataset.filters.filter((f) => !KNOWN_FILTERS.has(f.id)).map((f) => `${f.name || 'unnamed'} (id ${f.id})`);
}

/**
 * Inspects one RT-DC file given by path, in this process (tests and the command line; the
 * server uses {@link inspectRtdcFd} inside a contained process).
 * @param path - the file on the local file system
 * @param options - as for {@link inspectRtdcFd}
 * @returns validity, problems and extracted metadata (JSON-safe)
 */
export async function inspectRtdcFile(path: string, options: RtdcInspectionOptions = {}): Promise<RtdcInspection> {
  checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return { valid: false, problems: [`not an HDF5 file (it cannot be opened: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)})`], metadata: {} };
  }
  try {
    return await inspectRtdcFd(fd, options);
  } finally {
    closeSync(fd);
  }
}

function checkBatchSize(batchSize: number): number {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize is ${batchSize}; use a whole number of events, at least 1`);
  return batchSize;
}

/** Mounts made so far in this process: each inspection gets a directory of its own. */
let mounts = 0;

/**
 * Inspects one RT-DC file read through an open descriptor. Never throws for a bad file:
 * every reason it is not valid RT-DC is a problem in the result. HDF5 sees the file through
 * a file system that holds only it, so links, external storage and virtual datasets
 * pointing elsewhere find nothing of the host; they are named as problems too.
 * @param fd - an open, readable descriptor of a regular file
 * @param options - `batchSize`: events read at once for statistics; where the filters are
 * @returns validity, problems and extracted metadata (JSON-safe)
 * @throws RangeError when `batchSize` is not a positive integer (a caller's mistake, not the file's)
 */
export async function inspectRtdcFd(fd: number, options: RtdcInspectionOptions = {}): Promise<RtdcInspection> {
  const batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
  const problems: string[] = [];
  const metadata: Record<string, JsonValue> = {};
  let sample: RtdcEventSample | undefined;
  const done = (): RtdcInspection => ({ valid: problems.length === 0, problems, metadata, ...(sample ? { sample } : {}) });

  const size = fstatSync(fd).size;
  const sniff = sniffHdf5(fd, size);
  if (!sniff.hdf5) {
    problems.push(`not an HDF5 file (${sniff.reason})`);
    return done();
  }
  const module = await h5wasm.ready;
  const fs = module.FS as unknown as EmscriptenFs;
  installFilters(module, options.filterDirectory);
  const directory = `/input-${++mounts}`;
  const path = mountOneFile(fs, fd, size, directory, 'file.rtdc');
  const outside = watchOpens(fs, path, module.get_plugin_search_paths());
  // From here on every h5wasm call is synchronous: HDF5's error stacks are taken off stderr
  // until the file is closed, and their causes named in the problems.
  const diagnostics = captureHdf5Diagnostics();
  try {
    const file = new h5wasm.File(path, 'r');
    if (file.file_id < 0n) {
      // The signature is there but HDF5 cannot open it: typically a truncated upload.
      problems.push(`not a readable HDF5 file (${diagnostics.takeCause() ?? 'it may be truncated or damaged'})`);
      return done();
    }
    try {
      sample = inspectOpenFile(file, { batchSize, limits: { ...DEFAULT_LIMITS, ...options.limits }, fileBytes: size, outside, diagnostics, sampled: [] }, options.sampleEvents ?? DEFAULT_SAMPLE_EVENTS, problems, metadata);
    } catch (error) {
      problems.push(`the file cannot be read as RT-DC: ${withCause(messageOf(error), diagnostics)}`);
    } finally {
      file.close();
    }
  } finally {
    diagnostics.stop();
    outside.stop();
    (fs as unknown as { unmount(path: string): void }).unmount(directory);
  }
  return done();
}

/** `message`, followed by HDF5's own account of the failure when it printed one. */
function withCause(message: string, diagnostics: Hdf5Diagnostics): string {
  const cause = diagnostics.takeCause();
  return cause && !message.includes(cause) ? `${message} (HDF5: ${cause})` : message;
}

/** Files HDF5 tried to open besides the one under inspection (external storage, links). */
interface OutsideOpens {
  /** Forgets what was recorded so far. */
  clear(): void;
  /** What was recorded since the last clear. */
  readonly paths: string[];
  /** Stops recording. */
  stop(): void;
}

/**
 * Records every file HDF5 asks its file system to open other than `own` and the filter folders:
 * the FS holds nothing of the host, so this is reporting, not protection.
 */
function watchOpens(fs: EmscriptenFs, own: string, filterPaths: readonly string[]): OutsideOpens {
  const original = fs.open;
  const paths: string[] = [];
  const isFilterPath = (path: string): boolean => path === FILTER_DIRECTORY || filterPaths.some((dir) => path === dir || path.startsWith(`${dir}/`));
  fs.open = (path, flags, mode) => {
    // HDF5 looks through its plugin folders for a filter it does not know yet.
    if (path !== own && !isFilterPath(String(path))) paths.push(String(path));
    return original.call(fs, path, flags, mode);
  };
  return { paths, clear: () => void paths.splice(0), stop: () => void (fs.open = original) };
}

/** What reading the events needs besides the group. */
interface ReadContext {
  batchSize: number;
  limits: RtdcLimits;
  fileBytes: number;
  outside: OutsideOpens;
  /** HDF5's error stacks, caught while the file is read. */
  diagnostics: Hdf5Diagnostics;
  /** Events whose values are kept (ascending), the same for every feature. */
  sampled: readonly number[];
}

/** Inspects the open file into `problems` and `metadata`; returns the event sample when there is an event count. */
function inspectOpenFile(file: H5File, context: ReadContext, sampleEvents: number, problems: string[], metadata: Record<string, JsonValue>): RtdcEventSample | undefined {
  readRootAttributes(file, context.limits, problems, metadata);
  const rawCount = metadata['dc:experiment:event count'];
  const eventCount = typeof rawCount === 'number' && Number.isSafeInteger(rawCount) && rawCount >= 0 ? rawCount : undefined;
  if (rawCount !== undefined && eventCount === undefined) problems.push(`"experiment:event count" is ${JSON.stringify(rawCount)}, not a whole number of events`);

  const features: string[] = [];
  const statistics: Record<string, JsonValue> = {};
  const samples: Record<string, Float64Array> = {};
  const sampled = eventCount === undefined ? [] : sampleIndices(eventCount, sampleEvents);
  const rootNames = file.keys();
  const events = member(file, rootNames, 'events', problems);
  if (events === undefined) {
    // an external link, already reported
  } else if (events === null) {
    problems.push('the "events" group is missing');
  } else if (!(events instanceof h5wasm.Group)) {
    problems.push('"events" is not a group');
  } else {
    inspectEvents(events, eventCount, { ...context, sampled }, { problems, features, statistics, samples });
  }

  const hasFluorescence = Object.keys(metadata).some((k) => k.startsWith('dc:fluorescence:')) || ['fl1_max', 'fl2_max', 'fl3_max'].some((f) => features.includes(f));
  if (hasFluorescence) {
    for (const name of REQUIRED_FLUORESCENCE_ATTRIBUTES) if (!(`dc:${name}` in metadata)) problems.push(`required root attribute "${name}" is missing (the file has fluorescence data)`);
  }

  features.sort();
  metadata['dc:features'] = features;
  metadata['dc:format'] = features.some((f) => /^fl[123]_/.test(f) || f.startsWith('trace/')) ? 'RT-FDC' : 'RT-DC';
  metadata['dc:logs'] = memberNames(file, rootNames, 'logs', context.limits, problems);
  metadata['dc:tables'] = memberNames(file, rootNames, 'tables', context.limits, problems);
  metadata['dc:statistics'] = statistics;
  if (eventCount === undefined) return undefined;
  const values: Record<string, string> = {};
  for (const [name, sample] of Object.entries(samples)) values[name] = Buffer.from(sample.buffer, sample.byteOffset, sample.byteLength).toString('base64');
  return { totalEvents: eventCount, count: sampled.length, values };
}

function readRootAttributes(file: H5File, limits: RtdcLimits, problems: string[], metadata: Record<string, JsonValue>): void {
  // Counted before any is looked at: each costs HDF5 a lookup, and a file can hold millions.
  const count = (Module.get_attribute_names(file.file_id, '/') as string[]).length;
  if (count > limits.maxRootAttributes) {
    problems.push(`the file has ${count} root attributes; RT-DC metadata have at most ${limits.maxRootAttributes}, so none is read`);
    return;
  }
  const attrs: Record<string, Attribute> = file.attrs;
  for (const name of Object.keys(attrs).sort()) {
    const colon = name.indexOf(':');
    if (colon < 1 || colon === name.length - 1) continue; // not `section:key`: not RT-DC metadata
    const attribute = attrs[name]!;
    // Fixed-size values are measured from their declaration, before reading; variable-length
    // strings have no declared size and are measured as read (the process's memory cap bounds that).
    const declared = attribute.metadata.size * attribute.metadata.total_size;
    if (declared > limits.maxAttributeBytes) {
      problems.push(`root attribute "${name}" holds ${declared} bytes; RT-DC metadata are short values (at most ${limits.maxAttributeBytes})`);
      continue;
    }
    try {
      const value = shaped(jsonSafe(attribute.value, attribute.metadata), attribute.metadata.shape);
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > limits.maxAttributeBytes) {
        problems.push(`root attribute "${name}" holds ${bytes} bytes; RT-DC metadata are short values (at most ${limits.maxAttributeBytes})`);
        continue;
      }
      metadata[`dc:${name}`] = value;
    } catch (error) {
      problems.push(`root attribute "${name}" cannot be read: ${messageOf(error)}`);
    }
  }
  for (const name of REQUIRED_ATTRIBUTES) if (!(`dc:${name}` in metadata)) problems.push(`required root attribute "${name}" is missing`);
}

interface EventFindings {
  problems: string[];
  features: string[];
  statistics: Record<string, JsonValue>;
  samples: Record<string, Float64Array>;
}

function inspectEvents(events: Group, eventCount: number | undefined, context: ReadContext, found: EventFindings): void {
  const { problems, features } = found;
  const { batchSize, fileBytes, outside, limits } = context;
  const names = events.keys();
  if (names.length > limits.maxMembers) {
    problems.push(`"events" has ${names.length} members; an RT-DC file has at most ${limits.maxMembers}`);
    return;
  }
  const imageSizes: Array<[string, string]> = [];
  for (const name of names) {
    const item = member(events, names, name, problems);
    if (item === undefined) continue;
    if (name === 'trace') {
      if (item instanceof h5wasm.Group) inspectTraces(item, eventCount, limits, found);
      else problems.push('"events/trace" is not a group of traces');
      continue;
    }
    features.push(name);
    const unknown = unknownFeatureProblem(name);
    if (unknown !== undefined) problems.push(unknown);
    if (item instanceof h5wasm.Group) {
      // e.g. `contour`: one dataset per event.
      const entries = item.keys().length;
      if (eventCount !== undefined && entries !== eventCount) problems.push(`feature "${name}" has ${entries} entries, not the event count ${eventCount}`);
      continue;
    }
    if (!(item instanceof h5wasm.Dataset)) {
      problems.push(`feature "${name}" is ${item instanceof BrokenSoftLink ? `a link to nothing (${item.target})` : 'neither a dataset nor a group'}`);
      continue;
    }
    const metadata = item.metadata;
    if (metadata.virtual_sources !== undefined) {
      const sources = [...new Set(metadata.virtual_sources.map((v) => v.file_name))].join(', ');
      problems.push(`feature "${name}" keeps its data outside the file (a virtual dataset onto ${sources}); an RT-DC file must hold its own data`);
      continue;
    }
    const shape = item.shape ?? [];
    const rows = shape[0] ?? 0;
    if (eventCount !== undefined && rows !== eventCount) problems.push(`feature "${name}" has ${rows} events, not the event count ${eventCount}`);
    // Every dataset, images included: a declared size is a promise the file cannot keep.
    const declaredBytes = shape.reduce((a, b) => a * b, 1) * metadata.size;
    if (declaredBytes > EXPANSION_FLOOR_BYTES && declaredBytes > fileBytes * limits.maxExpansion) {
      problems.push(`feature "${name}" declares ${formatBytes(declaredBytes)} of data in a file of ${formatBytes(fileBytes)}; more than ${limits.maxExpansion}-fold is not RT-DC, so it is not read`);
      continue;
    }
    if (IMAGE_FEATURES.includes(name)) {
      if (shape.length === 3) imageSizes.push([name, `${shape[1]}x${shape[2]}`]);
      else problems.push(`image-like feature "${name}" has shape [${shape.join(', ')}]; expected [events, height, width]`);
      continue;
    }
    if (shape.length === 1 && (NON_SCALAR_CLASSES.has(metadata.type) || metadata.vlen)) {
      problems.push(`feature "${name}" holds ${metadata.vlen ? 'variable-length' : TYPE_CLASS_NAMES[metadata.type]} values; a per-event feature holds numbers`);
      continue;
    }
    if (shape.length !== 1 || arrayType(metadata) === undefined) continue;
    outside.clear();
    context.diagnostics.takeCause();
    const length = eventCount === undefined ? rows : Math.min(rows, eventCount);
    const summary = summarise(item, metadata, length, batchSize, length < (eventCount ?? 0) ? context.sampled.filter((i) => i < length) : context.sampled);
    if (outside.paths.length > 0) {
      // External raw storage: HDF5 asked for another file, which this file system does not have.
      problems.push(`feature "${name}" keeps its data outside the file (external storage); an RT-DC file must hold its own data`);
      continue;
    }
    if ('statistics' in summary) {
      found.statistics[name] = { ...summary.statistics };
      found.samples[name] = summary.sample;
      continue;
    }
    const missing = missingFilters(item);
    if (missing.length > 0) problems.push(`feature "${name}" is compressed with ${missing.join(', ')}, which this reader cannot decode`);
    else problems.push(`feature "${name}" is damaged: ${withCause(summary.unreadable, context.diagnostics)}`);
  }
  if (new Set(imageSizes.map(([, size]) => size)).size > 1) {
    problems.push(`image-like features differ in size: ${imageSizes.map(([n, size]) => `${n} ${size}`).join(', ')}`);
  }
}

function inspectTraces(traces: Group, eventCount: number | undefined, limits: RtdcLimits, found: EventFindings): void {
  const names = traces.keys();
  if (names.length > limits.maxMembers) {
    found.problems.push(`"events/trace" has ${names.length} members; an RT-DC file has at most ${limits.maxMembers}`);
    return;
  }
  for (const name of names) {
    found.features.push(`trace/${name}`);
    const trace = member(traces, names, name, found.problems);
    if (trace === undefined) continue;
    if (!(trace instanceof h5wasm.Dataset)) {
      found.problems.push(`trace "${name}" is not a dataset`);
      continue;
    }
    const rows = trace.shape?.[0] ?? 0;
    if (eventCount !== undefined && rows !== eventCount) found.problems.push(`trace "${name}" has ${rows} rows, not the event count ${eventCount}`);
  }
}

/** `8.0 TiB`, `7.9 KiB`: a byte count for a message. */
function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Sorted names under a root group such as `logs`; [] when it is absent. */
function memberNames(file: Group, rootNames: readonly string[], name: string, limits: RtdcLimits, problems: string[]): string[] {
  const group = member(file, rootNames, name, problems);
  if (!(group instanceof h5wasm.Group)) return [];
  const names = group.keys();
  if (names.length > limits.maxMembers) {
    problems.push(`"${name}" has ${names.length} members; an RT-DC file has at most ${limits.maxMembers}`);
    return [];
  }
  return names.sort();
}
