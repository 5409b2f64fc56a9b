// upload-tus keeps the UploadProtocol contract, with files sent by the real tus-js-client
// (the reference client of tus 1.0) over a socket, on SQLite and PostgreSQL.
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import * as tus from 'tus-js-client';
import { HookRegistriesId } from '../../../core/services/service-ids.js';
import { runUploadProtocolContract } from '../../contracts/upload-protocol.js';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost } from '../../helpers/test-host.js';
import { createApiFixtures } from '../../helpers/api-fixtures.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';

for (const kind of databaseKinds()) {
  runUploadProtocolContract({
    name: `upload-tus (${kind})`,
    async make() {
      const t = await startTestHost(kind, { plugins: [memoryDepotPlugin(new MemoryDepot())], pluginNames: ['upload-tus'], extraConfig: '[upload]\nmax_size = 10000000\n' });
      const fixtures = await createApiFixtures(t);
      const token = fixtures.tokens.editor;
      const created = await t.call('package_create', { name: 'tus-contract', owner_org: 'lab', state: 'draft' }, { token });
      if (created.status !== 200) throw new Error(JSON.stringify(created.body));
      const server: ServerType = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const protocol = t.host.services.get(HookRegistriesId).uploadProtocols.get('tus');
      if (!protocol) throw new Error('upload-tus did not contribute its protocol');
      const b64 = (s: string): string => Buffer.from(s).toString('base64');
      return {
        protocol,
        app: t.app,
        dataset: { id: 'tus-contract', authorization: token },
        malformed: <Array<{ path: string; init: RequestInit }>>[
          { path: '/upload/tus/', init: { method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': '-5', 'upload-metadata': `package_id ${b64('tus-contract')},filename ${b64('a.bin')}` } } },
          { path: '/upload/tus/', init: { method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': '10', 'upload-metadata': 'package_id !!!,filename' } } },
          { path: '/upload/tus/', init: { method: 'POST', headers: { authorization: token, 'upload-length': '10' } } },
          { path: '/upload/tus/0123456789abcdef0123456789abcdef', init: { method: 'PATCH', headers: { authorization: token, 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: 'x' } },
        ],
        upload: (file, authorised) =>
          new Promise<void>((resolve, reject) => {
            const upload = new tus.Upload(file.bytes, {
              endpoint: `${base}/upload/tus/`,
              chunkSize: 100_000,
              headers: authorised ? { Authorization: token } : {},
              metadata: { package_id: 'tus-contract', filename: file.name },
              retryDelays: [],
              onError: reject,
              onSuccess: () => resolve(),
            });
            upload.start();
          }),
        async cleanup() {
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await t.close();
        },
      };
    },
  });
}
