// HDF5 values as JSON keeps them: what h5wasm reads from attributes, made JSON-safe, and
// multi-dimensional attributes in their shape.
import type { Metadata } from 'h5wasm';

// HDF5 datatype classes (H5T_class_t).
const H5T_INTEGER = 0;
const H5T_STRING = 3;
const H5T_ENUM = 8;

/** A value that survives `JSON.stringify` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON-safe number: NaN and ±Infinity have no JSON form and become null. */
function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/**
 * Converts a value h5wasm read into one that JSON keeps as it is: bigint to number when
 * safe (else a decimal string), typed arrays to arrays, raw bytes (types h5wasm does not
 * decode, such as opaque) to UTF-8 strings, NaN and ±Infinity to null.
 * @param value - what h5wasm returned
 * @param metadata - the HDF5 type of the value, which tells raw bytes from uint8 numbers
 * @returns the JSON-safe value
 */
export function jsonSafe(value: unknown, metadata?: Metadata): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') {
    // h5py writes booleans as an enum {FALSE, TRUE}; h5wasm reads them as 0/1.
    if (metadata?.type === H5T_ENUM && isBooleanEnum(metadata)) return value !== 0;
    return jsonNumber(value);
  }
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Uint8Array && metadata !== undefined && metadata.type !== H5T_INTEGER && metadata.type !== H5T_ENUM) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  }
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, (item) => jsonSafe(item, metadata));
  if (Array.isArray(value)) return value.map((item) => jsonSafe(item, metadata?.type === H5T_STRING ? metadata : undefined));
  // References and other objects have no meaning outside the file.
  return null;
}

function isBooleanEnum(metadata: Metadata): boolean {
  const names = Object.keys(metadata.enum_type?.members ?? {}).sort();
  return names.length === 2 && names[0] === 'FALSE' && names[1] === 'TRUE';
}

/**
 * A flat array as nested arrays of `shape` (a (4, 2) polygon stays four pairs); anything else
 * unchanged.
 * @param value - what jsonSafe returned
 * @param shape - the HDF5 shape of the value
 */
export function shaped(value: JsonValue, shape: readonly number[] | null | undefined): JsonValue {
  if (!Array.isArray(value) || !shape || shape.length < 2 || shape.reduce((a, b) => a * b, 1) !== value.length) return value;
  const nest = (start: number, dims: readonly number[]): JsonValue[] => {
    const [first, ...rest] = dims;
    if (rest.length === 0) return value.slice(start, start + first!);
    const step = rest.reduce((a, b) => a * b, 1);
    return Array.from({ length: first! }, (_, i) => nest(start + i * step, rest));
  };
  return nest(0, shape);
}
