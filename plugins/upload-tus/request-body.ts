// The body of a PATCH as a Node stream. Served by @hono/node-server, the request's own
// IncomingMessage is read directly: going through the web ReadableStream that hono builds
// (Readable.toWeb, then Readable.fromWeb back) costs two conversions per 64 KiB chunk, which
// showed as a quarter of an upload's time. Elsewhere (app.request in tests) the web body is used.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Context } from 'hono';
import type { AppEnv } from '../../core/api.js';

export function requestBody(c: Context<AppEnv>): Readable {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming;
  if (incoming instanceof Readable && !incoming.readableDidRead && !incoming.readableEnded) return incoming;
  return c.req.raw.body ? Readable.fromWeb(c.req.raw.body as WebReadableStream<Uint8Array>) : Readable.from([]);
}
