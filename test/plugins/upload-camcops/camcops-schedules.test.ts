// Task schedules and intellectual-property use through HTTP, as a patient's tablet sees them:
// an admin sets the group's IP use and builds schedules, assigns one to a server patient;
// the tablet registers with the access key (ip_use_info), uploads tasks and fetches its
// schedules (get_task_schedules) with completion worked out from what it uploaded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { FakeTablet, plainRow, taskRow, uploadTableParams, type Row } from './fake-tablet.js';

const NHS = 9434765919;

interface ScheduleItem {
  table: string;
  anonymous: boolean;
  settings: Record<string, unknown>;
  due_from: string;
  due_by: string;
  complete: boolean;
  when_completed: string | null;
}
interface Schedule {
  task_schedule_name: string;
  task_schedule_items: ScheduleItem[];
}

const phq9Answers = (value: number | null): Row => Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`q${i + 1}`, value]));

for (const kind of databaseKinds()) {
  describe(`upload-camcops task schedules and IP use (${kind})`, () => {
    let w: CamcopsWorld;
    let dir: string;
    before(async () => {
      // A task whose licence prohibits commercial use, as CamCOPS's ACE-III.
      dir = mkdtempSync(join(tmpdir(), 'camcops-ip-tasks-'));
      writeFileSync(join(dir, 'ace3.json'), JSON.stringify({ tablename: 'ace3', minimum_client_version: '2.0.0', patient: true, prohibits: ['commercial'], schema: { type: 'object', properties: { score: { type: ['integer', 'null'] } } } }));
      w = await startCamcopsWorld(kind, `[plugin:upload-camcops]\ntask_dirs = ${dir}\n`);
    });
    after(async () => {
      await w.t.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps IP-use flags per group, tells patient tablets, and refuses to schedule prohibited tasks', async () => {
      const { access_key: key } = await w.action<{ access_key: string; patient_id: number }>('camcops_server_patient_create', { organization: 'clinic', sex: 'F', idnums: { 1: NHS } }, w.tabletUserToken);
      const unset = await w.t.call('camcops_task_schedule_create', { organization: 'clinic', name: 'ACE', items: [{ table: 'ace3', due_from: 'P0D', due_within: 'P7D' }] }, { token: w.tabletUserToken });
      assert.equal(unset.status, 400);
      assert.match(JSON.stringify(unset.body), /no intellectual property settings/);
      const { organization_id: _org, ...shown } = await w.action<Record<string, unknown>>('camcops_group_ip_use_show', { organization: 'clinic' }, w.tabletUserToken, 'GET');
      assert.deepEqual(shown, { configured: false, clinical: false, commercial: false, educational: false, research: false });

      const denied = await w.t.call('camcops_group_ip_use_set', { organization: 'clinic', clinical: true }, { token: w.outsiderToken });
      assert.equal(denied.status, 403);
      await w.action('camcops_group_ip_use_set', { organization: 'clinic', clinical: true, research: true }, w.tabletUserToken);
      const reply = await new FakeTablet(w.t.app, 'ip-tablet', undefined, undefined).ok('register_patient', { patient_proquint: key });
      assert.equal(reply.ip_use_info, '{"commercial":0,"clinical":1,"educational":0,"research":1}', 'CamCOPS\'s keys, as 0/1');

      // Not prohibited in a clinical and research group: may be scheduled.
      await w.action('camcops_task_schedule_create', { organization: 'clinic', name: 'ACE', items: [{ table: 'ace3', due_from: 'P0D', due_within: 'P7D' }] }, w.tabletUserToken);
      await w.action('camcops_group_ip_use_set', { organization: 'clinic', clinical: true, commercial: true }, w.tabletUserToken);
      const prohibited = await w.t.call('camcops_task_schedule_create', { organization: 'clinic', name: 'ACE again', items: [{ table: 'ace3', due_from: 'P0D', due_within: 'P7D' }] }, { token: w.tabletUserToken });
      assert.equal(prohibited.status, 400);
      assert.match(JSON.stringify(prohibited.body), /prohibits commercial use/);
      const again = await new FakeTablet(w.t.app, 'ip-tablet-2', undefined, undefined).ok('register_patient', { patient_proquint: key });
      assert.deepEqual(JSON.parse(again.ip_use_info!), { commercial: 1, clinical: 1, educational: 0, research: 0 });
      await w.action('camcops_group_ip_use_set', { organization: 'clinic', clinical: true }, w.tabletUserToken);
    });

    it('validates schedule items: task tables only, ISO durations, a positive window', async () => {
      const bad = async (item: Record<string, unknown>, pattern: RegExp): Promise<void> => {
        const r = await w.t.call('camcops_task_schedule_create', { organization: 'clinic', name: 'bad', items: [item] }, { token: w.tabletUserToken });
        assert.equal(r.status, 400, JSON.stringify(r.body));
        assert.match(JSON.stringify(r.body), pattern);
      };
      await bad({ table: 'patient', due_from: 'P0D', due_within: 'P7D' }, /not a task table/);
      await bad({ table: 'phq9', due_from: 'seven days', due_within: 'P7D' }, /not an ISO 8601 duration/);
      await bad({ table: 'phq9', due_from: 'P1M', due_within: 'P7D' }, /not an ISO 8601 duration/);
      await bad({ table: 'phq9', due_from: 'P7D', due_by: 'P7D' }, /positive time/);
      const outsider = await w.t.call('camcops_task_schedule_create', { organization: 'clinic', name: 'x', items: [] }, { token: w.outsiderToken });
      assert.equal(outsider.status, 403);
    });

    it('answers get_task_schedules in CamCOPS\'s JSON, with completion from the patient\'s uploaded tasks', async () => {
      const { access_key: key, patient_id: patientId } = await w.action<{ access_key: string; patient_id: number }>('camcops_server_patient_create', { organization: 'clinic', forename: 'Ada', sex: 'F', idnums: { 1: NHS } }, w.tabletUserToken);
      const created = await w.action<{ id: number; items: Array<{ table: string; due_from: string; due_by: string; due_within: string }> }>('camcops_task_schedule_create', {
        organization: 'clinic',
        name: 'Depression follow-up',
        items: [
          { table: 'phq9', due_from: 'P30D', due_within: 'P7D' },
          { table: 'gad7', due_from: 'P0D', due_within: 'P8D' },
          { table: 'phq9', due_from: 'P0D', due_within: 'P1W' },
          { table: 'ref_satis_gen', due_from: 'P0D', due_by: 'P10D' },
        ],
      }, w.tabletUserToken);
      assert.deepEqual(created.items[0], { table: 'phq9', due_from: 'P30D', due_by: 'P37D', due_within: 'P7D' });
      await w.action('camcops_patient_schedule_assign', { organization: 'clinic', patient_id: patientId, schedule_id: created.id, start_datetime: '2026-03-01T00:00:00Z', settings: { phq9: { phq9_key: 'phq9_value' } } }, w.tabletUserToken);
      const listed = await w.action<Array<{ id: number; name: string; patients: number; items: unknown[] }>>('camcops_task_schedule_list', { organization: 'clinic' }, w.tabletUserToken, 'GET');
      const mine = listed.find((s) => s.id === created.id)!;
      assert.equal(mine.patients, 1);
      assert.equal(mine.items.length, 4);

      const reply = await new FakeTablet(w.t.app, 'sched-tablet', undefined, undefined).ok('register_patient', { patient_proquint: key });
      const tablet = w.tablet('sched-tablet', reply.user, reply.password);
      await tablet.ok('register');
      const upload = await tablet.uploadOneStep({
        patient: [plainRow(1, '2026-03-02T10:00:00Z', { forename: 'Ada', sex: 'F' })],
        patient_idnum: [plainRow(1, '2026-03-02T10:00:00Z', { patient_id: 1, which_idnum: 1, idnum_value: NHS })],
        // Complete, inside the first PHQ-9 window (1-8 March); when_created in another offset.
        phq9: [taskRow(1, '2026-03-02T11:30:00+01:00', { patient_id: 1, when_created: '2026-03-02T11:00:00+01:00', ...phq9Answers(1) })],
        // Incomplete GAD-7 in its window.
        gad7: [taskRow(1, '2026-03-03T10:00:00Z', { patient_id: 1, when_created: '2026-03-03T10:00:00Z', q1: 2 })],
      });
      assert.equal(upload.items.success, '1', upload.items.error);

      const schedules = JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[];
      const s = schedules.find((x) => x.task_schedule_name === 'Depression follow-up')!;
      assert.ok(s, JSON.stringify(schedules));
      assert.deepEqual(s.task_schedule_items.map((i) => i.table), ['phq9', 'gad7', 'ref_satis_gen', 'phq9'], 'ordered by due_from, then due_by');
      const [phq9First, gad7, refSatis, phq9Second] = s.task_schedule_items as [ScheduleItem, ScheduleItem, ScheduleItem, ScheduleItem];
      assert.deepEqual(phq9First, { table: 'phq9', anonymous: false, settings: { phq9_key: 'phq9_value' }, due_from: '2026-03-01T00:00:00Z', due_by: '2026-03-08T00:00:00Z', complete: true, when_completed: '2026-03-02T10:30:00Z' });
      assert.deepEqual([gad7.due_by, gad7.complete, gad7.settings, gad7.when_completed], ['2026-03-09T00:00:00Z', false, {}, null]);
      assert.deepEqual([refSatis.anonymous, refSatis.complete, refSatis.due_by], [true, false, '2026-03-11T00:00:00Z']);
      assert.deepEqual([phq9Second.due_from, phq9Second.due_by, phq9Second.complete], ['2026-03-31T00:00:00Z', '2026-04-07T00:00:00Z', false]);

      // The tablet edits the PHQ-9 so that it is incomplete again (stepwise this time).
      await tablet.ok('start_upload');
      await tablet.ok('upload_table', uploadTableParams('phq9', [taskRow(1, '2026-03-04T09:00:00Z', { patient_id: 1, when_created: '2026-03-02T11:00:00+01:00', ...phq9Answers(1), q4: null })]));
      const midway = JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[];
      assert.equal(midway.find((x) => x.task_schedule_name === 'Depression follow-up')!.task_schedule_items[0]!.complete, true, 'staged changes do not count until end_upload');
      await tablet.ok('end_upload');
      const after = JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[];
      assert.equal(after.find((x) => x.task_schedule_name === 'Depression follow-up')!.task_schedule_items[0]!.complete, false);
    });

    it('starts a schedule without a start date when the tablet first fetches it, and keeps that date', async () => {
      const { access_key: key, patient_id: patientId } = await w.action<{ access_key: string; patient_id: number }>('camcops_server_patient_create', { organization: 'clinic', sex: 'M', idnums: { 2: 12345 } }, w.tabletUserToken);
      const { id } = await w.action<{ id: number }>('camcops_task_schedule_create', { organization: 'clinic', name: 'Open-ended', items: [{ table: 'gad7', due_from: 'P1D', due_within: 'P7D' }] }, w.tabletUserToken);
      await w.action('camcops_patient_schedule_assign', { organization: 'clinic', patient_id: patientId, schedule_id: id }, w.tabletUserToken);
      const reply = await new FakeTablet(w.t.app, 'open-tablet', undefined, undefined).ok('register_patient', { patient_proquint: key });
      const tablet = w.tablet('open-tablet', reply.user, reply.password);
      const first = JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[];
      const second = JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[];
      assert.equal(first.length, 1);
      assert.deepEqual(second, first);
      const item = first[0]!.task_schedule_items[0]!;
      assert.equal(Date.parse(item.due_by) - Date.parse(item.due_from), 7 * 86_400_000);
      assert.match(item.due_from, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    });

    it('leaves tasks the group\'s IP use now prohibits out of get_task_schedules, and deletes schedules', async () => {
      const { access_key: key, patient_id: patientId } = await w.action<{ access_key: string; patient_id: number }>('camcops_server_patient_create', { organization: 'clinic', sex: 'F', idnums: { 1: NHS } }, w.tabletUserToken);
      const { id } = await w.action<{ id: number }>('camcops_task_schedule_create', { organization: 'clinic', name: 'Cognition', items: [{ table: 'ace3', due_from: 'P0D', due_within: 'P7D' }, { table: 'phq9', due_from: 'P0D', due_within: 'P7D' }] }, w.tabletUserToken);
      await w.action('camcops_patient_schedule_assign', { organization: 'clinic', patient_id: patientId, schedule_id: id, start_datetime: '2026-05-01' }, w.tabletUserToken);
      const reply = await new FakeTablet(w.t.app, 'cog-tablet', undefined, undefined).ok('register_patient', { patient_proquint: key });
      const tablet = w.tablet('cog-tablet', reply.user, reply.password);
      const tables = async (): Promise<string[]> => (JSON.parse((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules!) as Schedule[])[0]!.task_schedule_items.map((i) => i.table);
      assert.deepEqual(await tables(), ['ace3', 'phq9']);
      await w.action('camcops_group_ip_use_set', { organization: 'clinic', commercial: true }, w.tabletUserToken);
      assert.deepEqual(await tables(), ['phq9'], 'not offered in a commercial context');
      await w.action('camcops_group_ip_use_set', { organization: 'clinic', clinical: true }, w.tabletUserToken);

      const outsider = await w.t.call('camcops_task_schedule_delete', { organization: 'clinic', schedule_id: id }, { token: w.outsiderToken });
      assert.equal(outsider.status, 403);
      await w.action('camcops_task_schedule_delete', { organization: 'clinic', schedule_id: id }, w.tabletUserToken);
      assert.equal((await tablet.ok('get_task_schedules', { patient_proquint: key })).task_schedules, '[]');
    });
  });
}
