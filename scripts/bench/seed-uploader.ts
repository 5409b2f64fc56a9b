// The uploader the upload benchmarks share: a user `bench`, editor of organisation `lab`, with
// an API token, and the draft datasets each run uploads into, made through a short-lived host.
import { PlatformHost } from '../../core/host/platform-host.js';
import { ActionRunnerId, ApiTokenServiceId, OrganizationServiceId, UserServiceId } from '../../core/services/service-ids.js';

/** Creates the uploader and the draft datasets `names` in the installation; @returns the token. */
export async function seedUploader(configFile: string, names: readonly string[]): Promise<string> {
  const host = await PlatformHost.start({ configFile, env: {}, logLevel: 'warn' });
  try {
    const user = await host.services.get(UserServiceId).create({ name: 'bench', email: 'bench@example.org' });
    const orgs = host.services.get(OrganizationServiceId);
    const org = await orgs.create({ name: 'lab' });
    await orgs.setMember(org.id, user.id, 'editor');
    const token = (await host.services.get(ApiTokenServiceId).create(user, 'bench')).token;
    const actor = { kind: 'user' as const, user: { id: user.id, name: user.name, sysadmin: false } };
    for (const name of names) await host.services.get(ActionRunnerId).run('package_create', { name, owner_org: 'lab', state: 'draft' }, { actor });
    return token;
  } finally {
    await host.stop();
  }
}
