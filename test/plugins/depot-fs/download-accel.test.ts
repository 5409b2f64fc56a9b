// Downloads handed to nginx: with [http] x_accel_redirect set, a real nginx in front of the
// platform (its download locations as nginx/platform.conf ships them) sends depot-fs files
// itself with sendfile after the platform has checked access and written the audit event;
// whole files, ranges, our ETag, private datasets refused. Without the proxy's marker header
// the platform streams the file as before, so a direct request never gets an empty body.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ApiTokenServiceId, AuditLogId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';

const hasNginx = spawnSync('nginx', ['-v']).status === 0;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('downloads through nginx with X-Accel-Redirect', { skip: !hasNginx && 'nginx is not installed' }, () => {
  let t: TestHost;
  let server: ServerType;
  let nginx: ChildProcess;
  let nginxDir: string;
  let front: string;
  let direct: string;
  let token: string;
  const data = randomBytes(3_000_000);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const paths: Record<'public' | 'private', string> = { public: '', private: '' };

  before(async () => {
    t = await startTestHost('sqlite', { pluginNames: ['depot-fs'], extraConfig: '[http]\nx_accel_redirect = /_depot/\n' });
    const user = await t.host.services.get(UserServiceId).create({ name: 'editor', email: 'e@example.org' });
    const orgs = t.host.services.get(OrganizationServiceId);
    const org = await orgs.create({ name: 'lab' });
    await orgs.setMember(org.id, user.id, 'editor');
    token = (await t.host.services.get(ApiTokenServiceId).create(user, 'test')).token;
    for (const kind of ['public', 'private'] as const) {
      assert.equal((await t.call('package_create', { name: `${kind}-data`, owner_org: 'lab', private: kind === 'private' }, { token })).status, 200);
      const created = await t.call('resource_create', { package_id: `${kind}-data`, name: 'cells.rtdc' }, { token });
      const id = (created.body.result as { id: string }).id;
      await t.host.services.get(ResourceIntakeId).storeStream(id, Readable.from([data]), { sha256 }, { actor: { kind: 'system', name: 'test' }, protocol: 'test' });
      paths[kind] = `/dataset/${kind}-data/resource/${id}/download/cells.rtdc`;
    }
    server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    direct = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    nginxDir = mkdtempSync(join(tmpdir(), 'accel-nginx-'));
    for (const sub of ['tmp', 'logs']) mkdirSync(join(nginxDir, sub));
    const port = await freePort();
    const depotRoot = realpathSync(join(t.db.dir, 'data', 'depot'));
    // Started as root, nginx's workers would become nobody, who may not read depot-fs's 0640 files.
    const runAs = process.getuid?.() === 0 ? 'user root;' : '';
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `${k}_temp_path ${join(nginxDir, 'tmp', k)};`).join('\n  ');
    writeFileSync(join(nginxDir, 'nginx.conf'), `${runAs}
worker_processes 1;
pid ${join(nginxDir, 'nginx.pid')};
error_log ${join(nginxDir, 'logs', 'error.log')};
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  ${temp}
  server {
    listen 127.0.0.1:${port};
    location /dataset/ {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Sendfile-Type X-Accel-Redirect;
      proxy_max_temp_file_size 0;
      proxy_pass ${direct};
    }
    location /_depot/ {
      internal;
      alias ${depotRoot}/;
      etag off;
      add_header ETag $upstream_http_etag;
    }
  }
}
`);
    nginx = spawn('nginx', ['-c', join(nginxDir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
    front = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if (await fetch(`${front}/`).then(() => true, () => false)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  after(async () => {
    nginx?.kill('SIGQUIT');
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.close();
    if (nginxDir) rmSync(nginxDir, { recursive: true, force: true });
  });

  it('has nginx send the whole file with our ETag, after the platform wrote the audit event', async () => {
    const audit = t.host.services.get(AuditLogId);
    const before = (await audit.list({ action: 'resource.download' })).length;
    const response = await fetch(`${front}${paths.public}`);
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), data);
    assert.equal(response.headers.get('etag'), `"${sha256}"`);
    assert.match(response.headers.get('content-disposition') ?? '', /cells\.rtdc/);
    assert.equal(response.headers.get('x-accel-redirect'), null, 'nginx does not pass the internal path on');
    // An answer streamed through nginx would carry the platform's X-Request-Id; nginx drops
    // the upstream's headers (but a few) when it follows X-Accel-Redirect.
    assert.equal(response.headers.get('x-request-id'), null, 'nginx sent the file itself');
    assert.equal((await audit.list({ action: 'resource.download' })).length, before + 1);
  });

  it('has nginx answer a range', async () => {
    const response = await fetch(`${front}${paths.public}`, { headers: { range: 'bytes=1000-1999' } });
    assert.equal(response.status, 206);
    assert.equal(response.headers.get('content-range'), `bytes 1000-1999/${data.length}`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), data.subarray(1000, 2000));
  });

  it('still checks access: a private dataset needs a token', async () => {
    assert.equal((await fetch(`${front}${paths.private}`)).status, 404);
    const allowed = await fetch(`${front}${paths.private}`, { headers: { authorization: token } });
    assert.equal(allowed.status, 200);
    assert.deepEqual(Buffer.from(await allowed.arrayBuffer()), data);
  });

  it('streams the file itself to a request that did not come through nginx', async () => {
    const plain = await fetch(`${direct}${paths.public}`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get('x-accel-redirect'), null);
    assert.ok(plain.headers.get('x-request-id'), 'the platform answered');
    assert.deepEqual(Buffer.from(await plain.arrayBuffer()), data);
    const marked = await fetch(`${direct}${paths.public}`, { headers: { 'x-sendfile-type': 'X-Accel-Redirect' } });
    assert.equal(marked.status, 200);
    assert.match(marked.headers.get('x-accel-redirect') ?? '', /^\/_depot\/resources\/[0-9a-f]{3}\/[0-9a-f-]{3}\/[0-9a-f-]+$/);
    assert.equal((await marked.arrayBuffer()).byteLength, 0);
  });
});
