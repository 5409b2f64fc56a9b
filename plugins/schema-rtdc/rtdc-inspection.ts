// Reads an RT-DC file (HDF5) with h5wasm and checks it against the RT-DC format: HDF5,
// required root attributes, an `events` group, per-event features as long as the event
// count, image-like features of one shape. Extracts every root attribute as
// `dc:section:key`, the features, the format (RT-FDC with fluorescence), logs, tables and
// per-scalar-feature statistics, reading datasets in bounded batches (never whole).
// Runs inside a worker thread (see run-rtdc-inspection.ts), never on the server's loop.
import { openSync, readSync, closeSync } from 'node:fs';
import h5wasm, { type Dataset } from 'h5wasm/node';

/** The outcome of inspecting one file. */
export interface RtdcInspection {
  problems: string[];
  metadata: Record<string, unknown>;
}

/**
 * Root attributes every RT-DC file must have (dclab's mandatory configuration: the
 * experiment, the imaging and the setup). All three sample files of the format have them.
 */
export const REQUIRED_ATTRIBUTES = [
  'experiment:date', 'experiment:time', 'experiment:event count', 'experiment:sample', 'experiment:run index',
  'imaging:pixel size', 'imaging:frame rate',
  'setup:channel width', 'setup:chip region', 'setup:flow rate', 'setup:medium',
];
const IMAGE_FEATURES = ['image', 'image_bg', 'mask'];
const MAX_FEATURES = 1000;
const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** True when the file carries the HDF5 signature at 0, 512, 1024, ... (checked without HDF5's noise). */
export function looksLikeHdf5(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(8);
    for (let offset = 0; offset <= 1 << 20; offset = offset === 0 ? 512 : offset * 2) {
      if (readSync(fd, buffer, 0, 8, offset) < 8) return false;
      if (buffer.equals(HDF5_SIGNATURE)) return true;
    }
    return false;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A JSON-safe form of an attribute value. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Uint8Array && !(value instanceof Buffer)) return Buffer.from(value).toString('utf8');
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, jsonSafe);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

interface Summary {
  count: number;
  min: number;
  max: number;
  mean: number;
}

function summarise(dataset: Dataset, length: number, batchSize: number): Summary | undefined {
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let start = 0; start < length; start += batchSize) {
    const values = dataset.slice([[start, Math.min(length, start + batchSize)]]) as ArrayLike<number | bigint>;
    for (let i = 0; i < values.length; i++) {
      const v = Number(values[i]);
      if (Number.isNaN(v)) continue;
      count++;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return count ? { count, min: jsonSafe(min) as number, max: jsonSafe(max) as number, mean: jsonSafe(sum / count) as number } : { count: 0, min: 0, max: 0, mean: 0 };
}

/** Inspects one file. Never throws for a bad file: every reason is a problem. */
export async function inspectRtdcFile(path: string, options: { batchSize?: number } = {}): Promise<RtdcInspection> {
  const batchSize = options.batchSize ?? 100_000;
  if (!looksLikeHdf5(path)) return { problems: ['not an HDF5 file (no HDF5 signature)'], metadata: {} };
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  if (file.file_id === -1n || file.file_id < 0n) return { problems: ['not a readable HDF5 file (it may be truncated)'], metadata: {} };
  const problems: string[] = [];
  const metadata: Record<string, unknown> = {};
  try {
    const attrs = file.attrs;
    for (const name of Object.keys(attrs)) {
      if (!/^[a-z]+:[a-z0-9 _-]+$/i.test(name)) continue;
      try {
        metadata[`dc:${name}`] = jsonSafe(attrs[name]!.value);
      } catch (error) {
        problems.push(`root attribute "${name}" cannot be read: ${(error as Error).message}`);
      }
    }
    for (const name of REQUIRED_ATTRIBUTES) if (!(`dc:${name}` in metadata)) problems.push(`required root attribute "${name}" is missing`);
    const eventCount = Number(metadata['dc:experiment:event count']);
    if ('dc:experiment:event count' in metadata && (!Number.isInteger(eventCount) || eventCount < 0)) problems.push(`"experiment:event count" is ${String(metadata['dc:experiment:event count'])}, not a whole number`);

    const events = file.get('events');
    if (!events || !(events instanceof h5wasm.Group)) {
      problems.push('the "events" group is missing');
      return { problems, metadata };
    }
    const names = events.keys();
    if (names.length > MAX_FEATURES) {
      problems.push(`"events" has ${names.length} members; an RT-DC file has at most ${MAX_FEATURES}`);
      return { problems, metadata };
    }
    const features: string[] = [];
    const statistics: Record<string, Summary> = {};
    const imageShapes = new Map<string, string>();
    for (const name of names) {
      const item = events.get(name);
      if (item instanceof h5wasm.Group) {
        const members = item.keys();
        if (name === 'trace') {
          for (const trace of members) {
            features.push(`trace/${trace}`);
            const dataset = item.get(trace);
            const rows = dataset instanceof h5wasm.Dataset ? dataset.shape?.[0] : undefined;
            if (Number.isInteger(eventCount) && rows !== eventCount) problems.push(`trace "${trace}" has ${rows ?? 'no'} rows, not the event count ${eventCount}`);
          }
        } else {
          features.push(name);
          if (Number.isInteger(eventCount) && members.length !== eventCount) problems.push(`feature "${name}" has ${members.length} entries, not the event count ${eventCount}`);
        }
        continue;
      }
      if (!(item instanceof h5wasm.Dataset)) continue;
      features.push(name);
      const shape = item.shape ?? [];
      if (Number.isInteger(eventCount) && shape[0] !== eventCount) problems.push(`feature "${name}" has ${shape[0] ?? 0} events, not the event count ${eventCount}`);
      if (IMAGE_FEATURES.includes(name)) {
        if (shape.length !== 3) problems.push(`image-like feature "${name}" has shape [${shape.join(', ')}]; expected [events, height, width]`);
        else imageShapes.set(name, `${shape[1]}x${shape[2]}`);
      } else if (shape.length === 1 && typeof item.dtype === 'string' && /^[<>|=!]?[fdebBhHiIlLqQ]$/.test(item.dtype) && Number.isInteger(eventCount)) {
        const summary = summarise(item, Math.min(shape[0] ?? 0, eventCount), batchSize);
        if (summary) statistics[name] = summary;
      }
    }
    if (new Set(imageShapes.values()).size > 1) problems.push(`image-like features differ in size: ${[...imageShapes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    features.sort();
    metadata['dc:features'] = features;
    metadata['dc:format'] = features.some((f) => /^fl[123]_/.test(f) || f.startsWith('trace/')) ? 'RT-FDC' : 'RT-DC';
    const logs = file.get('logs');
    metadata['dc:logs'] = logs instanceof h5wasm.Group ? logs.keys().sort() : [];
    const tables = file.get('tables');
    metadata['dc:tables'] = tables instanceof h5wasm.Group ? tables.keys().sort() : [];
    metadata['dc:statistics'] = statistics;
    return { problems, metadata };
  } catch (error) {
    problems.push(`the file cannot be read as RT-DC: ${(error as Error).message}`);
    return { problems, metadata };
  } finally {
    file.close();
  }
}
