// Setting up a clinic from an empty install with the `platform` CLI only, as docs/camcops.md
// walks through it: a user, an organisation, an ID number type, ID policies, the user's upload
// group with "may register devices"; then a tablet built from the client's source registers
// and uploads. The tablet account is an editor: it may register and upload, but not change
// ID policies or export. Refusals of the commands exit non-zero with the reason.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { ApiTokenServiceId, UserServiceId } from '../../../core/services/service-ids.js';
import { ClientTablet, type ClientDatabase } from './camcops-client.js';

const NHS = 9434765919;
const D = (minute: number): string => `2026-12-07T18:${String(minute).padStart(2, '0')}:00.000+01:00`;

function database(sex: string | null): ClientDatabase {
  return {
    patient: [{ id: 1, when_last_modified: D(1), _move_off_tablet: 0, forename: 'Ada', surname: 'Lovelace', sex, dob: '1815-12-10' }],
    patient_idnum: [{ id: 1, when_last_modified: D(1), _move_off_tablet: 0, patient_id: 1, which_idnum: 1, idnum_value: NHS }],
    phq9: [{ id: 1, when_last_modified: D(2), _move_off_tablet: 0, when_created: D(0), patient_id: 1, q1: 1, q2: 2 }],
  };
}

for (const kind of databaseKinds()) {
  describe(`upload-camcops set up with the platform CLI (${kind})`, () => {
    let t: TestHost;
    let dir: string;
    const cli = async (...args: string[]) => runCli(['--config', t.configFile, ...args]);
    const ok = async (...args: string[]): Promise<string> => {
      const run = await cli(...args);
      assert.equal(run.status, 0, `${args.join(' ')}: ${run.stderr}`);
      return run.stdout;
    };
    const refused = async (pattern: RegExp, ...args: string[]): Promise<void> => {
      const run = await cli(...args);
      assert.notEqual(run.status, 0, `${args.join(' ')} should have failed`);
      assert.match(run.stderr, pattern);
    };
    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['upload-camcops'] });
      dir = mkdtempSync(join(tmpdir(), 'camcops-cli-'));
      writeFileSync(join(dir, 'password'), 'tablet-password-1\n', { mode: 0o600 });
    });
    after(async () => {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('from an empty install to a first tablet upload, with the commands of docs/camcops.md', async () => {
      await ok('user', 'add', 'tablet1', '--email', 'tablet1@example.org', '--password-file', join(dir, 'password'));
      await ok('org', 'add', 'clinic');
      await ok('org', 'member-add', 'clinic', 'tablet1', '--role', 'editor');
      await ok('camcops', 'idnum-type', 'set', '1', '--description', 'NHS number', '--short-description', 'NHS', '--validation', 'uk_nhs_number');
      await ok('camcops', 'policy', 'set', 'clinic', '--upload', 'sex AND idnum1', '--finalize', 'sex AND dob AND idnum1');
      const tablet = new ClientTablet(t.app, 'ward-3-tablet', 'tablet1', 'tablet-password-1', database('F'));
      // An editor without "may register devices" cannot register.
      const before = await tablet.serverPost({ operation: 'register', devicefriendlyname: 'Ward 3' });
      assert.match(before.reply.error ?? '', /may not register devices.*needs role admin/);
      await ok('camcops', 'upload-group', 'set', 'tablet1', 'clinic', '--may-register-devices');
      const info = await tablet.register();
      assert.deepEqual([info.idDescription1, info.idShortDescription1, info.idValidationMethod1, info.idPolicyUpload], ['NHS number', 'NHS', 'uk_nhs_number', 'sex AND idnum1']);
      await tablet.upload('copy', false);
      assert.deepEqual(tablet.db.phq9!.map((r) => r.id), [1], 'copying keeps the records on the tablet');
      assert.match(await ok('camcops', 'idnum-type', 'list'), /^N\s+SHORT\s+DESCRIPTION\s+VALIDATION\n1\s+NHS\s+NHS number\s+uk_nhs_number\n$/);
      assert.match(await ok('camcops', 'policy', 'list'), /clinic\s+sex AND idnum1\s+sex AND dob AND idnum1/);
      // The ID policy holds: a patient without sex is refused at validate_patients.
      const second = new ClientTablet(t.app, 'ward-3-tablet', 'tablet1', 'tablet-password-1', database(null));
      const checked = await second.serverPost({ operation: 'validate_patients', patient_info: second.patientInfoJson('copy') });
      assert.equal(checked.reply.success, '0');
    });

    it('the tablet account may register and upload, but not change ID policies or export', async () => {
      const user = await t.host.services.get(UserServiceId).get('tablet1');
      const token = (await t.host.services.get(ApiTokenServiceId).create(user, 'test')).token;
      // An editor may make a draft dataset of the clinic, but not export CamCOPS records into it.
      const created = await t.call('package_create', { name: 'camcops-export', owner_org: 'clinic', state: 'draft' }, { token });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      for (const [action, input] of [
        ['camcops_group_policy_set', { organization: 'clinic', upload_policy: '' }],
        ['camcops_export_start', { dataset: 'camcops-export' }],
        ['camcops_upload_group_set', { organization: 'clinic', user: 'tablet1', may_register_devices: true }],
      ] as const) {
        const { status } = await t.call(action, input, { token });
        assert.equal(status, 403, action);
      }
      // Setting the upload group again without the option takes the permission away.
      await ok('camcops', 'upload-group', 'set', 'tablet1', 'clinic');
      const tablet = new ClientTablet(t.app, 'ward-4-tablet', 'tablet1', 'tablet-password-1', {});
      assert.match((await tablet.serverPost({ operation: 'register' })).reply.error ?? '', /may not register devices/);
      await ok('camcops', 'upload-group', 'set', 'tablet1', 'clinic', '--may-register-devices');
    });

    it('refuses bad set-ups with the reason and a non-zero exit', async () => {
      await refused(/which are not defined|undefined ID number/, 'camcops', 'policy', 'set', 'clinic', '--upload', 'idnum7');
      await refused(/syntax|unexpected|expected|policy/i, 'camcops', 'policy', 'set', 'clinic', '--upload', 'sex AND (');
      await refused(/--short-description is required/, 'camcops', 'idnum-type', 'set', '2', '--description', 'Hospital number');
      await refused(/N must be a positive whole number/, 'camcops', 'idnum-type', 'set', 'two', '--description', 'x', '--short-description', 'x');
      await refused(/validation_method|must be equal to one of/, 'camcops', 'idnum-type', 'set', '2', '--description', 'x', '--short-description', 'x', '--validation', 'luhn');
      await refused(/not found|no such|unknown/i, 'camcops', 'upload-group', 'set', 'tablet1', 'nowhere');
      await refused(/expected USER ORG/, 'camcops', 'upload-group', 'set', 'tablet1');
    });

    it('--help shows examples', async () => {
      for (const command of [['idnum-type', 'set'], ['idnum-type', 'list'], ['policy', 'set'], ['policy', 'list'], ['upload-group', 'set']]) {
        assert.match(await ok('camcops', ...command, '--help'), /Example/, command.join(' '));
      }
    });
  });
}
