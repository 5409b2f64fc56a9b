// Shared set-up of the CamCOPS protocol suites: a host with the plugin on a fresh database,
// an organisation "clinic" with a tablet user (admin: may register and upload), an editor,
// a sysadmin token, ID number definitions and tablets.
import assert from 'node:assert/strict';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ApiTokenServiceId, OrganizationServiceId, UserServiceId } from '../../../core/services/service-ids.js';
import { FakeTablet } from './fake-tablet.js';
import type { PluginDefinition } from '../../../core/api.js';

/** Passwords of the test users (test-only values). */
export const PASSWORD = 'tablet-password-1';

/** A started host and the people in it. */
export interface CamcopsWorld {
  t: TestHost;
  adminToken: string;
  tabletUserToken: string;
  outsiderToken: string;
  tablet(device: string, user?: string, password?: string, version?: string): FakeTablet;
  /** Calls an action that must succeed; returns its result. */
  action<T = unknown>(name: string, input: Record<string, unknown>, token: string, method?: 'GET' | 'POST'): Promise<T>;
}

/** Starts the host and creates users, the clinic, ID number types 1 (NHS) and 2 (hospital). */
export async function startCamcopsWorld(kind: 'sqlite' | 'postgres', extraConfig = '', plugins: PluginDefinition[] = []): Promise<CamcopsWorld> {
  const t = await startTestHost(kind, { plugins, pluginNames: ['upload-camcops'], extraConfig: `[auth]\nmax_failed_logins = 3\n${extraConfig}` });
  const users = t.host.services.get(UserServiceId);
  const orgs = t.host.services.get(OrganizationServiceId);
  const tokens = t.host.services.get(ApiTokenServiceId);
  const admin = await users.create({ name: 'root', email: 'root@example.org', sysadmin: true });
  const tabletUser = await users.create({ name: 'nurse', email: 'nurse@example.org', password: PASSWORD });
  const editor = await users.create({ name: 'helper', email: 'helper@example.org', password: PASSWORD });
  const outsider = await users.create({ name: 'outsider', email: 'outsider@example.org', password: PASSWORD });
  await users.create({ name: 'loner', email: 'loner@example.org', password: PASSWORD });
  const clinic = await orgs.create({ name: 'clinic' });
  const other = await orgs.create({ name: 'elsewhere' });
  await orgs.setMember(clinic.id, tabletUser.id, 'admin');
  await orgs.setMember(clinic.id, editor.id, 'editor');
  await orgs.setMember(other.id, outsider.id, 'admin');
  const world: CamcopsWorld = {
    t,
    adminToken: (await tokens.create(admin, 'test')).token,
    tabletUserToken: (await tokens.create(tabletUser, 'test')).token,
    outsiderToken: (await tokens.create(outsider, 'test')).token,
    tablet: (device, user = 'nurse', password = PASSWORD, version) => new FakeTablet(t.app, device, user, password, version),
    async action<T>(name: string, input: Record<string, unknown>, token: string, method: 'GET' | 'POST' = 'POST'): Promise<T> {
      const { status, body } = await t.call(name, input, { token, method });
      assert.equal(status, 200, `${name}: ${JSON.stringify(body)}`);
      return body.result as T;
    },
  };
  await world.action('camcops_idnum_definition_set', { which_idnum: 1, description: 'NHS number', short_description: 'NHS', validation_method: 'uk_nhs_number' }, world.adminToken);
  await world.action('camcops_idnum_definition_set', { which_idnum: 2, description: 'Hospital number', short_description: 'HN' }, world.adminToken);
  return world;
}

/** Registers a tablet and returns it. */
export async function registeredTablet(world: CamcopsWorld, device: string): Promise<FakeTablet> {
  const tablet = world.tablet(device);
  await tablet.ok('register', { devicefriendlyname: `Tablet ${device}` });
  return tablet;
}

/** Records of a table as the action API shows them. */
export interface ShownRecords {
  count: number;
  records: Array<Record<string, unknown>>;
}

/** camcops_table_show for the clinic. */
export async function show(world: CamcopsWorld, table: string, filters: Record<string, unknown> = {}): Promise<ShownRecords> {
  return world.action<ShownRecords>('camcops_table_show', { organization: 'clinic', table, ...filters }, world.tabletUserToken, 'GET');
}

/** The latest audit line of a table's uploads into the clinic. */
export async function lastUploadLine(world: CamcopsWorld, table: string): Promise<Record<string, unknown>> {
  const lines = await world.action<Array<Record<string, unknown>>>('camcops_upload_log', { organization: 'clinic', table, limit: 1 }, world.tabletUserToken, 'GET');
  assert.ok(lines.length, `no upload line for ${table}`);
  return lines[0]!;
}

/** The counts of an audit line. */
export function counts(line: Record<string, unknown>): string {
  return `${String(line.added)} added, ${String(line.modified)} modified, ${String(line.deleted)} deleted, ${String(line.preserved)} preserved, ${String(line.current)} current`;
}
