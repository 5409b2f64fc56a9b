// schema-rtdc's dataset section (the RT-DC view) under the DatasetSection contract, with the
// metadata its own inspection extracts from dclab's test file calibration_beads.rtdc
// (DC-analysis/dclab, tests/data/), and the choices it makes: area against deformation when
// the file has both, statistics for every scalar feature, nothing for files not checked valid.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runDatasetSectionContract, sectionKit } from '../../contracts/web-pages.js';
import { rtdcViewSection } from '../../../plugins/schema-rtdc/rtdc-view-section.js';
import { runRtdcInspection } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';
import type { DatasetSectionInput } from '../../../core/api.js';
import { rtdcSamplesDir } from '../../helpers/rtdc-samples.js';

const samples = rtdcSamplesDir;
const beads = join(samples, 'calibration_beads.rtdc');
type Dataset = DatasetSectionInput['dataset'];

const dataset = (name: string, resources: Dataset['resources']): Dataset => ({ id: `id-${name}`, name, resources });

describe('RT-DC view section', { skip: !existsSync(beads) && 'the shared RT-DC samples are not beside the repository' }, () => {
  let metadata: Record<string, unknown>;
  before(async () => {
    const inspection = await runRtdcInspection(beads, { timeoutMs: 60_000, memoryMb: 512 });
    assert.deepEqual(inspection.problems, []);
    metadata = inspection.metadata;
  });

  it('plots two scalar features the file has, deformation on the vertical axis, and lists every feature\'s statistics', async () => {
    const section = rtdcViewSection('schema-rtdc');
    const html = String(await section.render({ c: undefined as never, kit: sectionKit(), dataset: dataset('beads', [{ id: 'r1', name: 'calibration_beads.rtdc', state: 'active', ...metadata }]) }));
    assert.match(html, /data-y="deform"/);
    // This 2018 file has no area_um; the view falls back to the first scalar feature.
    assert.match(html, /data-x="area_cvx"/);
    const stats = metadata['dc:statistics'] as Record<string, unknown>;
    for (const feature of Object.keys(stats)) assert.match(html, new RegExp(`<th scope="row">${feature}</th>`));
    assert.match(html, /7 events/);
  });

  describe('contract', () => {
    // The contract's datasets need the inspected metadata, so they are made when it runs.
    const shown: Dataset[] = [];
    before(async () => {
      const inspection = await runRtdcInspection(beads, { timeoutMs: 60_000, memoryMb: 512 });
      shown.push(dataset('beads', [{ id: 'r1', name: 'calibration_beads.rtdc', state: 'active', ...inspection.metadata }]));
    });
    runDatasetSectionContract({
      name: 'schema-rtdc rtdc-view',
      plugin: 'schema-rtdc',
      section: rtdcViewSection('schema-rtdc'),
      shown,
      ignored: [
        dataset('empty', []),
        dataset('csv', [{ id: 'r2', name: 'table.csv', state: 'active' }]),
        dataset('broken', [{ id: 'r3', name: 'fake.rtdc', state: 'invalid', 'platform:problems': ['not an HDF5 file (no HDF5 signature)'] }]),
        dataset('checking', [{ id: 'r4', name: 'new.rtdc', state: 'validating' }]),
      ],
    });
  });
});
