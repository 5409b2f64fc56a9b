// The task a contained process runs for schema-rtdc (see run-rtdc-inspection.ts): inspects
// the file it was handed as a descriptor. Imports only h5wasm and this plugin's own files,
// the only code the process may read.
import { inspectRtdcFd, type RtdcInspection, type RtdcLimits } from './rtdc-inspection.js';

/** The task's input. */
export interface RtdcTaskInput {
  /** Events read at once for statistics. */
  batchSize?: number;
  /** Most events of the sample kept for plots. */
  sampleEvents?: number;
  /** Size limits (defaults where absent). */
  limits?: Partial<RtdcLimits>;
  /** The folder of the compression filters' `.so` files (readable by the process). */
  filterDirectory: string;
}

/**
 * Inspects the file open as `fd`.
 * @param input - the batch size, sample size, limits and where the filters are
 * @param context - `fd`: the descriptor of the file under inspection
 * @returns the inspection
 */
export default function inspectContained(input: RtdcTaskInput, context: { fd: number }): Promise<RtdcInspection> {
  return inspectRtdcFd(context.fd, {
    filterDirectory: input.filterDirectory,
    ...(input.limits ? { limits: input.limits } : {}),
    ...(input.batchSize === undefined ? {} : { batchSize: input.batchSize }),
    ...(input.sampleEvents === undefined ? {} : { sampleEvents: input.sampleEvents }),
  });
}
