// upload-camcops keeps the UploadProtocol contract: records, not files, so the contract checks
// its routes and its refusals (CamCOPS answers a request it cannot parse with 400, a wrong
// method with 405; camcops_server/cc_modules/client_api.py), on SQLite and PostgreSQL.
import { HookRegistriesId } from '../../../core/services/service-ids.js';
import { runUploadProtocolContract } from '../../contracts/upload-protocol.js';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startCamcopsWorld } from './camcops-test-setup.js';

const form = (fields: Record<string, string>): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

for (const kind of databaseKinds()) {
  runUploadProtocolContract({
    name: `upload-camcops (${kind})`,
    async make() {
      const world = await startCamcopsWorld(kind);
      const protocol = world.t.host.services.get(HookRegistriesId).uploadProtocols.get('camcops');
      if (!protocol) throw new Error('upload-camcops did not contribute its protocol');
      return {
        protocol,
        app: world.t.app,
        malformed: [
          { path: '/upload/camcops/api', init: form({}) },
          { path: '/upload/camcops/api', init: form({ operation: 'check_device_registered', camcops_version: '2.4.0' }) },
          { path: '/upload/camcops/database', init: { method: 'GET' } },
          { path: '/upload/camcops/api', init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%%%=%%%' } },
        ],
        cleanup: () => world.t.close(),
      };
    },
  });
}
