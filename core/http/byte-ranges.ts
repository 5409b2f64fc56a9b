// Byte ranges for routes that serve a file: a single `Range: bytes=...` (suffix ranges
// included) honoured unless `If-Range` names another version, answered with 206 and
// Content-Range, 416 with `Content-Range: bytes */SIZE` when nothing of it is in the file, or
// the whole file. Shared by core's dataset downloads and plugins' own file routes, so that
// every download on the platform resumes the same way.
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import type { ByteRange } from '../plugins/hooks/depot.js';
import { sendNodeStream } from './node-stream-response.js';

/**
 * Parses a Range header against a file of `size` bytes. Multiple ranges and malformed headers
 * are ignored (the whole file is served), as RFC 9110 allows.
 * @param header the Range header, if any
 * @param size the file's size in bytes
 * @returns the inclusive range (its end clamped to the file), `unsatisfiable`, or undefined for "the whole file"
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (!match[1] && !match[2])) return undefined; // multi-range or malformed: serve the whole file
  if (!match[1]) {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/**
 * The range a GET asks for: its Range header, unless an If-Range names a version other than
 * `etag` (an HTTP date, or any validator when the file has no ETag, also counts as "other":
 * the whole file is always a correct answer).
 * @param headers the request's `range` and `if-range` headers
 * @param size the file's size in bytes
 * @param etag the file's strong ETag, quoted (`"<sha256>"`), if it has one
 * @returns as {@link parseRange}
 */
export function requestedRange(headers: { range: string | undefined; ifRange: string | undefined }, size: number, etag: string | undefined): ByteRange | 'unsatisfiable' | undefined {
  if (headers.ifRange && headers.ifRange !== etag) return undefined;
  return parseRange(headers.range, size);
}

/** What {@link sendByteRange} serves. */
export interface ByteRangeBody {
  /** The file's size in bytes. */
  size: number;
  /** From {@link requestedRange}: undefined serves the whole file. */
  range: ByteRange | 'unsatisfiable' | undefined;
  /** Headers of every answer (Content-Type, Content-Disposition, ETag...); Accept-Ranges, Content-Length and Content-Range are added. */
  headers: Record<string, string>;
  /** Opens the bytes of `range` (inclusive); not called for a 416 or an empty file. */
  open: (range: ByteRange) => Promise<Readable> | Readable;
}

/**
 * Answers a GET with the bytes of a file: 416 with `Content-Range: bytes *\/SIZE` for an
 * unsatisfiable range, 206 with Content-Range for a range, else 200 with the whole file.
 * @param c the request's context
 * @param body the file and the range to serve
 * @returns the response to return from the route
 */
export async function sendByteRange(c: Context, body: ByteRangeBody): Promise<Response> {
  const { size, range } = body;
  const headers = { ...body.headers, 'Accept-Ranges': 'bytes' };
  if (range === 'unsatisfiable') return c.body(null, 416, { ...headers, 'Content-Range': `bytes */${size}` });
  if (size === 0) return c.body(null, 200, { ...headers, 'Content-Length': '0' });
  const status = range ? 206 : 200;
  const answer = range ? { ...headers, 'Content-Length': String(range.end - range.start + 1), 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : { ...headers, 'Content-Length': String(size) };
  const open = (): Promise<Readable> | Readable => body.open(range ?? { start: 0, end: size - 1 });
  // Served by Node: the file's stream goes into the socket directly (no web-stream adapter).
  const sent = await sendNodeStream(c, status, answer, open);
  if (sent) return sent;
  return c.body(Readable.toWeb(await open()) as ReadableStream<Uint8Array>, status, answer);
}
