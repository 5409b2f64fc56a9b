// The server's time limits: by default a request may last as long as its bytes keep flowing
// (Node's own default would cut any request after 300 s with an empty 408, a large tus PATCH
// on a slow link included), while a connection on which nothing moves is closed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { startHttpServer } from '../../../core/http/http-server.js';
import { PlatformConfigId } from '../../../core/services/service-ids.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with everything the server sent once it closes the connection (or `afterMs` passes). */
function collect(socket: Socket, afterMs: number): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closedByServer: false });
    }, afterMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedByServer: true });
    });
  });
}

for (const kind of databaseKinds()) {
  describe(`HTTP server time limits (${kind})`, () => {
    let t: TestHost;
    let server: Server;
    let port: number;

    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[http]\nidle_timeout_seconds = 1\n' });
      const http = t.host.services.get(PlatformConfigId).section<{ request_timeout_seconds: number; idle_timeout_seconds: number; headers_timeout_seconds: number }>('http');
      ({ server, port } = await startHttpServer(t.app.fetch, '127.0.0.1', 0, { requestTimeoutSeconds: http.request_timeout_seconds, idleTimeoutSeconds: http.idle_timeout_seconds, headersTimeoutSeconds: http.headers_timeout_seconds }));
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
    });

    it('sets no limit on a whole request by default (Node would cut at 300 s)', () => {
      assert.equal(server.requestTimeout, 0);
    });

    it('keeps a slow request whose bytes keep flowing for longer than the idle limit', async () => {
      const body = `{${' '.repeat(10)}}`;
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const answer = collect(socket, 60_000);
      socket.write(`POST /api/3/action/status_show HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      // One byte every 0.3 s: 3.6 s in all, over three times the idle limit, never idle for one.
      for (const char of body) {
        socket.write(char);
        await sleep(300);
      }
      const { text } = await answer;
      assert.match(text, /^HTTP\/1\.1 200 /, text.slice(0, 200));
    });

    it('closes a connection on which nothing moves', async () => {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const answer = collect(socket, 60_000);
      socket.write('POST /api/3/action/status_show HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      const { closedByServer } = await answer;
      assert.equal(closedByServer, true, 'an idle connection must not be held open for ever');
    });
  });
}
