// depot-s3 on a real S3 server (Ceph's RADOS Gateway, started by the test runner): the depot
// contract, DCOR's key layout and one bucket per organisation, presigned URLs S3 itself
// accepts, and partial uploads that another process (another node) continues.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { runDepotContract } from '../../contracts/depot.js';
import { rgwEndpoint, rgwSkipReason } from '../../helpers/rgw.js';
import { S3Client } from '../../../plugins/depot-s3/s3-client.js';
import { S3Depot } from '../../../plugins/depot-s3/s3-depot.js';
import { staleMultipartCheck } from '../../../plugins/depot-s3/stale-multipart-check.js';

const rgw = rgwEndpoint();
const MiB = 1024 * 1024;
let prefixes = 0;

/** A depot on its own bucket prefix, so suites running at once never see each other's objects. */
function makeDepot(organisations: Record<string, string> = {}, partSize = 5 * MiB): S3Depot {
  if (!rgw) throw new Error('no gateway');
  const client = new S3Client({ endpoint: rgw.endpoint, region: rgw.region, credentials: { accessKey: rgw.accessKey, secretKey: rgw.secretKey } });
  const prefix = `t${process.pid}-${++prefixes}-${randomBytes(3).toString('hex')}-`;
  return new S3Depot(client, { bucketPrefix: prefix, partSize, concurrency: 2, organisationOf: async (id) => organisations[id] });
}

async function emptyDepot(depot: S3Depot): Promise<void> {
  for (const bucket of (await depot.client.listBuckets()).filter((b) => b.startsWith(depot.options.bucketPrefix))) {
    for await (const upload of depot.client.listMultipartUploads(bucket)) await depot.client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
    for await (const object of depot.client.listObjects(bucket)) await depot.client.deleteObject(bucket, object.key);
    await depot.client.deleteBucket(bucket);
  }
  await depot.client.close();
}

