// HDF5's error stacks ("HDF5-DIAG: Error detected in HDF5 ..."), which h5wasm prints to
// stderr for every failed call on a damaged or hostile file, taken off stderr while a file is
// read and turned into the cause a problem names. Any other output passes through unchanged.
//
// A stack as HDF5 2.0 prints it (frame 0 is the API call, the last frame the root cause):
//   HDF5-DIAG: Error detected in HDF5 (2.0.0):
//     #000: .../H5F.c line 821 in H5Fopen(): unable to synchronously open file
//       major: File accessibility
//       minor: Unable to open file
//     #006: .../H5Fsuper.c line 577 in H5F__super_read(): truncated file: eof = 3000, ...
//       major: File accessibility
//       minor: File has been truncated

/** Diagnostics caught since the capture began. */
export interface Hdf5Diagnostics {
  /** The root cause of the last error stack since the previous call (its deepest frame), then forgets it. */
  takeCause(): string | undefined;
  /** Whether any error stack was caught at all. */
  readonly caught: number;
  /** Gives stderr back. */
  stop(): void;
}

const STACK_START = /^HDF5-DIAG: /;
const STACK_LINE = /^\s+(#\d+: |major: |minor: )/;
const FRAME = /^\s+#\d+: .*? in [A-Za-z0-9_]+\(\): (.*)$/;

/**
 * Takes HDF5's error stacks off `process.stderr` until `stop()`. Synchronous h5wasm calls in
 * between print nothing to the server's log.
 */
export function captureHdf5Diagnostics(): Hdf5Diagnostics {
  const stderr = process.stderr;
  const original = stderr.write;
  let inStack = false;
  let cause: string | undefined;
  let caught = 0;
  const filter = (text: string): string => {
    const kept: string[] = [];
    const lines = text.split('\n');
    const last = lines.pop();
    for (const line of lines) {
      if (STACK_START.test(line)) {
        inStack = true;
        caught++;
        cause = undefined;
        continue;
      }
      if (inStack && STACK_LINE.test(line)) {
        const frame = FRAME.exec(line);
        if (frame) cause = frame[1]!.trim();
        continue;
      }
      inStack = false;
      kept.push(`${line}\n`);
    }
    if (last) kept.push(last);
    return kept.join('');
  };
  stderr.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : undefined;
    if (text === undefined) return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    const kept = filter(text);
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    if (!kept) {
      callback?.();
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, kept, ...rest);
  } as typeof stderr.write;
  return {
    takeCause() {
      const taken = cause;
      cause = undefined;
      return taken;
    },
    get caught() {
      return caught;
    },
    stop() {
      stderr.write = original;
    },
  };
}
