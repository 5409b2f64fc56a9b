// The task a contained process runs for schema-rtdc (see run-rtdc-inspection.ts): inspects
// the file it was handed as a descriptor. Imports only h5wasm and this plugin's own files,
// the only code the process may read.
import { inspectRtdcFd, type RtdcInspection, type RtdcLimits } from './rtdc-inspection.js';
import { sampleRtdcFd, type RtdcSample, type RtdcSampleRequest } from './rtdc-sample.js';

/** The task's input: an inspection, or an event sample when `sample` is given. */
export interface RtdcTaskInput {
  /** Read an event sample instead of inspecting. */
  sample?: Omit<RtdcSampleRequest, 'filterDirectory'>;
  /** Events read at once for statistics. */
  batchSize?: number;
  /** Size limits (defaults where absent). */
  limits?: Partial<RtdcLimits>;
  /** The folder of the compression filters' `.so` files (readable by the process). */
  filterDirectory: string;
}

/**
 * Inspects the file open as `fd`, or samples its events.
 * @param input - the batch size and where the filters are
 * @param context - `fd`: the descriptor of the file under inspection
 * @returns the inspection or the sample
 */
export default function inspectContained(input: RtdcTaskInput, context: { fd: number }): Promise<RtdcInspection | RtdcSample> {
  if (input.sample) return sampleRtdcFd(context.fd, { ...input.sample, filterDirectory: input.filterDirectory });
  return inspectRtdcFd(context.fd, { filterDirectory: input.filterDirectory, ...(input.limits ? { limits: input.limits } : {}), ...(input.batchSize === undefined ? {} : { batchSize: input.batchSize }) });
}
