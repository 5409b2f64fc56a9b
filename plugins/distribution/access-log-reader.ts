// Reads web servers' access logs from the last saved position and acknowledges sent files
// that recipients fetched. Survives restarts (the position is in the database, saved in the
// same transaction as the acknowledgements) and rotation: a new inode, or a file shorter than
// the position, is read from its start, after the rest of the rotated file (also when
// logrotate has already compressed it to `.gz`).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { basename, dirname, join } from 'node:path';
import { posix } from 'node:path';
import type { Logger } from '../../core/api.js';
import { remoteName, type Cursor, type DistributedFile, type DistributionStore } from './distribution-store.js';
import type { LogRequest } from './access-log-format.js';
import { USER_AGENT } from './webdav-target.js';

/** What one read of one log found. */
export interface LogReadReport {
  log: string;
  lines: number;
  unparsed: number;
  acknowledged: number;
  /** Set when the log was rotated since the last read. */
  rotated?: string;
  /** Set when the log does not exist (yet). */
  missing?: true;
}

const CHUNK = 1 << 20;
const HEAD_BYTES = 64;

/** One piece of a log to read: a file from an offset. */
interface Segment {
  path: string;
  from: number;
  inode: string;
  /** The rotated file: read it to its end, a last line without newline included. */
  final: boolean;
  /** The rotated file was compressed (`access.log.1.gz`): `from` counts uncompressed bytes. */
  gzip?: boolean;
  /** The fingerprint of the log's first bytes, kept with positions inside a compressed file. */
  head?: string;
}

/** The first `n` uncompressed bytes of a gzip file (fewer when it is shorter or damaged). */
async function gunzippedHead(path: string, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const stream = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= n) break;
    }
  } catch {
    // damaged or not gzip: whatever was read
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, n);
}

/** Reads access logs. */
export class AccessLogReader {
  constructor(
    private readonly store: DistributionStore,
    private readonly parse: (line: string) => LogRequest | undefined,
    private readonly logger: Logger,
  ) {}

  /** `<n>:<sha256>` of a file's first n bytes, n = min(64, upTo): bytes before a read position never change. */
  private async head(path: string, upTo: number): Promise<string | undefined> {
    const n = Math.min(HEAD_BYTES, upTo);
    if (n <= 0) return undefined;
    const handle = await open(path, 'r').catch(() => undefined);
    if (!handle) return undefined;
    try {
      const buffer = Buffer.alloc(n);
      const { bytesRead } = await handle.read(buffer, 0, n, 0);
      return bytesRead === n ? `${n}:${createHash('sha256').update(buffer).digest('hex')}` : undefined;
    } finally {
      await handle.close();
    }
  }

