// Special notes and the server's task index, driven through HTTP as tablets and server users
// drive them: notes attached to tasks and patients, shown with their records, following them
// when preserved and hidden on request; the index kept in step with one-step and stepwise
// uploads and force-finalising, and rebuilt by inspect when it disagrees with the tables.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { ApiTokenServiceId, AuditLogId, DatabaseId, UserServiceId } from '../../../core/services/service-ids.js';
import { registeredTablet, show, startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { plainRow, taskRow, uploadTableParams, type FakeTablet } from './fake-tablet.js';

interface IndexedTask {
  table: string;
  task_pk: number;
  patient_pk: number | null;
  when_created: string;
  when_created_utc: string;
  device: string;
  era: string;
  complete: boolean;
}
interface Note {
  note_id: number;
  note_at: string;
  user: string | null;
  note: string;
}

for (const kind of databaseKinds()) {
  describe(`upload-camcops special notes and task index (${kind})`, () => {
    let w: CamcopsWorld;
    let editorToken: string;
    before(async () => {
      w = await startCamcopsWorld(kind);
      const helper = await w.t.host.services.get(UserServiceId).find('helper');
      editorToken = (await w.t.host.services.get(ApiTokenServiceId).create(helper!, 'test')).token;
    });
    after(async () => {
      await w.t.close();
    });

    const indexOf = async (filters: Record<string, unknown>): Promise<{ count: number; tasks: IndexedTask[] }> =>
      w.action('camcops_task_index_list', { organization: 'clinic', ...filters }, w.tabletUserToken, 'GET');

    async function uploadPatientWithTasks(tablet: FakeTablet): Promise<void> {
      const reply = await tablet.uploadOneStep({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { forename: 'Ada', sex: 'F' })],
        progressnote: [
          taskRow(1, '2026-11-01T10:00:00Z', { patient_id: 1, location: 'loc1', when_created: '2026-11-01T09:00:00Z' }),
          taskRow(2, '2026-11-01T10:00:00Z', { patient_id: 1, location: 'loc2', note: 'note2', when_created: '2026-11-01T09:30:00Z' }),
        ],
        ref_satis_gen: [taskRow(1, '2026-11-01T10:00:00Z', { rating: 4, when_created: '2026-11-01T08:00:00Z' })],
      });
      assert.equal(reply.items.success, '1', reply.items.error);
    }

    it('indexes current tasks on a one-step upload: table, server PK, patient, creation time, device, era, completeness', async () => {
      const tablet = await registeredTablet(w, 'idx-1');
      await uploadPatientWithTasks(tablet);
      const [patient] = (await show(w, 'patient', { device: 'idx-1' })).records;
      const { count, tasks } = await indexOf({ device: 'idx-1' });
      assert.equal(count, 3);
      assert.deepEqual(tasks.map((t) => [t.table, t.when_created_utc, t.complete, t.era, t.device]), [
        ['progressnote', '2026-11-01T09:30:00.000Z', true, 'NOW', 'idx-1'],
        ['progressnote', '2026-11-01T09:00:00.000Z', false, 'NOW', 'idx-1'],
        ['ref_satis_gen', '2026-11-01T08:00:00.000Z', true, 'NOW', 'idx-1'],
      ]);
      assert.deepEqual(tasks.map((t) => t.patient_pk), [patient!._pk, patient!._pk, null], 'anonymous tasks have no patient');
      const notes = await show(w, 'progressnote', { device: 'idx-1', current: true });
      assert.deepEqual(new Set(tasks.filter((t) => t.table === 'progressnote').map((t) => t.task_pk)), new Set(notes.records.map((r) => r._pk)));
      assert.equal((await indexOf({ device: 'idx-1', table: 'progressnote', patient_pk: patient!._pk })).count, 2);
      assert.equal((await indexOf({ device: 'idx-1', table: 'patient' })).count, 0, 'only task tables are indexed');
      const outsider = await w.t.call('camcops_task_index_list', { organization: 'clinic' }, { token: w.outsiderToken, method: 'GET' });
      assert.equal(outsider.status, 403);
    });

    it('keeps the index in step with stepwise uploads only at end_upload: modification, deletion, preservation', async () => {
      const tablet = await registeredTablet(w, 'idx-2');
      await tablet.uploadStepwise({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { sex: 'M' })],
        progressnote: [
          // upload_table sends the fields of the first row: every row names the same ones.
          taskRow(1, '2026-11-01T10:00:00Z', { patient_id: 1, location: 'loc1', note: null }),
          taskRow(2, '2026-11-01T10:00:00Z', { patient_id: 1, location: null, note: 'note2' }),
          taskRow(3, '2026-11-01T10:00:00Z', { patient_id: 1, location: null, note: 'note3' }),
        ],
      });
      assert.deepEqual((await indexOf({ device: 'idx-2' })).tasks.map((t) => t.complete).sort(), [false, true, true]);
      assert.equal((await indexOf({ device: 'idx-2' })).count, 3);
      // Modify note 1 (now complete), delete note 2; nothing changes in the index until end_upload.
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('progressnote', [
        taskRow(1, '2026-11-02T10:00:00Z', { patient_id: 1, location: 'loc1', note: 'note1' }),
        taskRow(3, '2026-11-01T10:00:00Z', { patient_id: 1, note: 'note3' }),
      ]));
      const before = await indexOf({ device: 'idx-2' });
      assert.equal(before.count, 3);
      await tablet.ok('end_upload');
      const after = await indexOf({ device: 'idx-2' });
      assert.equal(after.count, 2);
      assert.ok(after.tasks.every((t) => t.complete), JSON.stringify(after.tasks));
      const current = await show(w, 'progressnote', { device: 'idx-2', current: true });
      assert.deepEqual(new Set(after.tasks.map((t) => t.task_pk)), new Set(current.records.map((r) => r._pk)));
      // A preserving upload moves the entries to the batch's era.
      await tablet.uploadStepwise({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { sex: 'M' })],
        progressnote: [taskRow(1, '2026-11-02T10:00:00Z', { patient_id: 1, location: 'loc1', note: 'note1' }), taskRow(3, '2026-11-01T10:00:00Z', { patient_id: 1, note: 'note3' })],
      }, true);
      const preserved = await indexOf({ device: 'idx-2' });
      assert.equal(preserved.count, 2);
      assert.ok(preserved.tasks.every((t) => t.era !== 'NOW'));
      assert.equal((await indexOf({ device: 'idx-2', era: 'NOW' })).count, 0);
      const [patient] = (await show(w, 'patient', { device: 'idx-2', current: true })).records;
      assert.ok(preserved.tasks.every((t) => t.patient_pk === patient!._pk), 'entries point at the preserved patient row');
    });

    it('attaches special notes to a task, shows them with every version of it, and follows preservation', async () => {
      const tablet = await registeredTablet(w, 'note-1');
      await uploadPatientWithTasks(tablet);
      const [task] = (await show(w, 'progressnote', { device: 'note-1', current: true })).records.filter((r) => r.id === 1);
      const refused = await w.t.call('camcops_special_note_add', { organization: 'clinic', table: 'progressnote', pk: task!._pk, note: 'x' }, { token: editorToken });
      assert.equal(refused.status, 403, 'needs note_role (admin by default)');
      const outsider = await w.t.call('camcops_special_note_add', { organization: 'clinic', table: 'progressnote', pk: task!._pk, note: 'x' }, { token: w.outsiderToken });
      assert.equal(outsider.status, 403);
      const blobs = await w.t.call('camcops_special_note_add', { organization: 'clinic', table: 'blobs', pk: 1, note: 'x' }, { token: w.tabletUserToken });
      assert.equal(blobs.status, 400);
      const added = await w.action<{ note_id: number; era: string }>('camcops_special_note_add', { organization: 'clinic', table: 'progressnote', pk: task!._pk, note: 'Entered for the wrong patient' }, w.tabletUserToken);
      assert.equal(added.era, 'NOW');
      const [event] = await w.t.host.services.get(AuditLogId).list({ action: 'camcops.special_note_add', objectType: 'camcops_special_note', objectId: String(added.note_id), limit: 1 });
      assert.deepEqual([event!.details.table, event!.details.pk], ['progressnote', task!._pk]);
      assert.ok(!JSON.stringify(event!.details).includes('wrong patient'), 'the audit line does not quote the note');

      // The tablet modifies the note: the new version carries the note too.
      const modified = await tablet.uploadOneStep({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { forename: 'Ada', sex: 'F' })],
        progressnote: [
          taskRow(1, '2026-11-03T10:00:00Z', { patient_id: 1, location: 'loc1', note: 'now written', when_created: '2026-11-01T09:00:00Z' }),
          taskRow(2, '2026-11-01T10:00:00Z', { patient_id: 1, location: 'loc2', note: 'note2', when_created: '2026-11-01T09:30:00Z' }),
        ],
        ref_satis_gen: [taskRow(1, '2026-11-01T10:00:00Z', { rating: 4, when_created: '2026-11-01T08:00:00Z' })],
      });
      assert.equal(modified.items.success, '1', modified.items.error);
      const versions = (await show(w, 'progressnote', { device: 'note-1' })).records.filter((r) => r.id === 1);
      assert.equal(versions.length, 2);
      for (const v of versions) assert.deepEqual((v._special_notes as Note[]).map((n) => [n.note, n.user]), [['Entered for the wrong patient', 'nurse']]);
      assert.deepEqual((await show(w, 'progressnote', { device: 'note-1' })).records.filter((r) => r.id === 2)[0]!._special_notes, []);

      // Preserving moves the note into the batch's era with its record.
      const preserved = await tablet.uploadOneStep({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { forename: 'Ada', sex: 'F' })],
        progressnote: [
          taskRow(1, '2026-11-03T10:00:00Z', { patient_id: 1, location: 'loc1', note: 'now written', when_created: '2026-11-01T09:00:00Z' }),
          taskRow(2, '2026-11-01T10:00:00Z', { patient_id: 1, location: 'loc2', note: 'note2', when_created: '2026-11-01T09:30:00Z' }),
        ],
        ref_satis_gen: [taskRow(1, '2026-11-01T10:00:00Z', { rating: 4, when_created: '2026-11-01T08:00:00Z' })],
      }, true);
      assert.equal(preserved.items.success, '1', preserved.items.error);
      const [kept] = (await show(w, 'progressnote', { device: 'note-1', current: true })).records.filter((r) => r.id === 1);
      assert.notEqual(kept!._era, 'NOW');
      assert.equal((kept!._special_notes as Note[]).length, 1);
      // A new record with the same client id on the tablet does not inherit it.
      const fresh = await tablet.uploadOneStep({ progressnote: [taskRow(1, '2026-11-05T10:00:00Z', { patient_id: 1, note: 'new', when_created: '2026-11-05T09:00:00Z' })] });
      assert.equal(fresh.items.success, '1', fresh.items.error);
      const [newOne] = (await show(w, 'progressnote', { device: 'note-1', era: 'NOW' })).records.filter((r) => r.id === 1);
      assert.deepEqual(newOne!._special_notes, []);

      // Hiding: not by an outsider; by the author (or an admin); then it is no longer shown.
      assert.equal((await w.t.call('camcops_special_note_hide', { organization: 'clinic', note_id: added.note_id }, { token: w.outsiderToken })).status, 403);
      await w.action('camcops_special_note_hide', { organization: 'clinic', note_id: added.note_id }, w.tabletUserToken);
      const [hidden] = (await show(w, 'progressnote', { device: 'note-1', current: true, era: kept!._era })).records.filter((r) => r.id === 1);
      assert.deepEqual(hidden!._special_notes, []);
      assert.ok(!JSON.stringify(w.t.logs).includes('Entered for the wrong patient'), 'note text stays out of the logs');
    });

    it('force-finalising moves index entries and notes on a patient to the new era', async () => {
      const tablet = await registeredTablet(w, 'ff-1');
      await uploadPatientWithTasks(tablet);
      const [patient] = (await show(w, 'patient', { device: 'ff-1' })).records;
      await w.action('camcops_special_note_add', { organization: 'clinic', table: 'patient', pk: patient!._pk, note: 'Moved away' }, w.tabletUserToken);
      const { era } = await w.action<{ era: string }>('camcops_force_finalize', { organization: 'clinic', device: 'ff-1' }, w.tabletUserToken);
      const entries = await indexOf({ device: 'ff-1' });
      assert.equal(entries.count, 3);
      assert.ok(entries.tasks.every((t) => t.era === era));
      const [finalised] = (await show(w, 'patient', { device: 'ff-1', era })).records;
      assert.deepEqual((finalised!._special_notes as Note[]).map((n) => n.note), ['Moved away']);
    });

    it('inspect finds an index that disagrees with the task tables and rebuilds it', async () => {
      const db = w.t.host.services.get(DatabaseId);
      await db.sequelize.query("DELETE FROM camcops_task_index WHERE task_table_name = 'progressnote'");
      await db.sequelize.query("UPDATE camcops_task_index SET task_is_complete = 0 WHERE task_table_name = 'ref_satis_gen'");
      const broken = await runCli(['--config', w.t.configFile, 'inspect', '--json', '--only', 'camcops']);
      assert.notEqual(broken.status, 0, broken.stderr);
      const report = JSON.parse(broken.stdout) as { checks: Array<{ name: string; findings: Array<{ severity: string; title: string; details?: string[] }> }> };
      const finding = report.checks.find((c) => c.name === 'task index')!.findings[0]!;
      assert.equal(finding.severity, 'problem');
      assert.ok(finding.details!.some((d) => /^progressnote: \d+ missing, 0 stale, 0 out of date$/.test(d)), JSON.stringify(finding.details));
      assert.ok(finding.details!.some((d) => /^ref_satis_gen: 0 missing, 0 stale, \d+ out of date$/.test(d)), JSON.stringify(finding.details));
      const repaired = await runCli(['--config', w.t.configFile, 'inspect', '--json', '--only', 'camcops', '--repair', '--yes']);
      assert.equal(repaired.status, 0, repaired.stdout + repaired.stderr);
      const clean = await runCli(['--config', w.t.configFile, 'inspect', '--json', '--only', 'camcops']);
      assert.equal(clean.status, 0, clean.stdout);
      const current = await show(w, 'progressnote', { current: true, limit: 1000 });
      assert.equal((await indexOf({ table: 'progressnote', limit: 1000 })).count, current.count);
    });
  });
}
