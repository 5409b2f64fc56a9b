// The protocol's basics through HTTP: malformed requests, versions, sessions, logins that
// count toward core's lockout, registration and the information operations.
import { describe, it, before, after } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { PASSWORD, registeredTablet, startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { FakeTablet } from './fake-tablet.js';
import { decodeLiteralList } from '../../../plugins/upload-camcops/sql-literal-codec.js';
import { AuditLogId, DatabaseId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`upload-camcops sessions and information (${kind})`, () => {
    let w: CamcopsWorld;
    before(async () => {
      w = await startCamcopsWorld(kind, '[http]\ntrust_proxy = true\n');
    });
    after(async () => {
      await w.t.close();
    });

    // The reference (client_api.py, client_api view) answers HTTP 400 with this text when it
    // cannot make a tablet session (cc_tabletsession.py): a missing version reads as 0.0.0,
    // which is too old, as is any version below 2.0.0.
    it('answers 400 "Not a valid CamCOPS API request" for a missing, blank, nonsensical or too old version, or no device', async () => {
      for (const body of ['', 'operation=register', 'operation=register&camcops_version=&device=d', 'operation=register&camcops_version=banana&device=d', 'operation=register&camcops_version=1.9.9&device=d', 'operation=register&camcops_version=2.4.0']) {
        const response = await w.t.app.request('/upload/camcops/api', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        assert.equal(response.status, 400, body);
        assert.equal(await response.text(), 'Not a valid CamCOPS API request\n');
      }
    });

    // The reference's fail_unsupported_operation: a user error (HTTP 200, success 0), with
    // Python's None for a missing operation; a blank one counts as missing (get_str_param).
    it('answers a missing, blank or unknown operation with 200 success:0 "operation=...: not supported"', async () => {
      for (const [body, error] of [['camcops_version=2.4.0&device=d', 'operation=None: not supported'], ['operation=&camcops_version=2.4.0&device=d', 'operation=None: not supported'], ['operation=make_tea&camcops_version=2.4.0&device=d', 'operation=make_tea: not supported'], ['operation=toString&camcops_version=2.4.0&device=d', 'operation=toString: not supported']]) {
        const response = await w.t.app.request('/upload/camcops/api', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        assert.equal(response.status, 200, body);
        assert.match(await response.text(), new RegExp(`^success:0\nerror:${error}\nsession_id:\\d+\nsession_token:`));
      }
    });

    it('serves the legacy /database alias in the key:value format', async () => {
      const response = await w.t.app.request('/upload/camcops/database', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'operation=check_device_registered&camcops_version=2.4.0&device=nobody' });
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /^success:0\nerror:Unregistered device\nsession_id:\d+\nsession_token:[\w-]+\n$/);
    });


    it('registers a device, then says it is registered; only users allowed to register may', async () => {
      const tablet = w.tablet('reg-1');
      assert.equal(await tablet.refused('check_device_registered'), 'Unregistered device');
      const info = await tablet.ok('register', { devicefriendlyname: 'Ward 1' });
      assert.equal(info.databaseTitle, 'CamCOPS');
      assert.equal(info.idDescription1, 'NHS number');
      assert.equal(info.idShortDescription2, 'HN');
      assert.equal(info.idValidationMethod1, 'uk_nhs_number');
      assert.equal(info.idPolicyUpload, '');
      assert.equal((await tablet.ok('check_device_registered')).result, 'check_device_registered');
      const editorTablet = w.tablet('reg-2', 'helper');
      assert.match(await editorTablet.refused('register'), /may not register devices.*needs role admin/);
      assert.equal(await editorTablet.refused('check_device_registered'), 'Unregistered device');
    });

    it('keeps a session: same id and token while valid; a new one for a wrong token', async () => {
      const tablet = await registeredTablet(w, 'sess-1');
      const { sessionId, sessionToken } = tablet;
      await tablet.ok('check_upload_user_and_device');
      assert.equal(tablet.sessionId, sessionId);
      assert.equal(tablet.sessionToken, sessionToken);
      tablet.sessionToken = 'forged';
      await tablet.ok('check_upload_user_and_device');
      assert.notEqual(tablet.sessionId, sessionId, 'a wrong token starts a fresh session (and logs in again)');
      assert.notEqual(tablet.sessionToken, 'forged');
    });

    it('binds a session to the client address: the same id and token from elsewhere get a new session', async () => {
      const tablet = await registeredTablet(w, 'sess-3');
      tablet.address = '192.0.2.10';
      await tablet.ok('check_upload_user_and_device');
      const { sessionId, sessionToken } = tablet;
      await tablet.ok('check_upload_user_and_device');
      assert.equal(tablet.sessionId, sessionId);
      const thief = new FakeTablet(w.t.app, 'sess-3', undefined, undefined);
      thief.address = '198.51.100.7';
      thief.sessionId = sessionId;
      thief.sessionToken = sessionToken;
      assert.match(await thief.refused('get_id_info'), /Log in first/);
      assert.notEqual(thief.sessionId, sessionId);
    });

    it('stores a session only for a login that succeeded: failed logins leave no rows behind', async () => {
      const sessionRows = async () => {
        const [rows] = await w.t.host.services.get(DatabaseId).sequelize.query('SELECT COUNT(*) AS n FROM camcops_sessions');
        return Number((rows as Array<{ n: number | string }>)[0]!.n);
      };
      const before = await sessionRows();
      for (let i = 0; i < 3; i++) {
        const guesser = w.tablet('sess-4', `nobody-${i}`, 'a-guess');
        guesser.address = `203.0.113.${40 + i}`;
        assert.equal(await guesser.refused('check_upload_user_and_device'), 'Invalid username/password');
        assert.equal(await guesser.refused('check_upload_user_and_device'), 'Invalid username/password');
      }
      assert.equal(await sessionRows(), before, 'no session row for a refused login');
      const tablet = await registeredTablet(w, 'sess-5');
      await tablet.ok('check_upload_user_and_device');
      assert.ok((await sessionRows()) > before, 'a successful login is stored');
      // Expired sessions go when the next client arrives without a valid one.
      await w.t.host.services.get(DatabaseId).sequelize.query('UPDATE camcops_sessions SET last_activity_ms = 0');
      const late = w.tablet('sess-6', 'nobody-late', 'a-guess');
      await late.refused('check_upload_user_and_device');
      assert.equal(await sessionRows(), 0, 'expired sessions are purged');
    });

    it('refuses a wrong password without revealing it, and counts failures toward core\'s lockout', async () => {
      const guesser = w.tablet('sess-2', 'helper', 'wrong-password-9');
      const error = await guesser.refused('check_upload_user_and_device');
      assert.equal(error, 'Invalid username/password');
      await guesser.refused('check_upload_user_and_device');
      // The lock is not told to the caller (that would let anyone probe names), only recorded.
      assert.equal(await guesser.refused('check_upload_user_and_device'), 'Invalid username/password');
      // The right password is refused now too, through this API and through core's Basic auth.
      assert.equal(await w.tablet('sess-2', 'helper', PASSWORD).refused('check_upload_user_and_device'), 'Invalid username/password');
      const lockouts = await w.t.host.services.get(AuditLogId).list({ action: 'user.lockout', limit: 10 });
      assert.equal(lockouts.length, 1);
      assert.equal(lockouts[0]!.details.via, 'camcops');
      const basic = await w.t.app.request('/api/3/action/status_show', { headers: { authorization: `Basic ${Buffer.from(`helper:${PASSWORD}`).toString('base64')}` } });
      assert.equal(basic.status, 403);
      const logs = JSON.stringify(w.t.logs);
      assert.ok(!logs.includes('wrong-password-9') && !logs.includes(PASSWORD), 'passwords never reach the logs');
    });

    it('lists allowed tables with minimum client versions, in commit order', async () => {
      const tablet = await registeredTablet(w, 'info-1');
      const reply = await tablet.ok('get_allowed_tables');
      assert.equal(reply.nfields, '2');
      assert.equal(reply.fields, 'tablename,min_client_version');
      const rows = Array.from({ length: Number(reply.nrecords) }, (_, i) => decodeLiteralList(reply[`record${i}`]!));
      const names = rows.map((r) => r[0]);
      assert.deepEqual(names.slice(0, 2), ['patient', 'patient_idnum']);
      for (const table of ['blobs', 'phq9', 'gad7', 'ref_satis_gen', 'progressnote', 'photosequence', 'photosequence_photos']) assert.ok(names.includes(table), table);
      assert.ok(names.indexOf('photosequence_photos') < names.indexOf('phq9'), 'ancillary tables before tasks');
      assert.deepEqual(rows.find((r) => r[0] === 'phq9'), ['phq9', '2.0.0']);
      const strings = await tablet.ok('get_extra_strings');
      assert.equal(strings.fields, 'task,name,language,value');
      assert.equal(strings.nrecords, '0');
    });

    it('serves extra strings loaded with `platform camcops strings import`', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'camcops-strings-'));
      try {
        const file = join(dir, 'phq9.xml');
        writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>\n<resources>\n  <!-- test strings -->\n  <task name="phq9">\n    <string name="q1">Little interest &amp; pleasure, \'often\'</string>\n    <string name="q1" language="de_DE">Wenig Interesse</string>\n    <string name="note"><![CDATA[<b>bold</b>]]></string>\n  </task>\n</resources>\n`);
        const run = await runCli(['--config', w.t.configFile, 'camcops', 'strings', 'import', file]);
        assert.equal(run.status, 0, run.stderr);
        assert.match(run.stderr, /loaded 3 string\(s\) for 1 task\(s\): phq9/);
        const tablet = await registeredTablet(w, 'strings-1');
        const reply = await tablet.ok('get_extra_strings');
        assert.equal(reply.nrecords, '3');
        const rows = [0, 1, 2].map((i) => decodeLiteralList(reply[`record${i}`]!));
        assert.deepEqual(rows.find((r) => r[1] === 'q1' && r[2] === ''), ['phq9', 'q1', '', "Little interest & pleasure, 'often'"]);
        assert.deepEqual(rows.find((r) => r[2] === 'de_DE'), ['phq9', 'q1', 'de_DE', 'Wenig Interesse']);
        assert.deepEqual(rows.find((r) => r[1] === 'note'), ['phq9', 'note', '', '<b>bold</b>']);
        writeFileSync(file, '<resources><task name="phq9"><string name="q2">Feeling down</string></task></resources>');
        assert.equal((await runCli(['--config', w.t.configFile, 'camcops', 'strings', 'import', file])).status, 0);
        assert.equal((await tablet.ok('get_extra_strings')).nrecords, '1', 'a file replaces the strings of its tasks');
        writeFileSync(file, '<resources><string name="orphan">x</string></resources>');
        const bad = await runCli(['--config', w.t.configFile, 'camcops', 'strings', 'import', file]);
        assert.notEqual(bad.status, 0);
        assert.match(bad.stderr, /must be inside <task/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('needs a registered device and a logged-in user for upload operations', async () => {
      assert.equal(await w.tablet('never-registered').refused('get_id_info'), 'Unregistered device');
      assert.match(await new FakeTablet(w.t.app, 'info-1', undefined, undefined).refused('get_id_info'), /Log in first/);
      assert.match(await w.tablet('info-1', 'loner').refused('start_upload'), /User 'loner' has no upload group/);
    });

    it('registers a patient\'s tablet by access key: patient details, a user of its own, and uploads with it', async () => {
      const { access_key: key } = await w.action<{ access_key: string }>('camcops_server_patient_create', { organization: 'clinic', forename: 'Ada', surname: 'Lovelace', sex: 'F', dob: '1815-12-10', idnums: { 1: 9434765919 } }, w.tabletUserToken);
      assert.match(key, /^([bdfghjklmnprstvz][aiou][bdfghjklmnprstvz][aiou][bdfghjklmnprstvz]-){8}[bdfghjklmnprstvz]$/);
      const denied = await w.t.call('camcops_server_patient_create', { organization: 'clinic', sex: 'F' }, { token: w.outsiderToken });
      assert.equal(denied.status, 403);
      const badNhs = await w.t.call('camcops_server_patient_create', { organization: 'clinic', idnums: { 1: 9434765918 } }, { token: w.tabletUserToken });
      assert.equal(badNhs.status, 400);

      const fresh = new FakeTablet(w.t.app, 'patient-tablet', undefined, undefined);
      const reply = await fresh.ok('register_patient', { patient_proquint: key });
      const [info] = JSON.parse(reply.patient_info!) as Array<Record<string, unknown>>;
      assert.deepEqual([info!.forename, info!.surname, info!.sex, info!.dob, info!.idnum1], ['Ada', 'Lovelace', 'F', '1815-12-10', 9434765919]);
      assert.deepEqual(JSON.parse(reply.ip_use_info!), { commercial: 0, clinical: 0, educational: 0, research: 0 });
      assert.equal(reply.user, 'user-patient-tablet');
      assert.ok((reply.password ?? '').length >= 30);
      assert.ok(!JSON.stringify(w.t.logs).includes(reply.password!), 'the generated password is never logged');

      // The tablet logs in with its own user, registers and uploads into the patient's group.
      const own = w.tablet('patient-tablet', reply.user, reply.password);
      await own.ok('register');
      assert.equal((await own.ok('get_task_schedules', { patient_proquint: key })).task_schedules, '[]');
      const upload = await own.uploadOneStep({ patient: [{ id: 1, when_last_modified: '2026-11-01T10:00:00Z', _move_off_tablet: 0, sex: 'F' }] });
      assert.equal(upload.items.success, '1', upload.items.error);
      const shown = await w.action<{ count: number }>('camcops_table_show', { organization: 'clinic', table: 'patient', device: 'patient-tablet' }, w.tabletUserToken, 'GET');
      assert.equal(shown.count, 1);
      // ... and may do nothing else on the platform.
      const basic = `Basic ${Buffer.from(`${reply.user}:${reply.password}`).toString('base64')}`;
      const peek = await w.t.app.request('/api/3/action/camcops_table_show?organization=clinic&table=patient', { headers: { authorization: basic } });
      assert.equal(peek.status, 403);

      // A tablet that sends its user gets no new one.
      const again = await w.tablet('patient-tablet', reply.user, reply.password).ok('register_patient', { patient_proquint: key });
      assert.equal(again.user, undefined);
      assert.equal(again.password, undefined);
    });

    it('refuses unknown and mistyped access keys without echoing them', async () => {
      const tablet = new FakeTablet(w.t.app, 'p-1', undefined, undefined);
      for (const key of ['sazom-diliv-navol-hubot-mufur-mamuv-kojus-loluv-v', 'sazom-diliv-navol-hubot-mufur-mamuv-kojus-loluv-b', 'not a key']) {
        const error = await tablet.refused('register_patient', { patient_proquint: key });
        assert.match(error, /no patient with that access key/);
        assert.ok(!error.includes(key.slice(0, 11)));
      }
    });
  });
}

describe('upload-camcops task definitions', () => {
  it('refuses to start with a malformed definition file, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'camcops-bad-tasks-'));
    try {
      writeFileSync(join(dir, 'broken.json'), JSON.stringify({ tablename: 'Broken Table', minimum_client_version: '2.0.0', schema: { type: 'object', properties: {} } }));
      await assert.rejects(startTestHost('sqlite', { pluginNames: ['upload-camcops'], extraConfig: `[plugin:upload-camcops]\ntask_dirs = ${dir}\n` }), /broken\.json: "tablename" must be lowercase/);
      writeFileSync(join(dir, 'broken.json'), JSON.stringify({ tablename: 'dup', minimum_client_version: '2.0.0', schema: { type: 'object', properties: { id: { type: 'integer' } } } }));
      await assert.rejects(startTestHost('sqlite', { pluginNames: ['upload-camcops'], extraConfig: `[plugin:upload-camcops]\ntask_dirs = ${dir}\n` }), /column "id" is standard/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

