// A deliberately broken upload protocol, run by contract-failures.test.ts to show that the
// UploadProtocol contract catches it: it fails with a 500 (and a local path in the log) on a
// request without its header.
import { UploadProtocol, definePlugin } from '../../../core/api.js';
import { runUploadProtocolContract } from '../upload-protocol.js';
import { startTestHost } from '../../helpers/test-host.js';

const broken: UploadProtocol = {
  name: 'broken',
  mount(app) {
    app.post('/', (c) => {
      const length = c.req.header('upload-length');
      if (!length) throw new Error(`missing header; see ${process.cwd()}/broken.ts`);
      return c.text('ok', 201);
    });
    app.get('*', (c) => c.text('anything'));
  },
};

runUploadProtocolContract({
  name: 'broken',
  async make() {
    const t = await startTestHost('sqlite', { plugins: [definePlugin({ name: 'broken-upload', version: '1.0.0', register: (ctx) => ctx.contribute(UploadProtocol, broken) })] });
    return {
      protocol: broken,
      app: t.app,
      malformed: [{ path: '/upload/broken/', init: { method: 'POST' } }],
      cleanup: () => t.close(),
    };
  },
});
