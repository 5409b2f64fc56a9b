// The Node HTTP server that `platform serve` runs, with its time limits from `[http]`. Node's
// default `requestTimeout` (300 s) cuts any request that lasts longer, however steadily its
// bytes flow: a large tus PATCH on a slow link would end in an empty 408. Here the whole
// request has no limit unless `request_timeout_seconds` sets one, and a connection on which
// nothing moves either way for `idle_timeout_seconds` is closed.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** Time limits of the server. */
export interface HttpServerLimits {
  /** Longest a whole request may take, in seconds; 0 for no limit. */
  requestTimeoutSeconds: number;
  /** A connection with no bytes in either direction for this long is closed. */
  idleTimeoutSeconds: number;
  /** Longest a client may take to send the request headers. */
  headersTimeoutSeconds: number;
}

/** Starts serving `fetch` on host:port and resolves once the socket is bound. */
export async function startHttpServer(fetch: (request: Request, env: unknown) => Response | Promise<Response>, host: string, port: number, limits: HttpServerLimits): Promise<{ server: Server; port: number }> {
  const requestTimeout = limits.requestTimeoutSeconds * 1000;
  const server = serve({
    fetch,
    hostname: host,
    port,
    serverOptions: {
      requestTimeout,
      // Node requires headersTimeout <= requestTimeout when the latter is set.
      headersTimeout: requestTimeout ? Math.min(limits.headersTimeoutSeconds * 1000, requestTimeout) : limits.headersTimeoutSeconds * 1000,
    },
  }) as Server;
  // Without a 'timeout' listener, Node destroys a socket that stays idle this long.
  server.setTimeout(limits.idleTimeoutSeconds * 1000);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo | null;
  return { server, port: address?.port ?? port };
}
