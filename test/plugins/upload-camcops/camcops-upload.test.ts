// The CamCOPS manual's upload scenarios, driven through HTTP as a tablet would, one-step and
// stepwise: a single anonymous record added, modified and preserved; a patient with three
// progress notes; ancillary tables and BLOBs with which_keys_to_send; force-finalising from
// the server; a lost reply to a preserving upload; crashes between start_upload and
// end_upload; and every refusal leaving nothing applied.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { counts, lastUploadLine, registeredTablet, show, startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { oneStepParams, plainRow, taskRow, uploadTableParams, type FakeTablet, type Row } from './fake-tablet.js';
import { columnAsStringList, csvRow } from './camcops-client.js';
import { DatabaseId } from '../../../core/services/service-ids.js';
import { runCli } from '../../helpers/run-cli.js';

const T = (n: number): string => `2026-11-0${n}T10:00:00.000+00:00`;
const NHS = 9434765919;
const modes = ['one-step', 'stepwise'] as const;

async function upload(tablet: FakeTablet, mode: (typeof modes)[number], tables: Record<string, Row[]>, finalizing = false): Promise<void> {
  if (mode === 'stepwise') return tablet.uploadStepwise(tables, finalizing);
  const reply = await tablet.uploadOneStep(tables, finalizing);
  assert.equal(reply.items.success, '1', reply.items.error);
}

