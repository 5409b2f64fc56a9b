// Reads an even, deterministic sample of events of some scalar features of an RT-DC file
// (for scatter plots), through the same one-file file system as the inspection. Runs inside
// the contained process (rtdc-contained-task.ts).
import { fstatSync } from 'node:fs';
import h5wasm, { Module, type Dataset } from 'h5wasm';
import { mountOneFile, type EmscriptenFs } from './one-file-fs.js';
import { installFilters } from './rtdc-filters.js';
import { arrayType } from './rtdc-inspection.js';

/** What to sample. */
export interface RtdcSampleRequest {
  /** Scalar features under `events`. */
  features: string[];
  /** Most events returned. */
  limit: number;
  /** Events read at once. */
  batchSize: number;
  /** The folder of the compression filters. */
  filterDirectory?: string;
}

/** The sample: `events[feature][k]` is event `indices[k]`; NaN is null. */
export interface RtdcSample {
  total_events: number;
  count: number;
  events: Record<string, Array<number | null>>;
}

/**
 * The events sampled from `total`: `count = min(limit, total)` indices spread evenly
 * (index k is floor(k * total / count)), the same for every feature and every call.
 */
export function sampleIndices(total: number, limit: number): number[] {
  const count = Math.min(limit, total);
  return Array.from({ length: count }, (_, k) => Math.floor((k * total) / count));
}

let mounts = 0;

/**
 * Samples the file open as `fd`.
 * @throws Error naming a feature that is missing, not a 1-D numeric dataset, or unreadable
 */
export async function sampleRtdcFd(fd: number, request: RtdcSampleRequest): Promise<RtdcSample> {
  const size = fstatSync(fd).size;
  const module = await h5wasm.ready;
  installFilters(module, request.filterDirectory);
  const directory = `/sample-${++mounts}`;
  const fs = module.FS as unknown as EmscriptenFs;
  const file = new h5wasm.File(mountOneFile(fs, fd, size, directory, 'file.rtdc'), 'r');
  try {
    if (file.file_id < 0n) throw new Error('the file cannot be opened as HDF5');
    const datasets = request.features.map((name) => {
      const item = file.get(`events/${name}`);
      if (!(item instanceof h5wasm.Dataset) || item.shape?.length !== 1 || item.metadata.vlen || (item.metadata.type !== 0 && item.metadata.type !== 1)) {
        throw new Error(`feature "${name}" is not a scalar feature of this file`);
      }
      return [name, item] as const;
    });
    const total = Math.min(...datasets.map(([, d]) => d.shape![0]!));
    const indices = sampleIndices(total, request.limit);
    const events: Record<string, Array<number | null>> = {};
    for (const [name, dataset] of datasets) events[name] = pick(dataset, indices, request.batchSize);
    return { total_events: total, count: indices.length, events };
  } finally {
    file.close();
    (fs as unknown as { unmount(path: string): void }).unmount(directory);
  }
}

/** Values at `indices` (ascending), read a batch at a time into wasm memory. */
function pick(dataset: Dataset, indices: readonly number[], batchSize: number): Array<number | null> {
  const out: Array<number | null> = [];
  if (indices.length === 0) return out;
  const metadata = dataset.metadata;
  const Type = arrayType(metadata);
  if (!Type) throw new Error(`feature "${dataset.path.split('/').pop()}" is not numeric`);
  const last = indices[indices.length - 1]! + 1;
  const rows = Math.min(batchSize, last);
  const pointer = Module._malloc(metadata.size * rows);
  if (pointer === 0) throw new Error(`cannot allocate ${metadata.size * rows} bytes`);
  try {
    let next = 0;
    for (let start = 0; start < last && next < indices.length; start += batchSize) {
      const end = Math.min(last, start + batchSize);
      if (indices[next]! >= end) continue;
      const status = Module.get_dataset_data(dataset.file_id, dataset.path, [BigInt(end - start)], [BigInt(start)], [1n], BigInt(pointer));
      if (status < 0) throw new Error(`feature "${dataset.path.split('/').pop()}" cannot be read at events ${start} to ${end - 1}`);
      const values = new Type(Module.HEAPU8.buffer, pointer, end - start);
      while (next < indices.length && indices[next]! < end) {
        const v = Number(values[indices[next]! - start]!);
        out.push(Number.isFinite(v) ? v : null);
        next++;
      }
    }
  } finally {
    Module._free(pointer);
  }
  return out;
}
