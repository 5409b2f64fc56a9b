// Resuming an interrupted upload to another platform instance (two real hosts, a TCP proxy
// between them): a connection cut mid-upload, and a crash mid-upload (the job aborted with the
// file left `sending`), are resumed by the next attempt from the offset the other platform
// reports, sending only the rest, with the sha256 verified; an upload removed there in the
// meantime is started again.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import type { DistributionHost } from './distribution-fixture.js';
import { startDistributionToPeer, startFaultyProxy, startRemotePlatform, type FaultyProxy, type RemotePlatform, type TusRequest } from './remote-platform.js';
import { makePdf } from './test-pdf.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const CHUNK = 64 * 1024;

for (const kind of databaseKinds()) {
  describe(`resuming an interrupted upload to another platform (${kind})`, () => {
    let peer: RemotePlatform;
    let proxy: FaultyProxy;
    let d: DistributionHost;

    before(async () => {
      peer = await startRemotePlatform(['inbox']);
      proxy = await startFaultyProxy(peer.port);
      d = await startDistributionToPeer(kind, { url: `http://127.0.0.1:${proxy.port}/`, token: peer.f.tokens.editor, maxAttempts: 4, destination: { chunk_bytes: CHUNK } });
    });
    after(async () => {
      await d?.close();
      await proxy?.close();
      await peer?.close();
    });

    /** The tus requests of one file's uploads: its POSTs, and the HEADs and PATCHes of the uploads they created. */
    const requestsOf = (name: string): TusRequest[] => {
      const posts = peer.tus.filter((r) => r.method === 'POST' && r.filename === name);
      const uploads = new Set(posts.map((r) => r.location));
      return peer.tus.filter((r) => posts.includes(r) || uploads.has(r.path));
    };
    const remoteSha = async (name: string): Promise<string | undefined> => {
      const shown = (await peer.remote.call('package_show', { id: 'inbox' }, { token: peer.f.tokens.editor, method: 'GET' })).body.result as { resources: Array<{ name: string; sha256?: string }> };
      return shown.resources.find((r) => r.name === name)?.sha256;
    };
    const waitUntil = async (done: () => boolean | Promise<boolean>, what: string): Promise<void> => {
      for (let i = 0; i < 2000 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(await done(), `timed out waiting until ${what}`);
    };
    /** Where an upload stands at the other platform (its HEAD), or undefined when it is gone. */
    const headOffset = async (path: string): Promise<number | undefined> => {
      const head = await peer.remote.app.request(path, { method: 'HEAD', headers: { authorization: peer.f.tokens.editor, 'tus-resumable': '1.0.0' } });
      return head.status === 200 ? Number(head.headers.get('upload-offset')) : undefined;
    };
    /** A "crash": the worker stops with the upload stalled mid-PATCH; the attempt is abandoned with the file `sending`. */
    const crashMidUpload = async (name: string, bytes: Buffer, after: number): Promise<void> => {
      const stalled = proxy.stallAfter(after);
      writeFileSync(join(d.drop, name), bytes);
      await stalled;
      const underWay = peer.tus[peer.tus.length - 1]!;
      await waitUntil(async () => ((await headOffset(underWay.path)) ?? 0) > underWay.offset!, 'the other platform is writing the part under way');
      await d.worker!.stop(50);
      d.worker = undefined;
      // The other platform has seen the connection go and dropped the unfinished part of that PATCH.
      await waitUntil(() => requestsOf(name).every((r) => r.status !== undefined), 'the other platform finished the cut PATCH');
      const file = await d.file(name);
      assert.equal(file?.state, 'sending', 'left sending, as after a crash');
      const point = await d.store.transfer(file!.id);
      assert.ok(point && point.offset > 0 && point.offset % CHUNK === 0, `the upload URL and the last acknowledged offset are recorded: ${JSON.stringify(point)}`);
    };

    it('resumes an upload whose connection was cut, sending only the rest', async () => {
      const bytes = makePdf(['RESUME1 result'], 400_000);
      // The connection stalls inside a part; once the other platform is writing that part, it is cut.
      const stalled = proxy.stallAfter(230_000);
      writeFileSync(join(d.drop, 'RESUME1_result.pdf'), bytes);
      await stalled;
      const broken = peer.tus[peer.tus.length - 1]!;
      assert.equal(broken.method, 'PATCH');
      await waitUntil(async () => ((await headOffset(broken.path)) ?? 0) > broken.offset!, 'the other platform is writing the part under way');
      proxy.cut();
      const file = await d.waitForState('RESUME1_result.pdf', 'archived', 30_000);
      assert.equal(await remoteSha('RESUME1_result.pdf'), sha(bytes));

      const requests = requestsOf('RESUME1_result.pdf');
      assert.equal(requests.filter((r) => r.method === 'POST').length, 1, 'one upload, never started again');
      const head = requests.slice(requests.indexOf(broken) + 1).find((r) => r.method === 'HEAD')!;
      assert.equal(head.status, 200, 'the retry asked the other platform how far the upload got');
      const committed = head.answeredOffset!;
      assert.ok(committed >= broken.offset! && committed > 0, `the parts before the cut stayed there: ${committed}`);
      const rest = requests.slice(requests.indexOf(head) + 1).filter((r) => r.method === 'PATCH');
      assert.equal(rest[0]!.offset, committed, 'the retry continued from the offset the other platform held');
      assert.equal(rest.reduce((n, r) => n + r.bytes, 0), bytes.length - committed, 'the retry sent only the remainder');
      assert.ok(rest.every((r) => r.status === 204));

      const events = await d.store.events({ fileIds: [file.id] });
      assert.match(events.find((e) => e.kind === 'failed')!.detail!, /destination "peer" \(http:\/\/127\.0\.0\.1:\d+\): PATCH \/upload\/tus\/\S+ failed/);
      assert.match(events.find((e) => e.kind === 'sent')!.detail!, new RegExp(`verified size ${bytes.length} and sha256; resumed from byte ${committed} of an upload an earlier attempt left unfinished`));
      assert.equal(await d.store.transfer(file.id), undefined, 'the finished upload is forgotten');
    });

    it('resumes an upload cut off by a crash instead of failing on the name it holds there', async () => {
      const bytes = makePdf(['CRASH1 result'], 300_000);
      await crashMidUpload('CRASH1_result.pdf', bytes, 150_000);
      const before = requestsOf('CRASH1_result.pdf').length;
      await d.startWorker();
      const file = await d.waitForState('CRASH1_result.pdf', 'archived', 30_000);
      assert.equal(await remoteSha('CRASH1_result.pdf'), sha(bytes));
      const requests = requestsOf('CRASH1_result.pdf');
      assert.equal(requests.filter((r) => r.method === 'POST').length, 1, 'no second upload, so no 409 for the name');
      const after = requests.slice(before);
      const head = after.find((r) => r.method === 'HEAD')!;
      assert.equal(head.status, 200);
      assert.ok(head.answeredOffset! > 0, 'the other platform held the first part');
      const rest = after.filter((r) => r.method === 'PATCH');
      assert.equal(rest[0]!.offset, head.answeredOffset, 'continued from the offset the other platform reported');
      assert.equal(rest.reduce((n, r) => n + r.bytes, 0), bytes.length - head.answeredOffset!, 'after the crash only the remainder was sent');
      assert.match((await d.store.events({ fileIds: [file.id], kind: 'sent' }))[0]!.detail!, new RegExp(`resumed from byte ${head.answeredOffset}`));
      assert.ok(!(await d.store.events({ fileIds: [file.id] })).some((e) => e.kind === 'failed'));
    });

    it('starts again when the unfinished upload is gone at the other platform', async () => {
      const bytes = makePdf(['GONE1 result'], 300_000);
      await crashMidUpload('GONE1_result.pdf', bytes, 150_000);
      const point = (await d.store.transfer((await d.file('GONE1_result.pdf'))!.id))!;
      // Removed there (as its expiry job or a user would): the HEAD of the next attempt answers 404.
      const removed = await peer.remote.app.request(new URL(point.url).pathname, { method: 'DELETE', headers: { authorization: peer.f.tokens.editor, 'tus-resumable': '1.0.0' } });
      assert.equal(removed.status, 204);
      const before = requestsOf('GONE1_result.pdf').length;
      await d.startWorker();
      await d.waitForState('GONE1_result.pdf', 'archived', 30_000);
      assert.equal(await remoteSha('GONE1_result.pdf'), sha(bytes));
      const after = requestsOf('GONE1_result.pdf').slice(before);
      assert.ok(after.some((r) => r.method === 'HEAD' && r.path === new URL(point.url).pathname && r.status === 404), 'the old upload was asked for first');
      const posts = after.filter((r) => r.method === 'POST');
      assert.equal(posts.length, 1, 'a new upload');
      const fresh = after.filter((r) => r.method === 'PATCH' && r.path !== new URL(point.url).pathname);
      assert.equal(fresh[0]!.offset, 0);
      assert.equal(fresh.reduce((n, r) => n + r.bytes, 0), bytes.length);
    });
  });
}
