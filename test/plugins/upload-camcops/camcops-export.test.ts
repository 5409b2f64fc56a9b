// Export of a group's CamCOPS records into a dataset by a job: one CSV per client table and
// a JSON manifest, stored through core's resource intake and downloadable over HTTP.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseKinds } from '../../helpers/test-databases.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import { registeredTablet, startCamcopsWorld, type CamcopsWorld } from './camcops-test-setup.js';
import { plainRow, taskRow } from './fake-tablet.js';

for (const kind of databaseKinds()) {
  describe(`upload-camcops export (${kind})`, () => {
    let w: CamcopsWorld;
    before(async () => {
      w = await startCamcopsWorld(kind, '', [memoryDepotPlugin(new MemoryDepot())]);
    });
    after(async () => {
      await w.t.close();
    });

    it('writes one CSV per table and a manifest into a draft dataset of the group', async () => {
      const tablet = await registeredTablet(w, 'exporter');
      const reply = await tablet.uploadOneStep({
        patient: [plainRow(1, '2026-11-01T10:00:00Z', { forename: 'Ada, "the first"', sex: 'F' })],
        phq9: [taskRow(1, '2026-11-01T10:00:00Z', { patient_id: 1, q1: 3 }), taskRow(2, '2026-11-01T10:00:00Z', { patient_id: 1, q1: 0 })],
        blobs: [plainRow(1, '2026-11-01T10:00:00Z', { theblob: Buffer.from('png bytes') })],
      });
      assert.equal(reply.items.success, '1', reply.items.error);
      const phq9Rows = await w.action<{ records: Array<{ _pk: number; id: number }> }>('camcops_table_show', { organization: 'clinic', table: 'phq9' }, w.tabletUserToken, 'GET');
      const first = phq9Rows.records.find((r) => r.id === 1)!;
      await w.action('camcops_special_note_add', { organization: 'clinic', table: 'phq9', pk: first._pk, note: 'Scored by hand, "checked"' }, w.tabletUserToken);
      await w.action('package_create', { name: 'camcops-export', owner_org: 'clinic', state: 'draft' }, w.tabletUserToken);
      const refused = await w.t.call('camcops_export_start', { dataset: 'camcops-export' }, { token: w.outsiderToken });
      assert.equal(refused.status, 404, 'an outsider cannot even see the draft dataset');
      const { job_id: jobId } = await w.action<{ job_id: string }>('camcops_export_start', { dataset: 'camcops-export' }, w.tabletUserToken);
      const worker = w.t.host.jobWorker();
      await worker.start();
      try {
        const queue = w.t.host.services.get(JobQueueId);
        let job = await queue.get(jobId);
        for (let i = 0; i < 200 && (job.state === 'queued' || job.state === 'running'); i++) {
          await sleep(50);
          job = await queue.get(jobId);
        }
        assert.equal(job.state, 'succeeded', job.lastError ?? '');
      } finally {
        await worker.stop(1000);
      }
      const dataset = await w.action<{ id: string; resources: Array<{ id: string; name: string; size: number }> }>('package_show', { id: 'camcops-export' }, w.tabletUserToken, 'GET');
      const names = dataset.resources.map((r) => r.name);
      for (const name of ['camcops_patient.csv', 'camcops_phq9.csv', 'camcops_blobs.csv', 'camcops_progressnote.csv', 'camcops_special_notes.csv', 'camcops_manifest.json']) assert.ok(names.includes(name), name);
      const download = async (name: string): Promise<string> => {
        const resource = dataset.resources.find((r) => r.name === name)!;
        const response = await w.t.app.request(`/dataset/${dataset.id}/resource/${resource.id}/download/${name}`, { headers: { authorization: w.tabletUserToken } });
        assert.equal(response.status, 200);
        return response.text();
      };
      const manifest = JSON.parse(await download('camcops_manifest.json')) as { tables: Array<{ table: string; rows: number; columns: Array<{ name: string }> }>; special_notes: { resource: string; rows: number } };
      assert.equal(manifest.special_notes.rows, 1);
      const notes = (await download('camcops_special_notes.csv')).trim().split('\r\n');
      assert.equal(notes[0], 'note_id,basetable,task_id,device,era,note_at,user,note');
      assert.match(notes[1]!, /^\d+,phq9,1,exporter,NOW,[^,]+,nurse,"Scored by hand, ""checked"""$/);
      assert.equal(manifest.tables.find((t) => t.table === 'phq9')!.rows, 2);
      assert.equal(manifest.tables.find((t) => t.table === 'progressnote')!.rows, 0);
      const phq9 = (await download('camcops_phq9.csv')).trim().split('\r\n');
      assert.equal(phq9.length, 3);
      const header = phq9[0]!.split(',');
      assert.ok(header.includes('_era') && header.includes('q1'));
      assert.equal(phq9[1]!.split(',')[header.indexOf('q1')], '3');
      assert.match(await download('camcops_patient.csv'), /"Ada, ""the first"""/);
      assert.match(await download('camcops_blobs.csv'), new RegExp(Buffer.from('png bytes').toString('base64')));
    });
  });
}
