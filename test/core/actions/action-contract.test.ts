// Every action shipped here keeps the action contract (errors through the catalogue, writes
// refuse GET and anonymous callers, permissions before input): core's and schema-json's,
// upload-tus's and anonymiser-crate's on one host, upload-camcops's and distribution's on hosts
// set up as their own suites set them up; on SQLite and PostgreSQL.
import { ApiTokenServiceId, HookRegistriesId, UserServiceId } from '../../../core/services/service-ids.js';
import type { TestHost } from '../../helpers/test-host.js';
import { startTestHost } from '../../helpers/test-host.js';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runActionContract, type ActionContractSubject } from '../../contracts/actions.js';
import { startCamcopsWorld } from '../../plugins/upload-camcops/camcops-test-setup.js';
import { startDistributionHost } from '../../plugins/distribution/distribution-fixture.js';

/** The subject for the actions of `plugins` (core's when it names `core`) on a started host. */
async function subjectOf(t: TestHost, plugins: string[], close: () => Promise<void>): Promise<ActionContractSubject> {
  const outsider = await t.host.services.get(UserServiceId).create({ name: 'contract-outsider', email: 'contract-outsider@example.org' });
  const token = (await t.host.services.get(ApiTokenServiceId).create(outsider, 'contract')).token;
  const actions = t.host.services.get(HookRegistriesId).actions.contributions().filter((c) => plugins.includes(c.plugin)).map((c) => c.value);
  return { app: t.app, actions, outsider: token, cleanup: close };
}

for (const kind of databaseKinds()) {
  runActionContract({
    name: `core, schema-json, upload-tus, anonymiser-crate (${kind})`,
    async make() {
      const t = await startTestHost(kind, { pluginNames: ['depot-fs', 'schema-json', 'upload-tus', 'anonymiser-crate'] });
      return {
        ...(await subjectOf(t, ['core', 'schema-json', 'upload-tus', 'anonymiser-crate'], () => t.close())),
        // None: access is checked before the input is read (an anonymous writer gets 403 whatever the id).
        knownExistenceLeaks: [],
      };
    },
  });

  runActionContract({
    name: `upload-camcops (${kind})`,
    async make() {
      const world = await startCamcopsWorld(kind);
      return subjectOf(world.t, ['upload-camcops'], () => world.t.close());
    },
  });

  runActionContract({
    name: `distribution (${kind})`,
    async make() {
      const d = await startDistributionHost(kind, { rules: () => ({ destinations: { web: { kind: 'folder', path: 'served' } }, rules: [{ label: 'all', router: 'by-mime', base: 'web', folder: 'out' }] }) });
      return subjectOf(d.t, ['distribution'], () => d.close());
    },
  });
}