  /**
   * The earlier file a saved position belongs to, among `path`'s siblings (`access.log.1`,
   * `access.log-20261123`, ...): the one with the saved inode, or (after copytruncate) the
   * one whose first bytes are those recorded, at least as long as the position.
   */
  private async earlierFile(path: string, saved: Cursor): Promise<{ path: string; inode: string; gzip: boolean } | undefined> {
    const dir = dirname(path);
    const base = basename(path);
    const candidates: Array<{ path: string; inode: string; size: number }> = [];
    const compressed: Array<{ path: string; inode: string }> = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name === base || !name.startsWith(base)) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (!info?.isFile()) continue;
      if (name.endsWith('.gz')) compressed.push({ path: join(dir, name), inode: String(info.ino) });
      else candidates.push({ path: join(dir, name), inode: String(info.ino), size: info.size });
    }
    for (const c of candidates) {
      if (c.size < saved.position) continue;
      const sameHead = !saved.head || (await this.head(c.path, saved.position)) === saved.head;
      if (c.inode === saved.inode && sameHead) return { ...c, gzip: false };
    }
    if (!saved.head) return undefined;
    for (const c of candidates) if (c.size >= saved.position && (await this.head(c.path, saved.position)) === saved.head) return { ...c, gzip: false };
    // Compressed since (a new inode): recognised by its uncompressed first bytes.
    const [n] = saved.head.split(':');
    for (const c of compressed) {
      const head = await gunzippedHead(c.path, Number(n));
      if (head.length === Number(n) && `${n}:${createHash('sha256').update(head).digest('hex')}` === saved.head) return { ...c, gzip: true };
    }
    return undefined;
  }

  /** Reads what is new in one log. */
  async read(path: string): Promise<LogReadReport> {
    const report: LogReadReport = { log: path, lines: 0, unparsed: 0, acknowledged: 0 };
    const info = await stat(path).catch(() => undefined);
    if (!info) {
      this.logger.warn('an access log to read does not exist', { log: path });
      return { ...report, missing: true };
    }
    const key = `log:${path}`;
    const saved = await this.store.cursor(key);
    const inode = String(info.ino);
    const segments: Segment[] = [];
    const moved = saved !== undefined && saved.position > 0 && (saved.inode !== inode || info.size < saved.position || (saved.head !== undefined && (await this.head(path, saved.position)) !== saved.head));
    if (saved && moved) {
      // Rotated (new inode) or truncated in place: first the rest of the earlier file, if it is still there.
      const earlier = await this.earlierFile(path, saved);
      if (earlier) segments.push({ path: earlier.path, from: saved.position, inode: earlier.inode, final: true, gzip: earlier.gzip, ...(saved.head ? { head: saved.head } : {}) });
      else this.logger.warn('the access log was rotated or truncated and the earlier file was not found; its unread rest is lost', { log: path });
      const how = saved.inode !== inode ? 'rotated' : 'truncated';
      report.rotated = `${how}${earlier ? ` to ${basename(earlier.path)}; read its rest from byte ${saved.position}` : '; the earlier file was not found'}; read the new file from its start`;
      segments.push({ path, from: 0, inode, final: false });
    } else segments.push({ path, from: saved?.position ?? 0, inode, final: false });
    for (const segment of segments) await this.readSegment(key, segment, { path, inode }, report);
    return report;
  }

  private async readSegment(key: string, segment: Segment, current: { path: string; inode: string }, report: LogReadReport): Promise<void> {
    if (segment.gzip) return this.readGzipSegment(key, segment, current, report);
    const handle = await open(segment.path, 'r');
    try {
      let position = segment.from;
      let carry = Buffer.alloc(0);
      const buffer = Buffer.alloc(CHUNK);
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, CHUNK, position + carry.length);
        const data = Buffer.concat([carry, buffer.subarray(0, bytesRead)]);
        const end = bytesRead === 0 && segment.final ? data.length : data.lastIndexOf(0x0a) + 1;
        const finished = segment.final && bytesRead === 0;
        if (end > 0 || finished) {
          const lines = data.subarray(0, end).toString('utf8').split('\n').filter((l) => l.trim() !== '');
          position += end;
          // After the earlier file's rest, the position belongs to the current file (from 0).
          const cursor: Cursor = finished ? { inode: current.inode, position: 0 } : { inode: segment.inode, position, head: await this.head(segment.path, position) };
          await this.consume(key, lines, cursor, report);
        }
        carry = data.subarray(end);
        if (bytesRead === 0) break;
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * The rest of a rotated log that is already compressed, uncompressed as it is read, from the
   * saved (uncompressed) position to its end; then the position belongs to the current file.
   */
  private async readGzipSegment(key: string, segment: Segment, current: { path: string; inode: string }, report: LogReadReport): Promise<void> {
    let skip = segment.from;
    let position = segment.from;
    let carry = Buffer.alloc(0);
    const stream = createReadStream(segment.path).pipe(createGunzip());
    for await (const chunk of stream) {
      let data = chunk as Buffer;
      if (skip > 0) {
        const dropped = Math.min(skip, data.length);
        skip -= dropped;
        data = data.subarray(dropped);
      }
      carry = Buffer.concat([carry, data]);
      if (carry.length < CHUNK) continue;
      const end = carry.lastIndexOf(0x0a) + 1;
      if (end === 0) continue;
      const lines = carry.subarray(0, end).toString('utf8').split('\n').filter((l) => l.trim() !== '');
      carry = carry.subarray(end);
      position += end;
      // An uncompressed position in the compressed file, recognised again by its first bytes after a crash.
      await this.consume(key, lines, { inode: segment.inode, position, ...(segment.head ? { head: segment.head } : {}) }, report);
    }
    const lines = carry.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    await this.consume(key, lines, { inode: current.inode, position: 0 }, report);
  }

  /** Matches lines to sent files and records acknowledgements and the position together. */
  private async consume(key: string, lines: string[], cursor: Cursor, report: LogReadReport): Promise<void> {
    const requests: LogRequest[] = [];
    for (const line of lines) {
      const request = this.parse(line);
      report.lines++;
      if (!request) report.unparsed++;
      // Fetches by recipients: GET answered 200 or 206; not the platform's own verification reads.
      else if (request.path && (request.method === 'GET' || request.method === undefined) && (request.status === 200 || request.status === 206) && !request.userAgent?.startsWith(USER_AGENT)) requests.push(request);
    }
    const names = [...new Set(requests.map((r) => posix.basename(r.path!)))];
    const sent = await this.store.sentByName(names);
    const byName = new Map<string, DistributedFile[]>();
    for (const file of sent) byName.set(remoteName(file), [...(byName.get(remoteName(file)) ?? []), file]);
    await this.store.database().transaction(async (transaction) => {
      for (const request of requests) {
        const candidates = byName.get(posix.basename(request.path!)) ?? [];
        // Several sent files of one name: the one whose remote URL has this path.
        const file = candidates.length === 1 ? candidates[0] : candidates.find((f) => f.remoteLocation && safePath(f.remoteLocation) === request.path);
        if (!file) continue;
        await this.store.acknowledge(file, { actor: request.user ?? request.address ?? 'unknown', at: request.at ?? new Date(), address: request.address, user: request.user, userAgent: request.userAgent, via: `access log ${basename(key.slice(4))}: ${request.method ?? 'GET'} ${request.path} ${request.status}` }, transaction);
        report.acknowledged++;
      }
      await this.store.saveCursor(key, cursor, transaction);
    });
  }
}

function safePath(location: string): string | undefined {
  try {
    return decodeURIComponent(new URL(location).pathname);
  } catch {
    return undefined;
  }
}
