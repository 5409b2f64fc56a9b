// Sends a Node stream as a response body straight into Node's ServerResponse, when the app is
// served by @hono/node-server: the bytes go from the stream to the socket by `pipe`, with
// its back-pressure, instead of through a web ReadableStream adapter and a reader loop
// (a promise and a queue step per chunk). Under `app.request()` (tests) or another runtime
// there is no ServerResponse and the caller answers with a web stream as before.
import type { ServerResponse } from 'node:http';
import { pipeline, type Readable } from 'node:stream';
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';

function serverResponseOf(c: Context): ServerResponse | undefined {
  const env = c.env as { outgoing?: unknown } | undefined;
  const outgoing = env?.outgoing as ServerResponse | undefined;
  return outgoing && typeof outgoing.writeHead === 'function' && typeof outgoing.end === 'function' ? outgoing : undefined;
}

/**
 * Answers with `open()`'s stream piped into the ServerResponse, if there is one.
 * @param headers every header of the answer (those set earlier with `c.header` are added)
 * @returns the response to return from the route, or undefined when there is no ServerResponse
 */
export async function sendNodeStream(c: Context, status: number, headers: Record<string, string>, open: () => Promise<Readable> | Readable): Promise<Response | undefined> {
  const outgoing = serverResponseOf(c);
  if (!outgoing || outgoing.headersSent || c.req.method === 'HEAD') return undefined;
  const stream = await open();
  const all: Record<string, string> = {};
  c.res.headers.forEach((value, name) => void (all[name] = value));
  outgoing.writeHead(status, { ...all, ...headers });
  // A client that goes away destroys the response; pipeline then closes the file too.
  pipeline(stream, outgoing, () => undefined);
  // A fresh marker answer: hono copies earlier headers onto the answer, which must not touch a shared one.
  return new Response(null, { headers: RESPONSE_ALREADY_SENT.headers });
}
