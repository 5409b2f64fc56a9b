// The contract every UploadProtocol must keep, run by each upload plugin's tests (a third-party
// plugin imports runUploadProtocolContract from the package's `testing` entry). It assumes only
// what the UploadProtocol interface and DESIGN.md promise: a name that is a path segment, routes
// that stay under `/upload/<name>/`, a precise 4xx (never a 5xx, never a stack trace or a local
// path) for any request it cannot use, whoever sends it; and, for protocols that carry files,
// that a finished file reaches core's resource intake with the size and sha256 of the bytes
// sent, while an attempt without credentials leaves the dataset as it was.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { UploadProtocol } from '../../core/api.js';

/** Something that answers requests as the host's app does (`app.request` of hono). */
export interface RequestHandler {
  request(path: string, init?: RequestInit): Response | Promise<Response>;
}

/** A file to send through the protocol. */
export interface UploadedFile {
  name: string;
  bytes: Buffer;
}

/** What a protocol's test hands the contract: the protocol, mounted in a running host. */
export interface UploadProtocolContractSubject {
  /** The protocol as contributed (its `mount` is called again on a scratch app to list its routes). */
  protocol: UploadProtocol;
  /** The host's app, with the protocol mounted under `/upload/<name>/`. */
  app: RequestHandler;
  /** Requests the protocol must refuse with a 4xx (malformed for it, in ways its clients could send). */
  malformed: Array<{ path: string; init: RequestInit }>;
  /**
   * For protocols that carry files: sends a whole file into the dataset the way the protocol's
   * real clients do, with credentials (`authorised`) or without; rejects when the protocol refuses.
   */
  upload?(file: UploadedFile, authorised: boolean): Promise<void>;
  /** The dataset `upload` sends into, and an `Authorization` value that may read it (through `package_show`). */
  dataset?: { id: string; authorization: string };
  cleanup?(): Promise<void>;
}

/** How a protocol's test suite hands the contract its subject. */
export interface UploadProtocolContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<UploadProtocolContractSubject>;
}

