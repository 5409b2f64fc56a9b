// The CamCOPS protocol as a real tablet speaks it: every request here is built by
// camcops-client.ts, which follows the C++ client's source (networkmanager.cpp,
// queryresult.cpp, convert.cpp), not by the plugin's encoder. Register; one-step and
// stepwise uploads with a non-empty blobs table sent record by record; modifications and
// deletions; preservation both ways; the bad-input refusals of the reference server; and a
// few requests written out byte for byte as the client's source builds them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { counts, lastUploadLine, PASSWORD, show, startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { ClientTablet, columnAsStringList, csvRow, databaseAsJson, qtPercentEncode, qtPostBody, qtReplyDict, qtSetNumDouble, qtToSqlLiteral, type ClientDatabase, type ClientRecord } from './camcops-client.js';

// Dates as Field::databaseValue stores a QDateTime (datetime::datetimeToIsoMs): milliseconds
// and the tablet's UTC offset.
const D = (minute: number): string => `2026-12-07T18:${String(minute).padStart(2, '0')}:43.137+01:00`;
const NHS = 9434765919;

/** A tablet's database: a patient, a PHQ-9, a photo sequence of two photos and their blobs. */
function clinicDatabase(): ClientDatabase {
  return {
    patient: [{ id: 1, when_last_modified: D(1), _move_off_tablet: 0, forename: 'Ada', surname: "O'Brien, née \"Byron\"", sex: 'F', dob: '1815-12-10', other: 'line 1\nline 2 with a \\ backslash' }],
    patient_idnum: [{ id: 1, when_last_modified: D(1), _move_off_tablet: 0, patient_id: 1, which_idnum: 1, idnum_value: NHS }],
    phq9: [{ id: 1, when_last_modified: D(2), _move_off_tablet: 0, when_created: D(0), firstexit_is_finish: 1, firstexit_is_abort: 0, when_firstexit: D(2), editing_time_s: 61.37499, patient_id: 1, q1: 0, q2: 1, q3: 2, q4: 3, q5: 0, q6: 1, q7: null, q8: null, q9: 0 }],
    photosequence: [{ id: 1, when_last_modified: D(3), _move_off_tablet: 0, when_created: D(0), editing_time_s: 0.0000125, patient_id: 1, sequence_description: 'Wound, left knee' }],
    photosequence_photos: [
      { id: 1, when_last_modified: D(3), _move_off_tablet: 0, photosequence_id: 1, seqnum: 1, description: 'before', photo_blobid: 1 },
      { id: 2, when_last_modified: D(3), _move_off_tablet: null, photosequence_id: 1, seqnum: 2, description: 'after', photo_blobid: 2 },
    ],
    // _move_off_tablet NULL on the second blob: columnAsStringList sends it as an empty item.
    blobs: [
      { id: 1, when_last_modified: D(3), _move_off_tablet: 0, tablename: 'photosequence_photos', tablepk: 1, fieldname: 'photo_blobid', filename: null, mimetype: 'image/png', image_rotation_deg_cw: 0, theblob: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x2c, 0x27]) },
      { id: 2, when_last_modified: D(4), _move_off_tablet: null, tablename: 'photosequence_photos', tablepk: 2, fieldname: 'photo_blobid', filename: null, mimetype: 'image/png', image_rotation_deg_cw: 90, theblob: Buffer.alloc(3000, 7) },
    ],
    gad7: [],
    progressnote: [],
    ref_satis_gen: [],
  };
}

/** The keys which_keys_to_send asks for, in a batch of its own, for the tablet's records as they are. */
async function keysServerWants(tablet: ClientTablet, table: string): Promise<string> {
  const records = tablet.db[table]!;
  const send = async (operation: string, extra: Record<string, string> = {}): Promise<Record<string, string>> => {
    const { reply } = await tablet.serverPost({ operation, ...extra });
    assert.equal(reply.success, '1', reply.error);
    return reply;
  };
  await send('start_upload');
  const reply = await send('which_keys_to_send', { table, pkname: 'id', pkvalues: columnAsStringList(records, 'id'), datevalues: columnAsStringList(records, 'when_last_modified'), move_off_tablet_values: columnAsStringList(records, '_move_off_tablet') });
  await send('end_upload');
  return reply.result ?? '';
}