for (const kind of databaseKinds()) {
  describe(`upload-camcops uploads (${kind})`, () => {
    let w: CamcopsWorld;
    let tasksDir: string;
    before(async () => {
      tasksDir = mkdtempSync(join(tmpdir(), 'camcops-tasks-'));
      writeFileSync(join(tasksDir, 'future_task.json'), JSON.stringify({ tablename: 'future_task', minimum_client_version: '2.9.0', patient: true, schema: { type: 'object', properties: { q1: { type: ['integer', 'null'] } } } }));
      w = await startCamcopsWorld(kind, `[plugin:upload-camcops]\ntask_dirs = ${tasksDir}\n`);
    });
    after(async () => {
      await w.t.close();
      rmSync(tasksDir, { recursive: true, force: true });
    });

    for (const mode of modes) {
      it(`${mode}: a single anonymous record is added, modified, then preserved with its predecessor`, async () => {
        const device = `single-${mode}`;
        const tablet = await registeredTablet(w, device);
        await upload(tablet, mode, { ref_satis_gen: [taskRow(1, T(1), { rating: null })] });
        assert.equal(counts(await lastUploadLine(w, 'ref_satis_gen')), '1 added, 0 modified, 0 deleted, 0 preserved, 1 current');
        await upload(tablet, mode, { ref_satis_gen: [taskRow(1, T(2), { rating: 4, good: "it's\ngood" })] });
        assert.equal(counts(await lastUploadLine(w, 'ref_satis_gen')), '1 added, 1 modified, 0 deleted, 0 preserved, 1 current');
        const live = await show(w, 'ref_satis_gen', { device, era: 'NOW', current: 'true' });
        assert.equal(live.count, 1);
        assert.equal(live.records[0]!.rating, 4);
        assert.equal(live.records[0]!.good, "it's\ngood");
        const all = (await show(w, 'ref_satis_gen', { device })).records;
        assert.equal(all.length, 2);
        const [newer, older] = all as [Record<string, unknown>, Record<string, unknown>];
        assert.equal(newer._predecessor_pk, older._pk);
        assert.equal(older._successor_pk, newer._pk);
        assert.equal(older._current, 0);
        await upload(tablet, mode, { ref_satis_gen: [taskRow(1, T(2), { rating: 4, good: "it's\ngood" })] }, true);
        assert.equal(counts(await lastUploadLine(w, 'ref_satis_gen')), '0 added, 0 modified, 0 deleted, 2 preserved, 0 current');
        assert.equal((await show(w, 'ref_satis_gen', { device, era: 'NOW' })).count, 0);
        const preserved = (await show(w, 'ref_satis_gen', { device })).records;
        assert.equal(preserved.length, 2);
        assert.equal(new Set(preserved.map((r) => r._era)).size, 1);
        assert.notEqual(preserved[0]!._era, 'NOW');
        // The tablet deleted its copies; a new record is created, modified and flagged for preservation.
        await upload(tablet, mode, { ref_satis_gen: [taskRow(2, T(3))] });
        await upload(tablet, mode, { ref_satis_gen: [taskRow(2, T(4), { rating: 2 }, 1)] });
        assert.equal(counts(await lastUploadLine(w, 'ref_satis_gen')), '1 added, 1 modified, 0 deleted, 2 preserved, 0 current');
        assert.equal((await show(w, 'ref_satis_gen', { device, era: 'NOW' })).count, 0);
      });

      it(`${mode}: a patient with three progress notes: addition, modification, deletion, no-change, preservation`, async () => {
        const device = `notes-${mode}`;
        const tablet = await registeredTablet(w, device);
        const patient = [plainRow(1, T(1), { forename: 'Ada', surname: 'Lovelace', sex: 'F', dob: '1815-12-10' })];
        const idnums = [plainRow(1, T(1), { patient_id: 1, which_idnum: 1, idnum_value: NHS })];
        const note = (id: number, modified: string, location: string, text: string | null): Row => taskRow(id, modified, { patient_id: 1, location, note: text });
        await upload(tablet, mode, { patient, patient_idnum: idnums, progressnote: [note(1, T(1), 'loc1', null), note(2, T(1), 'loc2', 'note2'), note(3, T(1), 'loc3', 'note3')] });
        assert.equal(counts(await lastUploadLine(w, 'patient')), '1 added, 0 modified, 0 deleted, 0 preserved, 1 current');
        assert.equal(counts(await lastUploadLine(w, 'progressnote')), '3 added, 0 modified, 0 deleted, 0 preserved, 3 current');
        await upload(tablet, mode, { patient, patient_idnum: idnums, progressnote: [note(1, T(2), 'loc1', 'note1'), note(3, T(1), 'loc3', 'note3')] });
        assert.equal(counts(await lastUploadLine(w, 'progressnote')), '1 added, 1 modified, 1 deleted, 0 preserved, 2 current');
        const [patientRow] = (await show(w, 'patient', { device, era: 'NOW', current: 'true' })).records;
        const current = await show(w, 'progressnote', { patient_pk: patientRow!._pk, current: 'true' });
        assert.deepEqual(current.records.map((r) => [r.id, r.note]).sort(), [[1, 'note1'], [3, 'note3']]);
        await upload(tablet, mode, { patient, patient_idnum: idnums, progressnote: [note(1, T(3), 'loc1', null), note(3, T(1), 'loc3', 'note3')] }, true);
        assert.equal(counts(await lastUploadLine(w, 'patient')), '0 added, 0 modified, 0 deleted, 1 preserved, 0 current');
        assert.equal(counts(await lastUploadLine(w, 'progressnote')), '1 added, 1 modified, 0 deleted, 5 preserved, 0 current');
        const history = await show(w, 'progressnote', { patient_pk: patientRow!._pk });
        assert.equal(history.count, 5, 'the patient and all five note versions moved to the same era');
        assert.equal(history.records.filter((r) => r._current === 1).length, 2);
      });

      it(`${mode}: a preserving upload sent again after a lost reply creates no duplicates`, async () => {
        const device = `lost-${mode}`;
        const tablet = await registeredTablet(w, device);
        const data = { patient: [plainRow(1, T(1), { sex: 'M' })], phq9: [taskRow(1, T(1), { patient_id: 1, q1: 2 }), taskRow(2, T(1), { patient_id: 1, q1: 3 })] };
        await upload(tablet, mode, data, true);
        assert.equal(counts(await lastUploadLine(w, 'phq9')), '2 added, 0 modified, 0 deleted, 2 preserved, 0 current');
        const first = await lastUploadLine(w, 'phq9');
        await upload(tablet, mode, data, true);
        const line = await lastUploadLine(w, 'phq9');
        assert.notDeepEqual(line, first, 'the resend has an audit line of its own');
        assert.equal(counts(line), '0 added, 0 modified, 0 deleted, 0 preserved, 0 current');
        assert.equal(line.already_preserved, 2);
        assert.equal((await show(w, 'phq9', { device })).count, 2);
        assert.equal((await show(w, 'patient', { device })).count, 1);
      });
    }

    it('stepwise: ancillary tables and BLOBs with which_keys_to_send, upload_record and delete_where_key_not', async () => {
      const device = 'photos';
      const tablet = await registeredTablet(w, device);
      const blob = (id: number, modified: string, bytes: string, moveOff = 0): Row => plainRow(id, modified, { tablename: 'photosequence_photos', tablepk: id, fieldname: 'photo_blobid', mimetype: 'image/png', theblob: Buffer.from(bytes) }, moveOff);
      const sendBlobs = async (blobs: Row[], moveOff?: number[]): Promise<string> => {
        const reply = await tablet.ok('which_keys_to_send', {
          table: 'blobs', pkname: 'id', pkvalues: blobs.map((b) => b.id).join(','), datevalues: columnAsStringList(blobs, 'when_last_modified'),
          ...(moveOff ? { move_off_tablet_values: moveOff.join(',') } : {}),
        });
        for (const id of reply.result ? reply.result.split(',').map(Number) : []) {
          const b = blobs.find((x) => x.id === id)!;
          const fields = Object.keys(b);
          await tablet.ok('upload_record', { table: 'blobs', pkname: 'id', fields: fields.join(','), values: csvRow(fields, b) });
        }
        return reply.result ?? '';
      };
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('patient', [plainRow(1, T(1), { sex: 'F' })]));
      await tablet.ok('upload_table', uploadTableParams('photosequence', [taskRow(1, T(1), { patient_id: 1, sequence_description: 't1' })]));
      await tablet.ok('upload_table', uploadTableParams('photosequence_photos', [plainRow(1, T(1), { photosequence_id: 1, seqnum: 1, description: 'p1', photo_blobid: 1 }), plainRow(2, T(1), { photosequence_id: 1, seqnum: 2, description: 'p2', photo_blobid: 2 })]));
      assert.equal(await sendBlobs([blob(1, T(1), 'one finger'), blob(2, T(1), 'two fingers vertical')], [0, 0]), '1,2');
      await tablet.ok('end_upload');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '2 added, 0 modified, 0 deleted, 0 preserved, 2 current');
      assert.equal(counts(await lastUploadLine(w, 'photosequence_photos')), '2 added, 0 modified, 0 deleted, 0 preserved, 2 current');
      // Replace the second photo: only that blob is asked for.
      await tablet.ok('start_upload');
      assert.equal(await sendBlobs([blob(1, T(1), 'one finger'), blob(2, T(2), 'two fingers horizontal')], [0, 0]), '2');
      await tablet.ok('end_upload');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '1 added, 1 modified, 0 deleted, 0 preserved, 2 current');
      const photo = (await show(w, 'blobs', { device, era: 'NOW', current: 'true' })).records.find((r) => r.id === 2)!;
      assert.equal(Buffer.from(String(photo.theblob), 'base64').toString(), 'two fingers horizontal');
      // Unchanged blobs flagged for preservation are not sent again but are preserved with their history.
      await tablet.ok('start_upload');
      assert.equal(await sendBlobs([blob(1, T(1), 'one finger', 1), blob(2, T(2), 'two fingers horizontal', 1)], [1, 1]), '');
      await tablet.ok('end_upload');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '0 added, 0 modified, 0 deleted, 3 preserved, 0 current');
      // delete_where_key_not removes what the tablet no longer has.
      await tablet.ok('start_upload');
      await sendBlobs([blob(5, T(3), 'five'), blob(6, T(3), 'six')], [0, 0]);
      await tablet.ok('end_upload');
      await tablet.ok('start_upload');
      assert.equal((await tablet.ok('delete_where_key_not', { table: 'blobs', pkname: 'id', pkvalues: '5' })).result, 'Trimmed');
      await tablet.ok('end_upload');
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '0 added, 0 modified, 1 deleted, 0 preserved, 1 current');
    });

    it('one-step: ancillary tables and BLOBs are added, modified and preserved per patient flag', async () => {
      const device = 'photos-one-step';
      const tablet = await registeredTablet(w, device);
      const blob = (id: number, modified: string, bytes: string): Row => plainRow(id, modified, { tablename: 'photosequence_photos', tablepk: id, fieldname: 'photo_blobid', theblob: Buffer.from(bytes) });
      const db = (blob2: Row, photo2: Row, sequence: Row, moveOff = 0): Record<string, Row[]> => ({
        patient: [plainRow(1, T(1), { sex: 'F' }, moveOff)],
        blobs: [blob(1, T(1), 'one finger'), blob2],
        photosequence: [sequence],
        photosequence_photos: [plainRow(1, T(1), { photosequence_id: 1, seqnum: 1, photo_blobid: 1 }), photo2],
      });
      await upload(tablet, 'one-step', db(blob(2, T(1), 'two vertical'), plainRow(2, T(1), { photosequence_id: 1, seqnum: 2, photo_blobid: 2 }), taskRow(1, T(1), { patient_id: 1, sequence_description: 't1' })));
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '2 added, 0 modified, 0 deleted, 0 preserved, 2 current');
      assert.equal(counts(await lastUploadLine(w, 'photosequence_photos')), '2 added, 0 modified, 0 deleted, 0 preserved, 2 current');
      await upload(tablet, 'one-step', db(blob(2, T(2), 'two horizontal'), plainRow(2, T(2), { photosequence_id: 1, seqnum: 2, photo_blobid: 2, description: 'p2' }), taskRow(1, T(2), { patient_id: 1, sequence_description: 't1 edited' })));
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '1 added, 1 modified, 0 deleted, 0 preserved, 2 current');
      assert.equal(counts(await lastUploadLine(w, 'photosequence')), '1 added, 1 modified, 0 deleted, 0 preserved, 1 current');
      // The tablet finalises: every record and every predecessor moves to the batch's era.
      await upload(tablet, 'one-step', db(blob(2, T(3), 'two vertical again'), plainRow(2, T(3), { photosequence_id: 1, seqnum: 2, photo_blobid: 2, description: 'p2b' }), taskRow(1, T(2), { patient_id: 1, sequence_description: 't1 edited' }), 1), true);
      assert.equal(counts(await lastUploadLine(w, 'blobs')), '1 added, 1 modified, 0 deleted, 4 preserved, 0 current');
      assert.equal(counts(await lastUploadLine(w, 'photosequence')), '0 added, 0 modified, 0 deleted, 2 preserved, 0 current');
      assert.equal(counts(await lastUploadLine(w, 'photosequence_photos')), '1 added, 1 modified, 0 deleted, 4 preserved, 0 current');
      const blobs = (await show(w, 'blobs', { device, current: 'true' })).records;
      assert.deepEqual(blobs.map((b) => Buffer.from(String(b.theblob), 'base64').toString()).sort(), ['one finger', 'two vertical again']);
    });

    it('two uploads of one device at the same moment store each record once', async () => {
      const device = 'twins';
      const tablet = await registeredTablet(w, device);
      const second = w.tablet(device);
      await second.ok('check_upload_user_and_device');
      const data = { patient: [plainRow(1, T(1), { sex: 'F' })], gad7: [1, 2, 3, 4, 5].map((id) => taskRow(id, T(1), { patient_id: 1, q1: 1 })) };
      const replies = await Promise.all([tablet.uploadOneStep(data), second.uploadOneStep(data)]);
      assert.deepEqual(replies.map((r) => r.items.success), ['1', '1']);
      assert.equal((await show(w, 'gad7', { device })).count, 5);
      assert.equal((await show(w, 'patient', { device })).count, 1);
    });

    it('stepwise: a table emptied on the tablet is deleted and, when finalising, preserved; untouched empty tables stay clean', async () => {
      const device = 'emptied';
      const tablet = await registeredTablet(w, device);
      await upload(tablet, 'stepwise', { patient: [plainRow(1, T(1))], phq9: [taskRow(1, T(1), { patient_id: 1 })] });
      await tablet.uploadStepwise({ patient: [plainRow(1, T(1))] }, true, ['phq9', 'gad7']);
      assert.equal(counts(await lastUploadLine(w, 'phq9')), '0 added, 0 modified, 1 deleted, 1 preserved, 0 current');
      const [removed] = (await show(w, 'phq9', { device })).records;
      assert.equal(removed!._current, 0);
      assert.notEqual(removed!._era, 'NOW');
      const gad7Lines = await w.action<unknown[]>('camcops_upload_log', { organization: 'clinic', table: 'gad7' }, w.tabletUserToken, 'GET');
      assert.ok(!gad7Lines.some((l) => (l as { device?: string }).device === device), 'gad7 had nothing of this device and was not committed');
    });

    it('force-finalising from the server preserves what the tablet left, and its later move adds no duplicates', async () => {
      const device = 'forced';
      const tablet = await registeredTablet(w, device);
      const data = { patient: [plainRow(1, T(1), { sex: 'F' })], progressnote: [taskRow(4, T(1), { patient_id: 1, note: 'note 4' }), taskRow(5, T(1), { patient_id: 1 })] };
      await upload(tablet, 'one-step', data);
      const { status, body } = await w.t.call('camcops_force_finalize', { organization: 'clinic', device }, { token: w.outsiderToken });
      assert.equal(status, 403, JSON.stringify(body));
      const result = await w.action<{ preserved: Record<string, number> }>('camcops_force_finalize', { organization: 'clinic', device }, w.tabletUserToken);
      assert.deepEqual(result.preserved, { patient: 1, progressnote: 2 });
      assert.equal((await show(w, 'progressnote', { device, era: 'NOW' })).count, 0);
      const notes = (await show(w, 'progressnote', { device })).records;
      assert.ok(notes.every((r) => r._forcibly_preserved === 1 && r._current === 1));
      await upload(tablet, 'one-step', data, true);
      assert.equal((await show(w, 'progressnote', { device })).count, 2);
      assert.equal((await lastUploadLine(w, 'progressnote')).already_preserved, 2);
    });

    it('a crash between start_upload and end_upload leaves nothing current; the next start_upload rolls it back', async () => {
      const device = 'crashy';
      const tablet = await registeredTablet(w, device);
      await upload(tablet, 'stepwise', { gad7: [taskRow(1, T(1), { patient_id: 1, q1: 1 })], patient: [plainRow(1, T(1))] });
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('gad7', [taskRow(1, T(2), { patient_id: 1, q1: 3 }), taskRow(2, T(2), { patient_id: 1, q1: 0 })]));
      // ... the tablet crashes here.
      const during = await show(w, 'gad7', { device, current: 'true' });
      assert.deepEqual(during.records.map((r) => [r.id, r.q1]), [[1, 1]]);
      assert.equal((await show(w, 'gad7', { device })).count, 3, 'two staged additions wait');
      await tablet.ok('start_upload');
      assert.equal((await show(w, 'gad7', { device })).count, 1, 'start_upload removed the staged records');
      const [kept] = (await show(w, 'gad7', { device })).records;
      assert.equal(kept!._removal_pending, 0);
      assert.equal(kept!._successor_pk, null);
      await tablet.ok('end_upload');
      // Another user continuing the device's upload also rolls back what the first left.
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('gad7', [taskRow(7, T(3), { patient_id: 1 })]));
      const other = w.tablet(device, 'helper');
      await other.ok('upload_table', uploadTableParams('gad7', [taskRow(1, T(1), { patient_id: 1, q1: 1 })]));
      await other.ok('end_upload');
      assert.deepEqual((await show(w, 'gad7', { device })).records.map((r) => r.id), [1]);
    });

    it('inspect reports an upload left open for over a day and its repair rolls it back', async () => {
      const device = 'abandoned';
      const tablet = await registeredTablet(w, device);
      await upload(tablet, 'one-step', { patient: [plainRow(1, T(1))], gad7: [taskRow(1, T(1), { patient_id: 1 })] });
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('gad7', [taskRow(1, T(1), { patient_id: 1 }), taskRow(2, T(2), { patient_id: 1 })]));
      // Time travel: the batch started two days ago.
      await w.t.host.services.get(DatabaseId).sequelize.query(`UPDATE camcops_devices SET ongoing_upload_batch_utc = '${new Date(Date.now() - 48 * 3_600_000).toISOString()}' WHERE name = '${device}'`);
      const inspect = async (...args: string[]) => {
        const run = await runCli(['--config', w.t.configFile, 'inspect', '--json', '--only', 'camcops', ...args]);
        return JSON.parse(run.stdout) as { checks: Array<{ area: string; findings: Array<{ severity: string; title: string; details?: string[]; repair?: { status?: string } }> }> };
      };
      const findings = (await inspect()).checks.filter((c) => c.area === 'camcops').flatMap((c) => c.findings);
      const stale = findings.find((f) => /left an upload unfinished/.test(f.title));
      assert.ok(stale, JSON.stringify(findings));
      assert.ok(stale.details?.some((d) => d.startsWith(`${device}:`)));
      assert.equal((await show(w, 'gad7', { device })).count, 2, 'one staged addition waits');
      const repaired = (await inspect('--repair', '--yes')).checks.flatMap((c) => c.findings).find((f) => /left an upload unfinished/.test(f.title));
      assert.equal(repaired?.repair?.status, 'applied');
      assert.equal((await show(w, 'gad7', { device })).count, 1, 'the staged record was rolled back');
      assert.ok(!(await inspect()).checks.flatMap((c) => c.findings).some((f) => /left an upload unfinished/.test(f.title)));
    });

    it('refuses values unfit for their columns, unknown tables and fields, reserved fields and bad values, applying nothing', async () => {
      const device = 'strict';
      const tablet = await registeredTablet(w, device);
      const good = taskRow(1, T(1), { patient_id: 1, q1: 1 });
      await upload(tablet, 'one-step', { patient: [plainRow(1, T(1))], phq9: [good] });
      const before = (await show(w, 'phq9', { device })).count;
      const refusedOneStep = async (tables: Record<string, Row[]>, pattern: RegExp, tamper?: (params: Record<string, string>) => void): Promise<void> => {
        const params = oneStepParams({ patient: [plainRow(1, T(1))], ...tables }, false);
        tamper?.(params);
        const reply = await tablet.send('upload_entire_database', params);
        assert.equal(reply.items.success, '0');
        assert.match(reply.items.error ?? '', pattern);
      };
      await refusedOneStep({ phq9: [good, { ...taskRow(2, T(1), { patient_id: 1 }), _pk: 5 }] }, /Reserved field name for table 'phq9': '_pk'/);
      await refusedOneStep({ phq9: [good, { ...taskRow(2, T(1), { patient_id: 1 }), _era: 'x' }] }, /Reserved field name for table 'phq9': '_era'/);
      await refusedOneStep({ phq9: [good, taskRow(2, T(1), { patient_id: 1, shoe_size: 9 })] }, /Invalid field name for table 'phq9': 'shoe_size'/);
      await refusedOneStep({ phq9: [good, taskRow(2, T(1), { patient_id: 1, q1: 7 })] }, /record 1, field 'q1': is above the maximum 3/);
      await refusedOneStep({ phq9: [good, taskRow(2, T(1), { patient_id: 1, q1: 'two' })] }, /field 'q1': must be an integer/);
      await refusedOneStep({ coffee: [] }, /nonexistent tables: coffee/);
      await refusedOneStep({ phq9: [good, good] }, /client PK 1 was sent twice/);
      await refusedOneStep({ phq9: [good] }, /record 0, field 'q2': must be an integer/, (p) => {
        p.dbdata = p.dbdata!.replace('"q1":"1"', '"q1":"1","q2":"two"');
      });
      await refusedOneStep({}, /Bad JSON for key 'dbdata'/, (p) => {
        p.dbdata = '{"patient": [';
      });
      await refusedOneStep({ future_task: [] }, /version 2\.4\.12 is less than the version \(2\.9\.0\) required to handle table future_task/);
      // The same refusals on the stepwise path.
      await tablet.ok('start_upload');
      const stepwise = async (params: Record<string, string>, pattern: RegExp): Promise<void> => assert.match(await tablet.refused('upload_table', params), pattern);
      await stepwise(uploadTableParams('phq9', [{ ...good, _successor_pk: 1 }]), /Reserved field name for table 'phq9': '_successor_pk'/);
      await stepwise(uploadTableParams('phq9', [{ ...good, colour: 'red' }]), /Invalid field name for table 'phq9': 'colour'/);
      await stepwise(uploadTableParams('no_such_task', [good]), /Invalid client table name: no_such_task/);
      await stepwise(uploadTableParams('future_task', [good]), /required to handle table future_task/);
      await stepwise({ ...uploadTableParams('phq9', [good]), record0: "1,'2026-11-01T10:00:00.000+00:00',0,'2026-01-01T09:00:00.000Z',1,'unterminated" }, /record 0, field 'q1': must be an integer/);
      await stepwise({ ...uploadTableParams('phq9', [good]), record0: "1,'x',0" }, /3 value\(s\) for 6 field\(s\)/);
      await stepwise({ ...uploadTableParams('phq9', [good]), nrecords: 'many' }, /nrecords is not a valid integer/);
      await tablet.ok('end_upload');
      assert.equal((await show(w, 'phq9', { device })).count, before, 'nothing was applied');
      assert.equal((await tablet.ok('upload_table', uploadTableParams('storedvars', [good]))).result, 'Ignoring table storedvars');
    });

    it('a request that fails part-way in the database leaves nothing applied and answers 503 without details', async () => {
      const device = 'faulty';
      const tablet = await registeredTablet(w, device);
      // Fault injection: the database refuses one value, after patient rows were already written.
      const fault = kind === 'postgres'
        ? `ALTER TABLE camcops_client_progressnote ADD CONSTRAINT no_boom CHECK (location IS DISTINCT FROM 'boom')`
        : `CREATE TRIGGER no_boom BEFORE INSERT ON camcops_client_progressnote WHEN NEW.location = 'boom' BEGIN SELECT RAISE(ABORT, 'boom refused'); END`;
      const db = w.t.host.services.get(DatabaseId);
      await db.sequelize.query(fault);
      try {
        const reply = await tablet.uploadOneStep({ patient: [plainRow(1, T(1), { surname: 'Secretname' })], progressnote: [taskRow(1, T(1), { patient_id: 1, location: 'boom' })] });
        assert.equal(reply.status, 503);
        assert.equal(reply.items.success, '0');
        assert.match(reply.items.error ?? '', /^Database Unavailable: .*request id/);
        assert.ok(!/boom|Secretname/.test(reply.items.error!));
        assert.equal((await show(w, 'patient', { device })).count, 0, 'the patient written before the failure was rolled back');
        assert.ok(!JSON.stringify(w.t.logs).includes('Secretname'));
        assert.match(await tablet.refused('upload_table', uploadTableParams('progressnote', [taskRow(1, T(1), { patient_id: 1, location: 'a\u0000b' })])), /contains a NUL character/);
      } finally {
        await db.sequelize.query(kind === 'postgres' ? 'ALTER TABLE camcops_client_progressnote DROP CONSTRAINT no_boom' : 'DROP TRIGGER no_boom');
      }
    });

    it('enforces ID policies in validate_patients and on the upload itself, never echoing identifiers', async () => {
      const device = 'policy';
      const tablet = await registeredTablet(w, device);
      const { status } = await w.t.call('camcops_group_policy_set', { organization: 'clinic', upload_policy: 'sex AND idnum9' }, { token: w.tabletUserToken });
      assert.equal(status, 400, 'policies may name only defined ID number types');
      await w.action('camcops_group_policy_set', { organization: 'clinic', upload_policy: 'sex AND ((idnum1 AND dob) OR idnum2)', finalize_policy: 'sex AND idnum1' }, w.tabletUserToken);
      try {
        assert.equal((await tablet.ok('get_id_info')).idPolicyUpload, 'sex AND ((idnum1 AND dob) OR idnum2)');
        const validate = (patients: object[]) => ({ patient_info: JSON.stringify(patients) });
        assert.equal((await tablet.ok('validate_patients', validate([{ sex: 'F', idnum2: 1234, finalizing: false }]))).result, 'Success');
        assert.match(await tablet.refused('validate_patients', validate([{ sex: 'F', idnum2: 1234, finalizing: true }])), /does not meet the finalise policy "sex AND idnum1"/);
        const badNhs = await tablet.refused('validate_patients', validate([{ sex: 'F', dob: '1950-01-01', idnum1: 9434765918, finalizing: false }]));
        assert.match(badNhs, /not a valid NHS number/);
        assert.ok(!badNhs.includes('9434765918'));
        assert.match(await tablet.refused('validate_patients', validate([{ sex: 'F', shoe: 'x', finalizing: false }])), /unknown JSON key: 'shoe'/);
        const reply = await tablet.uploadOneStep({ patient: [plainRow(1, T(1), { forename: 'Secretname', dob: '1950-01-01' })], patient_idnum: [plainRow(1, T(1), { patient_id: 1, which_idnum: 1, idnum_value: NHS })] });
        assert.match(reply.items.error ?? '', /patient record 1 does not meet the upload policy/);
        assert.ok(!reply.items.error!.includes('Secretname') && !reply.items.error!.includes(String(NHS)));
        const wrongNhs = await tablet.uploadOneStep({ patient: [plainRow(1, T(1), { sex: 'F', dob: '1950-01-01' })], patient_idnum: [plainRow(1, T(1), { patient_id: 1, which_idnum: 1, idnum_value: 9434765918 })] });
        assert.match(wrongNhs.items.error ?? '', /ID number of type 1 \(NHS\) is invalid/);
        assert.match((await tablet.uploadOneStep({ patient: [plainRow(1, T(1), { sex: 'F' })], patient_idnum: [plainRow(1, T(1), { patient_id: 1, which_idnum: 2, idnum_value: 77 })] }, true)).items.error ?? '', /finalise policy/);
        assert.equal((await show(w, 'patient', { device })).count, 0, 'refused uploads applied nothing');
        // Stepwise: the policy is checked on the state end_upload would commit.
        await tablet.ok('start_upload');
        await tablet.ok('upload_table', uploadTableParams('patient', [plainRow(1, T(1), { sex: 'M' })]));
        assert.match(await tablet.refused('end_upload'), /does not meet the upload policy/);
        await tablet.ok('upload_table', uploadTableParams('patient_idnum', [plainRow(1, T(1), { patient_id: 1, which_idnum: 2, idnum_value: 42 })]));
        await tablet.ok('end_upload');
        assert.equal((await show(w, 'patient', { device, current: 'true' })).count, 1);
        assert.ok(!JSON.stringify(w.t.logs).includes('Secretname'), 'patient details never reach the logs');
      } finally {
        await w.action('camcops_group_policy_set', { organization: 'clinic', upload_policy: '', finalize_policy: '' }, w.tabletUserToken);
      }
    });

    it('shows records only to members of the organisation', async () => {
      const { status } = await w.t.call('camcops_table_show', { organization: 'clinic', table: 'phq9' }, { token: w.outsiderToken, method: 'GET' });
      assert.equal(status, 403);
      const missing = await w.t.call('camcops_table_show', { organization: 'clinic', table: 'nope' }, { token: w.tabletUserToken, method: 'GET' });
      assert.equal(missing.status, 404);
    });
  });
}
