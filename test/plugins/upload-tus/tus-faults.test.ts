// Faults during uploads against a real `platform serve` process: a client that disconnects
// mid-chunk keeps what arrived; a server killed with SIGKILL mid-upload and started again
// resumes the upload from its offset, and the stored file has the right sha256; clients that
// hang up at any point of a PATCH leave the server running.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { connect } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { PlatformClient } from '../../../core/client/platform-client.js';

const bin = fileURLToPath(new URL('../../../../bin/platform.js', import.meta.url));

function startServe(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--config', configFile, 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLATFORM__HTTP__PORT: '0' } });
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const match = /(http:\/\/[0-9.]+:\d+)/.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err.slice(-400)}`)));
  });
}

for (const kind of databaseKinds()) {
  describe(`tus upload faults with a real server (${kind})`, () => {
    let db: TestDatabase;
    let configFile: string;
    let token: string;
    let server: { child: ChildProcess; url: string };
    const data = randomBytes(3_000_000);
    const sha256 = createHash('sha256').update(data).digest('hex');

    before(async () => {
      db = await createTestDatabase(kind);
      configFile = writeTestConfig(db, ['depot-fs', 'upload-tus'], '[plugin:upload-tus]\nlock_seconds = 2\n');
      const password = join(db.dir, 'pw');
      writeFileSync(password, 'a-long-password\n');
      assert.equal((await runCli(['--config', configFile, 'user', 'add', 'alice', '--email', 'a@example.org', '--password-file', password])).status, 0);
      assert.equal((await runCli(['--config', configFile, 'org', 'add', 'lab'])).status, 0);
      assert.equal((await runCli(['--config', configFile, 'org', 'member-add', 'lab', 'alice', '--role', 'editor'])).status, 0);
      token = (await runCli(['--config', configFile, 'token', 'create', '--user', 'alice', '--name', 't'])).stdout.trim();
      writeFileSync(join(db.dir, 'data.bin'), data);
      server = await startServe(configFile);
    });
    after(async () => {
      server.child.kill('SIGKILL');
      await db.cleanup();
    });

    async function newUpload(name: string): Promise<{ client: PlatformClient; path: string }> {
      const client = new PlatformClient(server.url, token, undefined);
      await client.action('package_create', { name, owner_org: 'lab', state: 'draft' });
      return { client, path: await client.createUpload(data.length, { package_id: name, filename: 'data.bin' }) };
    }

    async function finish(client: PlatformClient, path: string, dataset: string): Promise<void> {
      const offset = (await client.offset(path))!;
      assert.ok(offset > 0 && offset < data.length, `offset ${offset}`);
      // A crashed server's lock lapses after its lease (2 s here): 423 until then.
      let done: number | undefined;
      for (let i = 0; i < 40 && done === undefined; i++) {
        done = await client.patch(path, join(db.dir, 'data.bin'), offset, data.length, () => undefined).catch((error: Error) => {
          if (!/being written by another request/.test(error.message)) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200));
        });
      }
      assert.equal(done, data.length);
      const shown = await client.action<{ resources: Array<{ sha256: string; size: number }> }>('package_show', { id: dataset });
      assert.equal(shown.resources[0]!.sha256, sha256);
      assert.equal(shown.resources[0]!.size, data.length);
    }

    /** Sends `first` bytes of a PATCH, then cuts the connection or lets `during` happen. */
    async function partialPatch(path: string, first: number, during: () => void | Promise<void>): Promise<void> {
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          controller.enqueue(data.subarray(0, first));
          await new Promise((resolve) => setTimeout(resolve, 300));
          await during();
          controller.error(new Error('cut'));
        },
      });
      await request(new URL(path, server.url), {
        method: 'PATCH',
        headers: { authorization: token, 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'content-length': String(data.length) },
        body: Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>),
      }).then((r) => r.body.dump(), () => undefined);
    }

    it('keeps what arrived when the client disconnects mid-chunk, and resumes', async () => {
      const { client, path } = await newUpload('disconnected');
      await partialPatch(path, 1_000_000, () => undefined);
      let offset = 0;
      for (let i = 0; i < 400 && offset === 0; i++) {
        offset = (await client.offset(path)) ?? 0;
        if (!offset) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(offset, 1_000_000);
      await finish(client, path, 'disconnected');
      await client.close();
    });

    it('survives clients that hang up right after a PATCH\'s headers, and the upload stays writable', async () => {
      const { client, path } = await newUpload('hung-up');
      const { hostname, port } = new URL(server.url);
      for (let i = 0; i < 5; i++) {
        const socket = connect(Number(port), hostname);
        await once(socket, 'connect');
        socket.end(`PATCH ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${token}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${data.length}\r\n\r\n`);
        socket.resume();
        await once(socket, 'close');
      }
      // Before the fix the hung-up PATCH kept renewing its lock (423 for ever) or the server
      // died of an unhandled 'aborted' error; the lease here is 2 s, so 8 s of retries is ample.
      let done: number | undefined;
      for (let i = 0; i < 40 && done === undefined; i++) {
        done = await client.patch(path, join(db.dir, 'data.bin'), 0, data.length, () => undefined).catch((error: Error) => {
          if (!/being written by another request/.test(error.message)) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200));
        });
      }
      assert.equal(done, data.length);
      assert.equal(server.child.exitCode, null, 'the server is still running');
      const shown = await client.action<{ resources: Array<{ sha256: string }> }>('package_show', { id: 'hung-up' });
      assert.equal(shown.resources[0]!.sha256, sha256);
      await client.close();
    });

    it('survives clients that hang up mid-body while the PATCH is still setting up its write', async () => {
      // A PATCH cut after some of its body, at a spread of points and moments: some of the cuts
      // land while the depot is still preparing the write (not yet reading the body). Before the
      // fix the failure reached the hashing stream in that gap with no listener: an uncaught
      // 'aborted' that ended the process.
      const client = new PlatformClient(server.url, token, undefined);
      await client.action('package_create', { name: 'cut-often', owner_org: 'lab', state: 'draft' });
      const { hostname, port } = new URL(server.url);
      let n = 0;
      for (const cut of [1, 4_000, 65_000, 140_000]) {
        for (const wait of [0, 1, 5, 20]) {
          const path = await client.createUpload(data.length, { package_id: 'cut-often', filename: `cut-${n++}.bin` });
          const socket = connect(Number(port), hostname);
          socket.on('error', () => undefined);
          await once(socket, 'connect');
          socket.write(`PATCH ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${token}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: ${data.length}\r\n\r\n`);
          socket.write(data.subarray(0, cut));
          await new Promise((resolve) => setTimeout(resolve, wait));
          socket.destroy();
          await new Promise((resolve) => setTimeout(resolve, 30));
          assert.equal(server.child.exitCode, null, `the server is still running after a PATCH cut after ${cut} bytes`);
        }
      }
      // It still answers: a whole upload goes through.
      const path = await client.createUpload(data.length, { package_id: 'cut-often', filename: 'whole.bin' });
      let done: number | undefined;
      for (let i = 0; i < 40 && done === undefined; i++) {
        done = await client.patch(path, join(db.dir, 'data.bin'), (await client.offset(path))!, data.length, () => undefined).catch((error: Error) => {
          if (!/being written by another request/.test(error.message)) throw error;
          return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200));
        });
      }
      assert.equal(done, data.length);
      assert.equal(server.child.exitCode, null, 'the server is still running');
      await client.close();
    });

    it('resumes after the server is killed with SIGKILL mid-upload and restarted', async () => {
      const { client, path } = await newUpload('killed');
      await partialPatch(path, 1_500_000, () => {
        server.child.kill('SIGKILL');
      });
      if (server.child.exitCode === null && server.child.signalCode === null) await new Promise((resolve) => server.child.once('exit', resolve));
      await client.close();
      server = await startServe(configFile);
      const again = new PlatformClient(server.url, token, undefined);
      await finish(again, path, 'killed');
      await again.close();
    });
  });
}
