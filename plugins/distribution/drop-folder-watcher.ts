// Watches the drop folder: files present at start and files that arrive later are taken in
// once complete and stable (size and modification time unchanged for `stable_ms`). Change
// notifications start a scan early; a periodic scan catches anything they missed.
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../core/api.js';

const BURST_MS = 50;

/** Names that are still being written by common tools, or hidden. */
export function isTemporaryName(name: string): boolean {
  return name.startsWith('.') || /(\.part|\.partial|\.tmp|\.crdownload|~)$/i.test(name);
}

/** Watches one folder and hands stable files to `take` (a batch at a time). */
export class DropFolderWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly seen = new Map<string, { size: number; mtimeMs: number; since: number }>();

  constructor(
    private readonly dir: string,
    private readonly options: { stableMs: number; scanMs: number },
    private readonly take: (paths: string[]) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  /** Starts watching, and scans at once. */
  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Notifications come in bursts (one per file moved in): one scan shortly after a burst.
    this.watcher = watch(this.dir, { persistent: false }, () => this.scanSoon(BURST_MS));
    this.watcher.on('error', (error) => this.logger.warn('drop folder watch failed; periodic scans continue', { error: error.message }));
    this.timer = setInterval(() => this.scanSoon(0), this.options.scanMs);
    this.timer.unref();
    await this.scan();
  }

  /** Stops watching and waits for a running scan. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.scanning;
  }

  private scanSoon(delayMs: number): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    if (this.soon && delayMs > 0) return;
    clearTimeout(this.soon);
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.scan();
    }, delayMs);
    this.soon.unref();
  }

  /** One pass: takes the files that are stable; remembers the others for the next pass. */
  async scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = this.pass()
      .catch((error: Error) => this.logger.error('drop folder scan failed', { error: error.message }))
      .finally(() => {
        this.scanning = undefined;
        if (this.again) {
          this.again = false;
          this.scanSoon(0);
        }
      });
    return this.scanning;
  }

  private async pass(): Promise<void> {
    const now = Date.now();
    const entries = await readdir(this.dir, { withFileTypes: true });
    const stable: string[] = [];
    let waiting = false;
    const present = new Set<string>();
    for (const entry of entries) {
      if (!entry.isFile() || isTemporaryName(entry.name)) continue;
      present.add(entry.name);
      const path = join(this.dir, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (!info) continue;
      const before = this.seen.get(entry.name);
      if (!before || before.size !== info.size || before.mtimeMs !== info.mtimeMs) {
        this.seen.set(entry.name, { size: info.size, mtimeMs: info.mtimeMs, since: now });
        // Untouched for long already (e.g. present at start): no need to wait again.
        if (now - info.mtimeMs >= this.options.stableMs && this.options.stableMs > 0 && !before) {
          if (now - info.mtimeMs >= 2 * this.options.stableMs) stable.push(path);
          else waiting = true;
        } else if (this.options.stableMs === 0) stable.push(path);
        else waiting = true;
        continue;
      }
      if (now - before.since >= this.options.stableMs) stable.push(path);
      else waiting = true;
    }
    for (const name of this.seen.keys()) if (!present.has(name)) this.seen.delete(name);
    if (stable.length) {
      for (const path of stable) this.seen.delete(path.slice(this.dir.length + 1));
      await this.take(stable);
    }
    if (waiting) this.scanSoon(Math.max(50, Math.ceil(this.options.stableMs / 2)));
  }
}
