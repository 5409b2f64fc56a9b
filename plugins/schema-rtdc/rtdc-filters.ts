// The HDF5 compression filters real RT-DC files use, for h5wasm: dclab and DCOR's condensed
// files write zstd through hdf5plugin, and h5py users write lzf, blosc, bitshuffle and lz4.
// The filters are h5wasm-plugins' WebAssembly side modules, copied into h5wasm's in-memory
// file system (the contained process cannot read any other place of the host) and put first
// on HDF5's plugin search path, where HDF5 loads one when a dataset needs it.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the filters live inside h5wasm's file system. */
export const FILTER_DIRECTORY = '/filters';

/**
 * The filters loaded, by h5wasm-plugins' file name (`libH5Z<name>.so`), with the HDF5 filter
 * ids they decode. jpeg, zfp, bitgroom and bitround are lossy or for other fields and are
 * not loaded.
 */
export const FILTERS: Readonly<Record<string, number>> = {
  zstd: 32015, lzf: 32000, blosc: 32001, blosc2: 32026, bshuf: 32008, lz4: 32004, bz2: 307,
};

/** The folder of h5wasm-plugins' `.so` files (the contained process must be able to read it). */
export function filterSourceDirectory(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('h5wasm-plugins'))), 'plugins');
}

/** The parts of h5wasm's module used here. */
interface FilterHost {
  FS: { analyzePath(path: string): { exists: boolean }; mkdirTree(path: string): unknown; writeFile(path: string, data: Uint8Array): unknown };
  insert_plugin_search_path(path: string, index: number): number;
}

/**
 * Copies the filters into h5wasm's file system and puts them first on the plugin path, once.
 * @param module - h5wasm's module (`await h5wasm.ready`)
 * @param source - the folder of the `.so` files (default {@link filterSourceDirectory}; a
 *   contained process is given it, as it may not resolve packages itself)
 */
export function installFilters(module: FilterHost, source = filterSourceDirectory()): void {
  if (module.FS.analyzePath(FILTER_DIRECTORY).exists) return;
  module.FS.mkdirTree(FILTER_DIRECTORY);
  for (const name of Object.keys(FILTERS)) {
    module.FS.writeFile(`${FILTER_DIRECTORY}/libH5Z${name}.so`, readFileSync(join(source, `libH5Z${name}.so`)));
  }
  module.insert_plugin_search_path(FILTER_DIRECTORY, 0);
}
