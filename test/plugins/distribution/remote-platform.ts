// Another instance of the platform for delivery tests: a real host with tus and depot-fs
// served over HTTP on a loopback port, which records the tus requests it receives (and the
// bytes each PATCH stored); and a TCP proxy in front of it that can stall the connections
// after a number of bytes and cut them, as a network failure or a crash would.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';

/** One tus request as the other platform received it. */
export interface TusRequest {
  method: string;
  /** The URL path (`/upload/tus/<id>` for a PATCH or HEAD). */
  path: string;
  /** `Upload-Offset` of a PATCH. */
  offset: number | undefined;
  /** Bytes a PATCH brought that the other platform stored (its answered offset less the request's). */
  bytes: number;
  /** The file name of a POST (from its Upload-Metadata). */
  filename: string | undefined;
  /** The status it answered; undefined while it runs. */
  status: number | undefined;
  /** The upload URL path a POST created. */
  location: string | undefined;
  /** `Upload-Offset` of the answer (of a HEAD: where the upload stands there). */
  answeredOffset: number | undefined;
}

/** The other platform, its fixtures (users, tokens, organisation `lab`) and what it received. */
export interface RemotePlatform {
  remote: TestHost;
  f: ApiFixtures;
  server: ServerType;
  port: number;
  tus: TusRequest[];
  close(): Promise<void>;
}

/** Starts the other platform with draft datasets `names` (owned by `lab`, created by its editor). */
export async function startRemotePlatform(names: string[]): Promise<RemotePlatform> {
  const remote = await startTestHost('sqlite', { pluginNames: ['depot-fs', 'upload-tus'] });
  const f = await createApiFixtures(remote);
  for (const name of names) {
    const created = await remote.call('package_create', { name, owner_org: 'lab', state: 'draft' }, { token: f.tokens.editor });
    assert.equal(created.status, 200, JSON.stringify(created.body.error));
  }
  const tus: TusRequest[] = [];
  // The request goes through untouched (the upload reads the connection's own stream, and sees
  // it fail when the connection is cut); what each PATCH stored is told by the offsets.
  const fetch = async (request: Request, env: unknown): Promise<Response> => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith('/upload/tus')) return remote.app.fetch(request, env);
    const metadata = request.headers.get('upload-metadata') ?? '';
    const filename = /(?:^|,)filename ([^,]+)/.exec(metadata)?.[1];
    const record: TusRequest = { method: request.method, path: url.pathname, offset: request.headers.has('upload-offset') ? Number(request.headers.get('upload-offset')) : undefined, bytes: 0, filename: filename ? Buffer.from(filename, 'base64').toString() : undefined, status: undefined, location: undefined, answeredOffset: undefined };
    tus.push(record);
    const response = await remote.app.fetch(request, env);
    record.location = response.headers.get('location') ?? undefined;
    if (response.headers.has('upload-offset')) record.answeredOffset = Number(response.headers.get('upload-offset'));
    if (request.method === 'PATCH' && response.status === 204) record.bytes = record.answeredOffset! - record.offset!;
    record.status = response.status;
    return response;
  };
  const server = serve({ fetch: fetch as unknown as Parameters<typeof serve>[0]['fetch'], hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    remote, f, server, tus, port: (server.address() as AddressInfo).port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await remote.close();
    },
  };
}

/** A TCP proxy to a port that can stall its connections after some bytes towards the server, and cut them. */
export interface FaultyProxy {
  port: number;
  /** After `bytes` more bytes towards the server, forwards nothing more on that connection. Resolves when it stalled. */
  stallAfter(bytes: number): Promise<void>;
  /** Closes every open connection, both sides (a network failure). */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a loopback port in front of `targetPort`. */
export async function startFaultyProxy(targetPort: number): Promise<FaultyProxy> {
  let fault: { left: number; done: () => void } | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    let stalled = false;
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (fault && chunk.length >= fault.left) {
        const { left, done } = fault;
        fault = undefined;
        stalled = true;
        upstream.write(chunk.subarray(0, left), () => done());
        return;
      }
      if (fault) fault.left -= chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => void (stalled || client.write(chunk)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stallAfter: (bytes) => new Promise<void>((resolve) => (fault = { left: bytes, done: resolve })),
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A distribution host (worker started) whose destination `peer` uploads into dataset `inbox`
 * of the platform at `url` with `token` in a token file, and whose first rule sends every
 * file there by MIME type; `extra` adds to that destination and to the rules.
 */
export async function startDistributionToPeer(
  kind: 'sqlite' | 'postgres',
  options: { url: string; token: string; maxAttempts: number; destination?: Record<string, unknown>; rules?: object[] },
): Promise<DistributionHost> {
  const d = await startDistributionHost(kind, {
    rules: ({ dir }) => {
      mkdirSync(join(dir, 'secrets'), { recursive: true });
      writeFileSync(join(dir, 'secrets', 'token'), `${options.token}\n`);
      return {
        destinations: { peer: { kind: 'platform', url: options.url, dataset: 'inbox', token_file: 'secrets/token', ...options.destination } },
        rules: [{ label: 'peer', router: 'by-mime', base: 'peer', folder: '' }, ...(options.rules ?? [])],
      };
    },
    settings: { max_attempts: options.maxAttempts },
  });
  await d.t.host.startPlugins();
  await d.startWorker();
  return d;
}
