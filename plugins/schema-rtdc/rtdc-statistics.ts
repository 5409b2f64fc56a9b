// Per-feature statistics of an RT-DC file (count, min, max, mean, NaN ignored) and the values
// at a deterministic sample of events, read in bounded batches through h5wasm's wasm memory.
import { Module, type Dataset, type Metadata } from 'h5wasm';

// HDF5 datatype classes (H5T_class_t).
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

/** Statistics of one scalar feature, NaN ignored; min, max and mean are absent when no value counts. */
export interface RtdcFeatureStatistics {
  count: number;
  min?: number;
  max?: number;
  mean?: number;
}

/**
 * The events sampled from `total`: `count = min(limit, total)` indices spread evenly
 * (index k is floor(k * total / count)), the same for every feature and every file of that
 * many events.
 */
export function sampleIndices(total: number, limit: number): number[] {
  const count = Math.max(0, Math.min(limit, total));
  return Array.from({ length: count }, (_, k) => Math.floor((k * total) / count));
}

/** A typed-array constructor, as a view on wasm memory. */
export type NumericArrayType = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number | bigint>;

/** The typed-array constructor for an HDF5 integer or float type, undefined when JS has none. */
export function arrayType(metadata: Metadata): NumericArrayType | undefined {
  if (metadata.vlen) return undefined;
  if (metadata.type === H5T_FLOAT) return metadata.size === 8 ? Float64Array : metadata.size === 4 ? Float32Array : undefined;
  if (metadata.type !== H5T_INTEGER) return undefined;
  switch (metadata.size) {
    case 1: return metadata.signed ? Int8Array : Uint8Array;
    case 2: return metadata.signed ? Int16Array : Uint16Array;
    case 4: return metadata.signed ? Int32Array : Uint32Array;
    case 8: return metadata.signed ? BigInt64Array : BigUint64Array;
    default: return undefined;
  }
}

/** Running count, sum, min and max of a feature. */
interface Accumulator {
  count: number;
  sum: number;
  min: number;
  max: number;
}

// One function per kind of array, so that each loop sees a single array type and V8 keeps it
// fast (one loop over every typed-array type was several times slower on float64 features).
function accumulateFloat64(values: Float64Array, acc: Accumulator): void {
  let { count, sum, min, max } = acc;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v) continue; // NaN
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  Object.assign(acc, { count, sum, min, max });
}

function accumulateBigInt(values: BigInt64Array | BigUint64Array, acc: Accumulator): void {
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]!);
    acc.count++;
    acc.sum += v;
    if (v < acc.min) acc.min = v;
    if (v > acc.max) acc.max = v;
  }
}

function accumulateOther(values: ArrayLike<number>, acc: Accumulator): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    acc.count++;
    acc.sum += v;
    if (v < acc.min) acc.min = v;
    if (v > acc.max) acc.max = v;
  }
}

/** A feature's statistics and its values at the sampled events, or why it could not be read. */
export type Summary = { statistics: RtdcFeatureStatistics; sample: Float64Array } | { unreadable: string };

/**
 * Count, min, max and mean of the first `length` values, NaN ignored, `batchSize` at a time,
 * and the values at `sampled` (ascending event indices, picked from each batch as it passes),
 * into one buffer in wasm memory that each batch is read into and summed in place. Not
 * `Dataset.slice()`: h5wasm ignores the status of HDF5's read there, so a chunk that cannot
 * be decoded (damaged, or compressed with a filter h5wasm lacks) comes back as
 * uninitialised memory, silently.
 */
export function summarise(dataset: Dataset, metadata: Metadata, length: number, batchSize: number, sampled: readonly number[] = []): Summary {
  const Type = arrayType(metadata)!;
  const acc: Accumulator = { count: 0, sum: 0, min: Infinity, max: -Infinity };
  const sample = new Float64Array(sampled.length);
  let next = 0;
  const rowsPerBatch = Math.min(batchSize, Math.max(length, 1));
  const pointer = Module._malloc(metadata.size * rowsPerBatch);
  if (pointer === 0) throw new Error(`cannot allocate ${metadata.size * rowsPerBatch} bytes for a batch`);
  try {
    for (let start = 0; start < length; start += batchSize) {
      const end = Math.min(length, start + batchSize);
      const status = Module.get_dataset_data(dataset.file_id, dataset.path, [BigInt(end - start)], [BigInt(start)], [1n], BigInt(pointer));
      if (status < 0) return { unreadable: `events ${start} to ${end - 1} cannot be read` };
      // A view, made after the read: wasm memory may have grown (and moved) during it.
      const values = new Type(Module.HEAPU8.buffer, pointer, end - start);
      if (values instanceof Float64Array) accumulateFloat64(values, acc);
      else if (values instanceof BigInt64Array || values instanceof BigUint64Array) accumulateBigInt(values, acc);
      else accumulateOther(values as ArrayLike<number>, acc);
      for (; next < sampled.length && sampled[next]! < end; next++) sample[next] = Number(values[sampled[next]! - start]!);
    }
  } finally {
    Module._free(pointer);
  }
  const { count, sum, min, max } = acc;
  if (count === 0) return { statistics: { count }, sample };
  const statistics: RtdcFeatureStatistics = { count };
  // ±Infinity in the data make min, max or mean infinite, which JSON cannot hold: left out.
  for (const [key, value] of [['min', min], ['max', max], ['mean', sum / count]] as const) if (Number.isFinite(value)) statistics[key] = value;
  return { statistics, sample };
}
