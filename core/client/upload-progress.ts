// Progress of `platform upload`: a bar per file and overall on a terminal (bytes, rate,
// time left), plain lines otherwise, or JSON events with --json.

/** Receives upload events. */
export interface UploadReporter {
  start(file: string, size: number, resumedAt: number): void;
  bytes(file: string, n: number): void;
  done(file: string, sha256: string): void;
  failed(file: string, message: string): void;
  finish(): void;
}

function human(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

/** Chooses the reporter for the output: JSON events, a terminal bar, or plain lines. */
export function createReporter(out: NodeJS.WritableStream, err: NodeJS.WritableStream & { isTTY?: boolean }, json: boolean, totalBytes: number): UploadReporter {
  const started = Date.now();
  let sent = 0;
  const perFile = new Map<string, { size: number; sent: number; lastLine: number }>();
  if (json) {
    const emit = (event: Record<string, unknown>): void => void out.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    return {
      start: (file, size, resumedAt) => emit({ event: 'start', file, size, resumedAt }),
      bytes: (file, n) => {
        const f = perFile.get(file) ?? { size: 0, sent: 0, lastLine: 0 };
        f.sent += n;
        perFile.set(file, f);
      },
      done: (file, sha256) => emit({ event: 'done', file, sha256 }),
      failed: (file, message) => emit({ event: 'failed', file, message }),
      finish: () => emit({ event: 'finish', seconds: (Date.now() - started) / 1000 }),
    };
  }
  const tty = Boolean(err.isTTY);
  let lastDraw = 0;
  const draw = (file: string): void => {
    const f = perFile.get(file)!;
    const now = Date.now();
    const rate = sent / Math.max((now - started) / 1000, 0.001);
    const left = rate > 0 ? (totalBytes - sent) / rate : 0;
    if (tty) {
      if (now - lastDraw < 100 && f.sent < f.size) return;
      lastDraw = now;
      const bar = (done: number, size: number): string => `[${'#'.repeat(Math.round((size ? done / size : 1) * 20)).padEnd(20)}]`;
      err.write(`\r${file.slice(-30).padEnd(30)} ${bar(f.sent, f.size)} ${human(f.sent)}/${human(f.size)}  all ${bar(sent, totalBytes)} ${human(rate)}/s ${Math.ceil(left)} s left\x1b[K`);
    } else {
      const tenth = Math.floor((f.sent / Math.max(f.size, 1)) * 10);
      if (tenth > f.lastLine) {
        f.lastLine = tenth;
        err.write(`${file}: ${tenth * 10}% (${human(f.sent)} of ${human(f.size)}, ${human(rate)}/s)\n`);
      }
    }
  };
  return {
    start: (file, size, resumedAt) => {
      perFile.set(file, { size, sent: resumedAt, lastLine: Math.floor((resumedAt / Math.max(size, 1)) * 10) });
      sent += resumedAt;
      if (!tty) err.write(`${file}: ${resumedAt ? `resuming at ${human(resumedAt)} of ${human(size)}` : `uploading ${human(size)}`}\n`);
    },
    bytes: (file, n) => {
      perFile.get(file)!.sent += n;
      sent += n;
      draw(file);
    },
    done: (file, sha256) => err.write(`${tty ? '\r\x1b[K' : ''}${file}: done, sha256 ${sha256}\n`),
    failed: (file, message) => err.write(`${tty ? '\r\x1b[K' : ''}${file}: FAILED: ${message}\n`),
    finish: () => err.write(`uploaded ${human(sent)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
  };
}
