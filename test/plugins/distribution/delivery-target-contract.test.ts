// The distribution plugin's destinations keep the delivery destination contract: a local
// folder, and WebDAV against a real nginx (Debian's nginx-light with its dav module), verified
// each way the WebDAV destination offers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderTarget } from '../../../plugins/distribution/local-folder-target.js';
import { WebDavTarget } from '../../../plugins/distribution/webdav-target.js';
import { runDeliveryTargetContract } from '../../contracts/delivery-target.js';
import { NginxWebDav } from './nginx-webdav.js';

runDeliveryTargetContract({
  name: 'local folder',
  async make() {
    const root = mkdtempSync(join(tmpdir(), 'folder-target-'));
    return { target: new LocalFolderTarget('folder', root), cleanup: async () => rmSync(root, { recursive: true, force: true }) };
  },
});

for (const verify of ['size', 'sha256', 'response'] as const) {
  runDeliveryTargetContract({
    name: `WebDAV on nginx (verify by ${verify})`,
    async make() {
      const nginx = await NginxWebDav.start();
      return { target: new WebDavTarget('webdav', { url: nginx.url, verify }), cleanup: () => nginx.close() };
    },
  });
}