interface ListedResource {
  name: string;
  size: number;
  sha256: string;
  state: string;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What an answer must never show a client: a stack frame or a path of the server's filesystem. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/(?:tmp|home|usr|var|work|root)\//;

/** Registers the contract suite (a node:test `describe`) for one upload protocol. */
export function runUploadProtocolContract(options: UploadProtocolContractOptions): void {
  describe(`UploadProtocol contract: ${options.name}`, () => {
    let subject: UploadProtocolContractSubject;
    before(async () => (subject = await options.make()));
    after(async () => subject?.cleanup?.());

    /** The routes the protocol adds, as hono lists them, relative to its mount point. */
    const routes = (): Array<{ method: string; path: string }> => {
      const scratch = new Hono();
      subject.protocol.mount(scratch as unknown as Parameters<UploadProtocol['mount']>[0]);
      return scratch.routes.map((route) => ({ method: route.method, path: route.path }));
    };

    async function resources(): Promise<ListedResource[]> {
      const dataset = subject.dataset;
      assert.ok(dataset, 'a protocol with `upload` names the dataset it sends into');
      const response = await subject.app.request(`/api/3/action/package_show?id=${encodeURIComponent(dataset.id)}`, { headers: { authorization: dataset.authorization } });
      assert.equal(response.status, 200, 'package_show of the upload dataset');
      return ((await response.json()) as { result: { resources: ListedResource[] } }).result.resources;
    }

    async function assertRefusedCleanly(path: string, init: RequestInit, what: string): Promise<void> {
      const response = await subject.app.request(path, init);
      const body = init.method === 'HEAD' ? '' : await response.text();
      assert.ok(response.status < 500, `${what}: answered ${response.status} (a 5xx means the protocol failed on input it should refuse): ${body.slice(0, 300)}`);
      assert.doesNotMatch(body, LEAK, `${what}: the answer shows server internals`);
    }

    it('has a name that is one path segment', () => {
      assert.match(subject.protocol.name, /^[a-z0-9][a-z0-9._-]*$/);
    });

    it('adds routes, each relative to its own mount point, and the same ones every time', () => {
      const first = routes();
      assert.ok(first.length > 0, 'mount adds at least one route');
      for (const route of first) assert.ok(route.path.startsWith('/'), `route ${route.path} is relative to /upload/${subject.protocol.name}`);
      assert.deepEqual(routes(), first, 'mounting twice adds the same routes (no state left over from the first mount)');
    });

    it('refuses each malformed request with a 4xx that shows no internals', async () => {
      assert.ok(subject.malformed.length > 0, 'the subject names at least one malformed request');
      for (const { path, init } of subject.malformed) {
        const response = await subject.app.request(path, init);
        const body = await response.text();
        assert.ok(response.status >= 400 && response.status < 500, `${init.method ?? 'GET'} ${path}: expected a 4xx, got ${response.status}: ${body.slice(0, 300)}`);
        assert.doesNotMatch(body, LEAK, `${init.method ?? 'GET'} ${path}: the answer shows server internals`);
      }
    });

    it('answers junk sent to any of its routes, by any method and without credentials, without a 5xx', async () => {
      const junk = randomBytes(64);
      const paths = new Set(routes().map((route) => `/upload/${subject.protocol.name}${route.path.replace(/:[^/]+/g, 'f00d').replace(/\*/g, 'x')}`));
      for (const path of paths) {
        for (const method of METHODS) {
          const withBody = !['GET', 'HEAD', 'OPTIONS'].includes(method);
          await assertRefusedCleanly(path, { method, ...(withBody ? { body: junk } : {}) }, `${method} ${path} (no headers)`);
          await assertRefusedCleanly(path, { method, headers: { 'content-type': 'application/x-www-form-urlencoded', 'tus-resumable': 'garbage', 'upload-offset': '-1', 'upload-length': 'x' }, ...(withBody ? { body: junk } : {}) }, `${method} ${path}`);
          await assertRefusedCleanly(path, { method, headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/json' }, ...(withBody ? { body: '{"truncated": ' } : {}) }, `${method} ${path} (bad credentials)`);
        }
      }
    });

    it('hands a finished file to resource intake with the size and sha256 of the bytes sent', async (t) => {
      if (!subject.upload) return t.skip('this protocol carries records, not files');
      const bytes = randomBytes(300_001);
      const name = `contract-${randomBytes(4).toString('hex')}.bin`;
      await subject.upload({ name, bytes }, true);
      const stored = (await resources()).filter((resource) => resource.name === name);
      assert.equal(stored.length, 1, 'exactly one resource for one finished file');
      assert.equal(stored[0]!.size, bytes.length);
      assert.equal(stored[0]!.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.ok(['validating', 'active', 'invalid'].includes(stored[0]!.state), `stored and handed to inspection, not ${stored[0]!.state}`);
    });

    it('stores an empty file as an empty resource', async (t) => {
      if (!subject.upload) return t.skip('this protocol carries records, not files');
      const name = `contract-empty-${randomBytes(4).toString('hex')}.bin`;
      await subject.upload({ name, bytes: Buffer.alloc(0) }, true);
      const stored = (await resources()).find((resource) => resource.name === name);
      assert.equal(stored?.size, 0);
      assert.equal(stored?.sha256, createHash('sha256').update(Buffer.alloc(0)).digest('hex'));
    });

    it('stores nothing for an upload without credentials', async (t) => {
      if (!subject.upload) return t.skip('this protocol carries records, not files');
      const before = await resources();
      const name = `contract-anonymous-${randomBytes(4).toString('hex')}.bin`;
      await assert.rejects(subject.upload({ name, bytes: randomBytes(1000) }, false), 'an upload without credentials is refused');
      assert.deepEqual((await resources()).map((resource) => resource.name).sort(), before.map((resource) => resource.name).sort());
    });
  });
}