for (const kind of databaseKinds()) {
  describe(`upload-camcops with a tablet built from the client's source (${kind})`, () => {
    let w: CamcopsWorld;
    const tablet = (device: string, db: ClientDatabase = clinicDatabase()): ClientTablet => new ClientTablet(w.t.app, device, 'nurse', PASSWORD, db);
    before(async () => {
      w = await startCamcopsWorld(kind);
    });
    after(async () => w.t.close());

    it('encodes as the C++ client does: Qt number formats, quoting, base64 and the percent-encoded, key-ordered body', () => {
      // QString::setNum(double): format 'g', precision 6.
      assert.deepEqual([61.37499, 0.0000125, 1234567.8, 0.5, 100000, -2.5e-10].map(qtSetNumDouble), ['61.375', '1.25e-05', '1.23457e+06', '0.5', '100000', '-2.5e-10']);
      assert.equal(qtToSqlLiteral("it's\na \\ b"), "'it''s\\na \\\\ b'");
      assert.equal(qtToSqlLiteral(Buffer.from('hi')), "64'aGk='");
      assert.equal(qtToSqlLiteral(null), 'NULL');
      assert.equal(csvRow(['id', 'when_last_modified', '_move_off_tablet'], { id: 2, when_last_modified: D(4), _move_off_tablet: null }), `2,'${D(4)}',NULL`);
      assert.equal(columnAsStringList([{ m: 0 }, { m: null }, { m: 1 }], 'm'), '0,,1');
      assert.equal(qtPostBody({ user: 'nurse', operation: 'x', camcops_version: '2.4.24' }), 'camcops_version=2.4.24&operation=x&user=nurse');
      assert.equal(qtPostBody({ v: "a+b c'(*)!~" }), 'v=a%2Bb%20c%27%28%2A%29%21~');
      assert.deepEqual(qtReplyDict('success:1\nresult: \nerror:a:b\n'), { success: '1', result: '', error: 'a:b' });
    });

    it('registers as registerNext does: register, get_allowed_tables, get_extra_strings', async () => {
      const t = tablet('wire-register');
      const info = await t.register();
      assert.equal(info.idDescription1, 'NHS number');
      assert.deepEqual(t.log.map((e) => new URLSearchParams(e.body).get('operation')), ['register', 'get_allowed_tables', 'get_extra_strings']);
    });

    it('stepwise copy: tables whole, blobs record by record (unquoted dates, a NULL move-off flag), then modifications and deletions', async () => {
      const device = 'wire-stepwise';
      const t = tablet(device);
      await t.register();
      const asked = await t.upload('copy', false);
      assert.deepEqual(asked, { blobs: [1, 2] });
      const whichKeys = t.log.find((e) => e.body.includes('operation=which_keys_to_send'))!;
      assert.match(whichKeys.body, /datevalues=2026-12-07T18%3A03%3A43\.137%2B01%3A00%2C2026-12-07T18%3A04%3A43\.137%2B01%3A00&/, 'the dates go unquoted');
      assert.match(whichKeys.body, /move_off_tablet_values=0%2C&/, 'a NULL flag goes as an empty item');
      for (const table of ['patient', 'patient_idnum', 'phq9', 'photosequence', 'photosequence_photos', 'blobs']) assert.equal(counts(await lastUploadLine(w, table)).split(',')[0], `${t.db[table]!.length} added`, table);
      // Stored as the client meant them.
      const [patient] = (await show(w, 'patient', { device, current: 'true' })).records;
      assert.equal(patient!.surname, "O'Brien, née \"Byron\"");
      assert.equal(patient!.other, 'line 1\nline 2 with a \\ backslash');
      assert.equal(patient!.when_last_modified, D(1));
      const blobs = (await show(w, 'blobs', { device, current: 'true' })).records.sort((a, b) => Number(a.id) - Number(b.id));
      assert.deepEqual(blobs.map((b) => Buffer.from(String(b.theblob), 'base64')), [t.db.blobs![0]!.theblob, t.db.blobs![1]!.theblob]);
      assert.equal(blobs[1]!._move_off_tablet, null);
      const [phq9] = (await show(w, 'phq9', { device, current: 'true' })).records;
      assert.equal(phq9!.editing_time_s, 61.375, 'a double arrives with the six significant digits the client sends');
      // As the client sees it: the server wants nothing more.
      assert.equal(await keysServerWants(t, 'blobs'), '');

      // The tablet replaces the second photo, deletes the first, and edits the PHQ-9.
      t.db.blobs = [{ ...t.db.blobs![1]!, when_last_modified: D(20), theblob: Buffer.from('new photo') }, { ...t.db.blobs![0]!, id: 3, when_last_modified: D(21) }];
      t.db.phq9 = [{ ...t.db.phq9![0]!, when_last_modified: D(22), q7: 3 }];
      t.log.length = 0;
      assert.deepEqual(await t.upload('copy', false), { blobs: [2, 3] });
      assert.equal(t.log.filter((e) => e.body.includes('operation=upload_record')).length, 2, 'only the changed and new blobs travel');
      // A modified record's successor counts as added too.
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '2 added, 1 modified, 1 deleted, 0 preserved, 2 current');
      assert.equal(counts(await lastUploadLine(w, 'phq9')), '1 added, 1 modified, 0 deleted, 0 preserved, 1 current');
      const now = (await show(w, 'blobs', { device, current: 'true' })).records.sort((a, b) => Number(a.id) - Number(b.id));
      assert.deepEqual(now.map((b) => [b.id, Buffer.from(String(b.theblob), 'base64').toString('latin1')]), [[2, 'new photo'], [3, (t.db.blobs[1]!.theblob as Buffer).toString('latin1')]]);
      assert.equal(await keysServerWants(t, 'blobs'), '');
    });

    it('one-step copy, then one-step move: everything preserved, the tablet wiped', async () => {
      const device = 'wire-onestep';
      const t = tablet(device);
      await t.register();
      assert.deepEqual(await t.upload('copy', true), {});
      const body = t.log.find((e) => e.body.includes('operation=upload_entire_database'))!.body;
      assert.ok(body.includes(qtPostBody({ finalizing: '0' })), 'finalizing is ENCODE_FALSE');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '2 added, 0 modified, 0 deleted, 0 preserved, 2 current');
      assert.equal(await keysServerWants(t, 'blobs'), '', 'the one-step upload stored the blobs as the client reads them back');
      await t.upload('move', true);
      assert.deepEqual(Object.values(t.db).flat(), [], 'wipeTables emptied the tablet');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '0 added, 0 modified, 0 deleted, 2 preserved, 0 current');
      assert.equal((await show(w, 'patient', { device, era: 'NOW' })).count, 0);
      const preserved = await show(w, 'photosequence_photos', { device });
      assert.equal(preserved.count, 2);
      assert.ok(preserved.records.every((r) => r._era !== 'NOW'));
    });

    it('stepwise move: start_preservation, the unchanged blobs are not sent again but are preserved', async () => {
      const device = 'wire-preserve';
      const t = tablet(device);
      await t.register();
      await t.upload('copy', false);
      t.log.length = 0;
      assert.deepEqual(await t.upload('move', false), { blobs: [] });
      assert.ok(t.log.some((e) => e.body.includes('operation=start_preservation')));
      assert.ok(!t.log.some((e) => e.body.includes('operation=upload_record')));
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '0 added, 0 modified, 0 deleted, 2 preserved, 0 current');
      assert.equal(counts(await lastUploadLine(w, 'patient')), '0 added, 0 modified, 0 deleted, 1 preserved, 0 current');
      assert.equal((await show(w, 'blobs', { device, era: 'NOW' })).count, 0);
      assert.equal((await show(w, 'blobs', { device })).count, 2);
    });

    it('copy with one blob flagged to move off: which_keys_to_send flags it for preservation without asking for it', async () => {
      const device = 'wire-moveoff';
      const t = tablet(device);
      await t.register();
      await t.upload('copy', false);
      t.db.blobs![0]!._move_off_tablet = 1;
      t.log.length = 0;
      assert.deepEqual(await t.upload('copy', false), { blobs: [] });
      assert.match(t.log.find((e) => e.body.includes('operation=which_keys_to_send'))!.body, /move_off_tablet_values=1%2C&/);
      const blobs = (await show(w, 'blobs', { device })).records;
      assert.deepEqual(blobs.map((b) => [b.id, b._era === 'NOW']).sort(), [[1, false], [2, true]]);
      assert.deepEqual(t.db.blobs!.map((b) => b.id), [2], 'the tablet wiped the record it moved off');
    });

    it("refuses bad input as the reference does: 400 for a session it cannot make, 200 success:0 for the rest, nothing applied", async () => {
      const device = 'wire-bad';
      const t = tablet(device);
      await t.register();
      const old = new ClientTablet(w.t.app, device, 'nurse', PASSWORD, {}, '1.99.0');
      const tooOld = await old.serverPost({ operation: 'check_device_registered' });
      assert.equal(tooOld.status, 400);
      assert.deepEqual(tooOld.reply, {}, 'the bare text "Not a valid CamCOPS API request" has no key:value line');
      const noOperation = await t.serverPost({});
      assert.deepEqual([noOperation.status, noOperation.reply.success, noOperation.reply.error], [200, '0', 'operation=None: not supported']);
      const refused = async (dict: Record<string, string>, error: RegExp): Promise<void> => {
        const { status, reply } = await t.serverPost(dict);
        assert.deepEqual([status, reply.success], [200, '0'], JSON.stringify(reply));
        assert.match(reply.error ?? '', error);
      };
      await t.serverPost({ operation: 'start_upload' });
      const base = { operation: 'which_keys_to_send', table: 'blobs', pkname: 'id' };
      await refused({ ...base, pkvalues: '1,2', datevalues: D(1), move_off_tablet_values: '0,0' }, /^Number of PK values \(2\) doesn't match number of dates \(1\)$/);
      await refused({ ...base, pkvalues: '1,2', datevalues: `${D(1)},${D(2)}`, move_off_tablet_values: '0' }, /^Number of move-off-tablet values \(1\) doesn't match number of PKs \(2\)$/);
      await refused({ ...base, pkvalues: "1,'two'", datevalues: `${D(1)},${D(2)}`, move_off_tablet_values: '0,0' }, /^Bad \(non-integer\) client PK: item 1$/);
      await refused({ ...base, pkvalues: '1,2', datevalues: `${D(1)},`, move_off_tablet_values: '0,0' }, /^Missing date\/time for client PK 2$/);
      await refused({ ...base, pkvalues: '1,2', datevalues: `${D(1)},yesterday`, move_off_tablet_values: '0,0' }, /^Bad date\/time for client PK 2$/);
      // A blank mandatory variable is a missing one (get_str_param), even a one-record list.
      await refused({ ...base, pkvalues: '1', datevalues: D(1), move_off_tablet_values: '' }, /^Must provide the variable: move_off_tablet_values$/);
      await refused({ operation: 'upload_empty_tables', tables: '' }, /^Must provide the variable: tables$/);
      const fields = ['id', 'when_last_modified', '_move_off_tablet', 'q1'];
      await refused({ operation: 'upload_record', table: 'phq9', pkname: 'id', fields: fields.join(','), values: csvRow(fields, { id: 9, when_last_modified: D(1), _move_off_tablet: 0, q1: 'three' }) }, /^Table 'phq9', the record, field 'q1': must be an integer$/);
      await refused({ operation: 'upload_record', table: 'phq9', pkname: 'id', fields: fields.join(','), values: `9,${D(1)},0,three` }, /field 'q1': must be an integer/);
      await refused({ operation: 'upload_record', table: 'blobs', pkname: 'id', fields: 'id,when_last_modified,theblob', values: `9,'${D(1)}',64'not base64!'` }, /field 'theblob': must be a blob/);
      await refused({ operation: 'upload_record', table: 'phq9', pkname: 'id', fields: 'id,when_last_modified', values: '9' }, /1 value\(s\) for 2 field\(s\)/);
      await refused({ operation: 'upload_table', table: 'phq9', pkname: 'id', fields: 'id,when_last_modified', nrecords: 'one' }, /^Variable nrecords is not a valid integer$/);
      // get_int_var reads nrecords with Python's int(): a sign and surrounding whitespace are fine.
      const { reply: signed } = await t.serverPost({ operation: 'upload_table', table: 'gad7', pkname: 'id', fields: 'id,when_last_modified', nrecords: ' +0 ' });
      assert.equal(signed.success, '1', signed.error);
      await t.serverPost({ operation: 'end_upload' });
      assert.equal((await show(w, 'phq9', { device })).count, 0, 'nothing was applied');
    });

    it('accepts requests written out byte for byte as the client source builds them', async () => {
      const device = 'wire-bytes';
      const t = tablet(device, {});
      await t.register();
      // sendNextRecord: dict keys in QMap order, values through QUrl::toPercentEncoding; values is
      // QueryResult::csvRow of the record: 5,'2026-12-07T18:05:43.137+01:00',NULL,'x.png',64'aGk='
      const session = `session_id=${t.sessionId}&session_token=${encodeURIComponent(t.sessionToken)}`;
      const send = async (body: string): Promise<Record<string, string>> => {
        const response = await w.t.app.request('/upload/camcops/api', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
        const reply = qtReplyDict(await response.text());
        assert.equal(reply.success, '1', reply.error);
        return reply;
      };
      const common = `camcops_version=2.4.24&device=${device}`;
      await send(`${common}&operation=start_upload&password=${PASSWORD}&${session}&user=nurse`);
      const uploadRecord = `${common}&fields=id%2Cwhen_last_modified%2C_move_off_tablet%2Cfilename%2Ctheblob&operation=upload_record&password=${PASSWORD}&pkname=id&${session}&table=blobs&user=nurse&values=5%2C%272026-12-07T18%3A05%3A43.137%2B01%3A00%27%2CNULL%2C%27x.png%27%2C64%27aGk%3D%27`;
      const record: ClientRecord = { id: 5, when_last_modified: D(5), _move_off_tablet: null, filename: 'x.png', theblob: Buffer.from('hi') };
      const built = qtPostBody({ camcops_version: '2.4.24', device, operation: 'upload_record', table: 'blobs', fields: Object.keys(record).join(','), pkname: 'id', values: csvRow(Object.keys(record), record), user: 'nurse', password: PASSWORD, session_id: t.sessionId, session_token: t.sessionToken });
      assert.equal(built, uploadRecord, 'the helper builds what the source builds');
      assert.equal((await send(uploadRecord)).result, 'UPLOAD-INSERT');
      await send(`${common}&operation=end_upload&password=${PASSWORD}&${session}&user=nurse`);
      await send(`${common}&operation=start_upload&password=${PASSWORD}&${session}&user=nurse`);
      // The next upload's requestRecordwisePkPrune for that record: the date unquoted, the flag
      // as QVariant::toString gives it. The server has the record, so it asks for nothing.
      const prune = `${common}&datevalues=2026-12-07T18%3A05%3A43.137%2B01%3A00&move_off_tablet_values=0&operation=which_keys_to_send&password=${PASSWORD}&pkname=id&pkvalues=5&${session}&table=blobs&user=nurse`;
      assert.equal((await send(prune)).result, '');
      await send(`${common}&operation=end_upload&password=${PASSWORD}&${session}&user=nurse`);
      const [blob] = (await show(w, 'blobs', { device })).records;
      assert.deepEqual([blob!.filename, blob!.theblob, blob!.when_last_modified, blob!._move_off_tablet], ['x.png', 'aGk=', D(5), null]);

      // uploadOneStep for a tablet holding one PHQ-9 and an empty patient table: getPkInfoAsJson
      // and getDatabaseAsJson (QJsonObject: keys sorted; Compact), finalizing ENCODE_FALSE.
      const dbdata = `{"patient":[],"phq9":[{"_move_off_tablet":"0","editing_time_s":"12.3457","id":"7","q1":"2","q2":"NULL","when_created":"'${D(6)}'","when_last_modified":"'${D(7)}'"}]}`;
      const oneStep = `${common}&dbdata=${qtPercentEncode(dbdata)}&finalizing=0&operation=upload_entire_database&password=${PASSWORD}&pknameinfo=${qtPercentEncode('{"patient":"id","phq9":"id"}')}&${session}&user=nurse`;
      const db: ClientDatabase = { phq9: [{ id: 7, when_last_modified: D(7), _move_off_tablet: 0, when_created: D(6), q1: 2, q2: null, editing_time_s: 12.345678 }], patient: [] };
      assert.equal(databaseAsJson(db), dbdata);
      assert.equal((await send(oneStep)).result, 'Success');
      const [phq9] = (await show(w, 'phq9', { device })).records;
      assert.deepEqual([phq9!.id, phq9!.q1, phq9!.q2, phq9!.editing_time_s, phq9!.when_created], [7, 2, null, 12.3457, D(6)]);
    });
  });
}