if (!rgw) {
  describe('depot-s3 on the RADOS Gateway', () => it('needs a RADOS Gateway', (t) => t.skip(rgwSkipReason())));
} else {
  runDepotContract({
    name: 's3 (RADOS Gateway)',
    make: async () => {
      const depot = makeDepot();
      return { depot, cleanup: () => emptyDepot(depot) };
    },
  });

  describe('depot-s3 on the RADOS Gateway', () => {
    const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

    it("keeps objects in DCOR's layout, in one private bucket per organisation", async () => {
      const rid = randomUUID();
      const depot = makeDepot({ [rid]: 'lab' });
      try {
        const stored = await depot.put(rid, Readable.from([Buffer.from('cells')]));
        assert.equal(stored.location, `${depot.options.bucketPrefix}lab/resource/${rid.slice(0, 3)}/${rid.slice(3, 6)}/${rid.slice(6)}`);
        // Private: an unsigned GET is refused by the gateway itself.
        const anonymous = await request(`${rgw.endpoint}/${stored.location}`);
        await anonymous.body.dump();
        assert.equal(anonymous.statusCode, 403);
      } finally {
        await emptyDepot(depot);
      }
    });

    it('writes objects larger than a part through a multipart upload, leaving no unfinished upload behind', async () => {
      const depot = makeDepot();
      try {
        const data = randomBytes(12 * MiB + 17);
        const pieces = [];
        for (let at = 0; at < data.length; at += 1_000_003) pieces.push(data.subarray(at, at + 1_000_003));
        const stored = await depot.put(randomUUID(), Readable.from(pieces), { size: data.length, sha256: sha(data) });
        assert.equal(stored.sha256, sha(data));
        await assert.rejects(depot.put(randomUUID(), Readable.from(pieces), { sha256: sha(Buffer.from('other')) }), /checksum mismatch/);
        const [bucket] = (await depot.client.listBuckets()).filter((b) => b.startsWith(depot.options.bucketPrefix));
        const unfinished = [];
        for await (const upload of depot.client.listMultipartUploads(bucket!)) unfinished.push(upload);
        assert.deepEqual(unfinished, []);
      } finally {
        await emptyDepot(depot);
      }
    });

    it('presigns GET URLs that the gateway honours until they expire, and no longer', async () => {
      const depot = makeDepot();
      try {
        const stored = await depot.put(randomUUID(), Readable.from([Buffer.from('public bytes')]));
        const url = depot.presignedUrl(stored.location, 60, { contentDisposition: 'attachment; filename="a.rtdc"' });
        const ok = await request(url);
        assert.equal(ok.statusCode, 200);
        assert.equal(await ok.body.text(), 'public bytes');
        assert.equal(ok.headers['content-disposition'], 'attachment; filename="a.rtdc"');
        const ranged = await request(url, { headers: { range: 'bytes=7-11' } });
        assert.equal(await ranged.body.text(), 'bytes');
        const tampered = await request(url.replace(/X-Amz-Expires=60/, 'X-Amz-Expires=600'));
        await tampered.body.dump();
        assert.equal(tampered.statusCode, 403);
        const short = depot.presignedUrl(stored.location, 1);
        await new Promise((r) => setTimeout(r, 2500));
        const expired = await request(short);
        await expired.body.dump();
        assert.equal(expired.statusCode, 403);
      } finally {
        await emptyDepot(depot);
      }
    });

    it('inspect finds multipart uploads left unfinished past the limit, and its repair aborts them', async () => {
      const depot = makeDepot();
      try {
        const bucket = await depot.bucketFor(randomUUID());
        const key = 'resource/abc/def/left-by-a-dead-node';
        const uploadId = await depot.client.createMultipartUpload(bucket, key);
        await depot.client.uploadPart(bucket, key, uploadId, 1, randomBytes(1000));
        assert.equal((await staleMultipartCheck(depot, 24).run({} as never))[0]?.severity, 'ok');
        const [finding] = await staleMultipartCheck(depot, 24, () => Date.now() + 25 * 3_600_000).run({} as never);
        assert.equal(finding?.severity, 'problem');
        assert.match(finding!.details!.join('\n'), /left-by-a-dead-node/);
        assert.match(await finding!.repair!.apply(), /aborted 1/);
        const left = [];
        for await (const upload of depot.client.listMultipartUploads(bucket)) left.push(upload);
        assert.deepEqual(left, []);
      } finally {
        await emptyDepot(depot);
      }
    });

    it('continues a partial upload from another process, across small and large appends, writing the final object directly', async () => {
      const first = makeDepot({}, 5 * MiB);
      // A second depot object over the same store: what another node sees.
      const second = new S3Depot(new S3Client({ endpoint: rgw.endpoint, region: rgw.region, credentials: { accessKey: rgw.accessKey, secretKey: rgw.secretKey } }), first.options);
      try {
        const data = randomBytes(13 * MiB + 5);
        const id = randomBytes(16).toString('hex');
        const rid = randomUUID();
        await first.partials.create(id, rid);
        let at = 0;
        // Appends under, at and over S3's 5 MiB part minimum, alternating between the nodes.
        for (const [i, length] of [100, 1 * MiB, 3 * MiB, 7, 6 * MiB, data.length - (100 + MiB + 3 * MiB + 7 + 6 * MiB)].entries()) {
          const node = i % 2 === 0 ? first : second;
          assert.equal(await node.partials.size(id), at);
          assert.equal(await node.partials.append(id, at, Readable.from([data.subarray(at, at + length)]), data.length - at), length);
          at += length;
        }
        // The bytes are parts of the final object's multipart upload (in the organisation's bucket), not objects of their own.
        const bucket = await first.bucketFor(rid);
        const writing = [];
        for await (const upload of first.client.listMultipartUploads(bucket)) writing.push(upload.key);
        assert.deepEqual(writing, [`resource/${rid.slice(0, 3)}/${rid.slice(3, 6)}/${rid.slice(6)}`]);
        await assert.rejects(second.partials.open(id, { start: 0, end: 10 }), /multipart/);
        // Live uploads are not stale, however old: only their expiry ends them.
        assert.equal((await staleMultipartCheck(first, 24, () => Date.now() + 25 * 3_600_000).run({} as never))[0]?.severity, 'ok');
        // Without a sha256 (no process saw every byte) the depot hashes the finished object.
        const stored = await second.partials.finish(id, rid, { size: data.length });
        assert.equal(stored.sha256, sha(data));
        assert.deepEqual(await readAll(await first.open(stored.location)), data);
        assert.equal(await first.partials.size(id), undefined);
        const left = [];
        for await (const entry of first.partials.list()) left.push(entry);
        assert.deepEqual(left, []);
        for await (const upload of first.client.listMultipartUploads(bucket)) assert.fail(`multipart upload ${upload.key} left behind`);
      } finally {
        await second.client.close();
        await emptyDepot(first);
      }
    });

    it('drops a chunk again (a failed checksum) after it was sent as parts, and aborts the multipart upload on delete', async () => {
      const depot = makeDepot({}, 5 * MiB);
      try {
        const data = randomBytes(12 * MiB);
        const id = randomBytes(16).toString('hex');
        const rid = randomUUID();
        await depot.partials.create(id, rid);
        assert.equal(await depot.partials.append(id, 0, Readable.from([data.subarray(0, 2 * MiB)]), data.length), 2 * MiB);
        assert.equal(await depot.partials.append(id, 2 * MiB, Readable.from([Buffer.alloc(7 * MiB)]), data.length), 7 * MiB);
        await depot.partials.truncate(id, 2 * MiB);
        assert.equal(await depot.partials.size(id), 2 * MiB);
        assert.equal(await depot.partials.append(id, 2 * MiB, Readable.from([data.subarray(2 * MiB)]), data.length - 2 * MiB), 10 * MiB);
        const stored = await depot.partials.finish(id, rid, { size: data.length, sha256: sha(data) });
        assert.deepEqual(await readAll(await depot.open(stored.location)), data);

        const other = randomBytes(16).toString('hex');
        const orid = randomUUID();
        await depot.partials.create(other, orid);
        await depot.partials.append(other, 0, Readable.from([randomBytes(6 * MiB)]), 6 * MiB);
        await depot.partials.delete(other);
        for await (const upload of depot.client.listMultipartUploads(await depot.bucketFor(orid))) assert.fail(`multipart upload ${upload.key} left behind`);
        assert.equal(await depot.partials.size(other), undefined);
      } finally {
        await emptyDepot(depot);
      }
    });
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
