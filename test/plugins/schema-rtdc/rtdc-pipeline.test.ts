// The whole path of an RT-DC file: stored in depot-fs, checked by the resource.inspect job
// in a contained process, active with its metadata (or invalid with the reason), and then the
// dc dataset can be activated; its events can then be sampled (rtdc_event_sample) from the
// sample the check stored, equal to what h5py reads at the same indices.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { DatabaseId, ResourceIntakeId } from '../../../core/services/service-ids.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';
import type { Actor } from '../../../core/auth/actor.js';
import { rtdcSamplesDir } from '../../helpers/rtdc-samples.js';

const samples = rtdcSamplesDir;

for (const kind of databaseKinds()) {
  describe(`RT-DC files from upload to an active dataset (${kind})`, { skip: !existsSync(join(samples, 'calibration_beads.rtdc')) && 'the shared RT-DC samples are not beside the repository' }, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let worker: JobWorker;
    let editor: Actor;

    async function upload(dataset: string, name: string, path: string): Promise<Record<string, unknown>> {
      const resource = (await t.call('resource_create', { package_id: dataset, name }, { token: f.tokens.editor })).body.result as { id: string };
      await t.host.services.get(ResourceIntakeId).storeStream(resource.id, createReadStream(path), {}, { actor: editor, protocol: 'test' });
      for (let i = 0; i < 1200; i++) {
        const shown = (await t.call('resource_show', { id: resource.id }, { token: f.tokens.editor, method: 'GET' })).body.result as Record<string, unknown>;
        if (shown.state !== 'validating') return shown;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.fail(`${name} stayed validating`);
    }

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'schema-json', 'schema-rtdc'], extraConfig: '[jobs]\npoll_ms = 20\n[plugin:schema-rtdc]\nsample_events = 4\n' });
      f = await createApiFixtures(t);
      editor = { kind: 'user', user: { id: f.users.editor.id, name: f.users.editor.name, sysadmin: false } };
      worker = t.host.jobWorker();
      await worker.start();
    });
    after(async () => {
      await worker.stop(1000);
      await t.close();
    });

    it('activates a valid file with its metadata, and then the dataset', async () => {
      await t.call('package_create', { name: 'beads', owner_org: 'lab', type: 'dc', state: 'draft', authors: ['Ada'], license_id: 'CC0-1.0' }, { token: f.tokens.editor });
      const shown = await upload('beads', 'calibration_beads.rtdc', join(samples, 'calibration_beads.rtdc'));
      assert.equal(shown.state, 'active', JSON.stringify(shown['platform:problems']));
      assert.equal(shown['dc:experiment:event count'], 7);
      assert.equal(shown['dc:format'], 'RT-FDC');
      assert.equal((await t.call('package_patch', { id: 'beads', state: 'active' }, { token: f.tokens.editor })).status, 200);
      const width = String(shown['dc:setup:channel width']);
      const search = async (fq: string) => ((await t.call('package_search', { fq }, { method: 'GET', token: f.tokens.member })).body.result as { results: Array<{ name: string }> }).results.map((r) => r.name);
      assert.deepEqual(await search(`"res_extras_dc:setup:channel width:${width}"`), ['beads'], 'filter on extracted metadata');
      assert.deepEqual(await search(`res_extras_dc:format:RT-FDC`), ['beads']);
      assert.deepEqual(await search(`"res_extras_dc:setup:channel width:999"`), []);
    });

    it('answers event samples from what the check stored: the same events for every feature, after the file is gone, with resource_show\'s access rules', async () => {
      const beads = join(samples, 'calibration_beads.rtdc');
      const resources = (await t.call('package_show', { id: 'beads' }, { token: f.tokens.editor, method: 'GET' })).body.result as { resources: Array<Record<string, unknown> & { id: string }> };
      const id = resources.resources[0]!.id;
      assert.deepEqual(Object.keys(resources.resources[0]!).filter((k) => /sample/i.test(k) && !/^dc:[a-z_]+:/.test(k)), [], 'the event sample is not in package_show');
      // The file has 7 events and the host keeps 4 (sample_events = 4): floor(k * 7 / 4) = 0, 1, 3, 5.
      const stored = [0, 1, 3, 5];
      const statistics = Object.keys(((await t.call('resource_show', { id }, { token: f.tokens.editor, method: 'GET' })).body.result as Record<string, object>)['dc:statistics']!).sort();
      const read = spawnSync('/usr/bin/python3', ['-c', 'import sys, json, h5py\nwith h5py.File(sys.argv[1], "r") as f: print(json.dumps({k: [float(f["events"][k][i]) for i in json.loads(sys.argv[2])] for k in json.loads(sys.argv[3])}))', beads, JSON.stringify(stored), JSON.stringify(statistics)], { encoding: 'utf8' });
      assert.equal(read.status, 0, read.stderr);
      const h5py = JSON.parse(read.stdout) as Record<string, number[]>;

      // The stored file is removed: every answer below comes from the stored sample.
      const row = await t.host.services.get(DatabaseId).models.Resource.findByPk(id);
      const depot = t.host.services.get(ResourceIntakeId).depot(String(row!.get('depot')))!;
      rmSync((await depot.localPath!(String(row!.get('location'))))!);

      for (let k = 0; k < statistics.length; k += 16) {
        const features = statistics.slice(k, k + 16);
        const answer = await t.call('rtdc_event_sample', { id, features, limit: 10 }, { token: f.tokens.member });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        const result = answer.body.result as { total_events: number; count: number; events: Record<string, number[]> };
        assert.deepEqual([result.total_events, result.count], [7, 4]);
        for (const feature of features) assert.deepEqual(result.events[feature], h5py[feature], `${feature} at events ${stored.join(', ')}, as h5py reads them`);
      }
      const fewer = (await t.call('rtdc_event_sample', { id, limit: 2 }, { token: f.tokens.member })).body.result as { features: string[]; count: number; events: Record<string, number[]> };
      assert.deepEqual([fewer.features, fewer.count], [['area_cvx', 'area_msd'], 2], 'the sample has no area_um: the first two scalar features in alphabetical order');
      assert.deepEqual(fewer.events.area_cvx, [h5py.area_cvx![0], h5py.area_cvx![2]], 'a smaller answer holds some of the same events');

      const unknown = await t.call('rtdc_event_sample', { id, features: ['nonsense'] }, { token: f.tokens.member });
      assert.equal(unknown.status, 400);
      assert.match(JSON.stringify(unknown.body.error), /nonsense is not a scalar feature of this file/);
      assert.equal((await t.call('rtdc_event_sample', { id, limit: 20001 }, { token: f.tokens.member })).status, 400);
      assert.equal((await t.call('rtdc_event_sample', { id: '00000000-0000-4000-8000-000000000000' }, { token: f.tokens.member })).status, 404);

      // A private dataset: outsiders get what resource_show gives them, members still get the sample.
      // A private dataset: outsiders get what resource_show gives them, members get the sample.
      await t.call('package_create', { name: 'hidden-beads', owner_org: 'lab', type: 'dc', state: 'draft', private: true, authors: ['Ada'], license_id: 'CC0-1.0' }, { token: f.tokens.editor });
      const hidden = String((await upload('hidden-beads', 'calibration_beads.rtdc', beads)).id);
      for (const role of ['anonymous', 'other'] as const) {
        const shown = await t.call('resource_show', { id: hidden }, { token: f.tokens[role], method: 'GET' });
        const sampled = await t.call('rtdc_event_sample', { id: hidden, limit: 3 }, { token: f.tokens[role] });
        assert.notEqual(sampled.status, 200, role);
        assert.deepEqual([sampled.status, sampled.body.error], [shown.status, shown.body.error], `${role}: the same answer as resource_show`);
      }
      assert.equal((await t.call('rtdc_event_sample', { id: hidden, limit: 3 }, { token: f.tokens.member })).status, 200);

      // A resource checked before samples were kept: a clear answer, not a file read.
      await t.host.services.get(DatabaseId).sequelize.query('DELETE FROM rtdc_event_samples WHERE resource_id = ?', { replacements: [id] });
      const old = await t.call('rtdc_event_sample', { id, limit: 5 }, { token: f.tokens.member });
      assert.equal(old.status, 409);
      assert.match(JSON.stringify(old.body.error), /has no stored event sample: it was checked before samples were kept; storing its file again checks it and keeps one/);

      // Deleting a whole dataset drops its resources' samples too.
      const countSamples = async (resourceId: string): Promise<number> => {
        const [rows] = await t.host.services.get(DatabaseId).sequelize.query('SELECT COUNT(*) AS n FROM rtdc_event_samples WHERE resource_id = ?', { replacements: [resourceId] });
        return Number((rows as Array<{ n: number | string }>)[0]!.n);
      };
      assert.ok((await countSamples(hidden)) > 0, 'the private dataset\'s resource has a sample');
      assert.equal((await t.call('package_delete', { id: 'hidden-beads' }, { token: f.tokens.editor })).status, 200);
      assert.equal(await countSamples(hidden), 0, 'package_delete drops the samples of its resources');
    });

    it('marks a broken file invalid with the reason, and the dataset cannot be activated', async () => {
      await t.call('package_create', { name: 'broken', owner_org: 'lab', type: 'dc', state: 'draft', authors: ['Ada'], license_id: 'CC0-1.0' }, { token: f.tokens.editor });
      const fake = join(t.db.dir, 'fake.rtdc');
      writeFileSync(fake, 'not hdf5 at all');
      const shown = await upload('broken', 'fake.rtdc', fake);
      assert.equal(shown.state, 'invalid');
      assert.deepEqual(shown['platform:problems'], ['not an HDF5 file (no HDF5 signature)']);
      const refused = await t.call('package_patch', { id: 'broken', state: 'active' }, { token: f.tokens.editor });
      assert.equal(refused.status, 400);
      assert.match(String(refused.body.error!.state), /fake\.rtdc" has not passed its check \(it is invalid\)/);
      const sample = await t.call('rtdc_event_sample', { id: shown.id }, { token: f.tokens.editor });
      assert.equal(sample.status, 409);
      assert.match(JSON.stringify(sample.body.error), /fake\.rtdc\\" is invalid; events can be sampled once its check has passed/);
    });
  });
}
