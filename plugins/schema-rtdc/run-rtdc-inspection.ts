// Runs an RT-DC inspection in a contained process (core's runContained): it can read only its
// own code, h5wasm and the compression filters, gets the file as an open descriptor, and is
// killed at its time and memory limits, so a hostile or broken file can neither reach the host
// nor stall or crash the process that asked.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainedProcessError, runContained } from '../../core/api.js';
import type { RtdcInspection, RtdcLimits } from './rtdc-inspection.js';
import type { RtdcTaskInput } from './rtdc-contained-task.js';
import { filterSourceDirectory } from './rtdc-filters.js';

/** Limits of one inspection. */
export interface InspectionLimits {
  /** The process is killed after this long. */
  timeoutMs: number;
  /** Memory cap of the whole process (heap, WebAssembly memory), in MiB. */
  memoryMb: number;
  /** Events read at once for statistics; the inspection's default when absent. */
  batchSize?: number;
  /** Size limits of the file (defaults where absent). */
  sizes?: Partial<RtdcLimits>;
  /** Most events of the sample kept for plots; the inspection's default when absent. */
  sampleEvents?: number;
  /** Kills the process when aborted. */
  signal?: AbortSignal;
}

/** The code the contained process may read: this plugin's folder, h5wasm's browser build, the filters. */
export function rtdcCodePaths(): string[] {
  const h5wasm = dirname(fileURLToPath(import.meta.resolve('h5wasm')));
  return [dirname(fileURLToPath(import.meta.url)), h5wasm, filterSourceDirectory()];
}

/**
 * Inspects `path` in a contained process.
 * @param path - the file on the local file system
 * @param limits - time and memory limits, batch size and an optional abort signal
 * @returns the inspection, exactly as inspectRtdcFd returns it
 * @throws ContainedProcessError when a limit is reached, the signal aborts, or the process dies
 */
export function runRtdcInspectionContained(path: string, limits: InspectionLimits): Promise<RtdcInspection> {
  const input: RtdcTaskInput = {
    filterDirectory: filterSourceDirectory(),
    ...(limits.sizes ? { limits: limits.sizes } : {}),
    ...(limits.batchSize === undefined ? {} : { batchSize: limits.batchSize }),
    ...(limits.sampleEvents === undefined ? {} : { sampleEvents: limits.sampleEvents }),
  };
  return runContained<RtdcInspection>({
    module: new URL('./rtdc-contained-task.js', import.meta.url),
    input,
    codePaths: rtdcCodePaths(),
    file: path,
    timeoutMs: limits.timeoutMs,
    memoryMb: limits.memoryMb,
    ...(limits.signal ? { signal: limits.signal } : {}),
  });
}

/**
 * The schema's view of {@link runRtdcInspectionContained}: a file that cannot be inspected
 * within the limits (too slow, too large, crashing the reader) is an invalid file with that
 * reason, and only cancellation rejects, so the job can stop.
 * @param path - the file on the local file system
 * @param limits - time and memory limits, batch size and an optional abort signal
 * @returns the inspection, or an invalid result naming why there is none
 * @throws ContainedProcessError with reason `aborted` when the signal aborts
 */
export async function runRtdcInspection(path: string, limits: InspectionLimits): Promise<RtdcInspection> {
  try {
    return await runRtdcInspectionContained(path, limits);
  } catch (error) {
    if (!(error instanceof ContainedProcessError) || error.reason === 'aborted') throw error;
    return { valid: false, problems: [`the RT-DC check ended without an answer: ${error.message}`], metadata: {} };
  }
}
