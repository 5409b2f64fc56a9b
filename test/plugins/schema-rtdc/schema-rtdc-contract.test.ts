// schema-rtdc keeps the Schema contract: a real RT-DC file written by dclab/Shape-In (the
// shared sample calibration_beads.rtdc, when present) is valid; bytes that are not HDF5 and an
// HDF5 file without RT-DC's attributes are invalid with reasons; other files are not its to check.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { runSchemaContract, type SchemaSampleFile } from '../../contracts/schema.js';
import { startTestHost } from '../../helpers/test-host.js';
import { rtdcSamplesDir } from '../../helpers/rtdc-samples.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const samples = rtdcSamplesDir;
const beads = join(samples, 'calibration_beads.rtdc');

/** An HDF5 file that is not RT-DC, written by h5py (Debian's Python), when h5py is there. */
function plainHdf5(dir: string): SchemaSampleFile[] {
  const path = join(dir, 'plain.h5');
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import sys, h5py; f = h5py.File(sys.argv[1], "w"); f["x"] = [1, 2, 3]; f.close()', path], { stdio: 'ignore' });
    return [{ name: 'plain.rtdc', content: readFileSync(path) }];
  } catch {
    return [];
  }
}

runSchemaContract({
  name: 'schema-rtdc',
  async make() {
    const t = await startTestHost('sqlite', { pluginNames: ['schema-rtdc'], extraConfig: '[plugin:schema-rtdc]\ntimeout_seconds = 120\n' });
    const schema = t.host.registries.schemas.find((c) => c.plugin === 'schema-rtdc')?.value;
    if (!schema) throw new Error('schema-rtdc did not contribute its schema');
    const dir = mkdtempSync(join(tmpdir(), 'rtdc-contract-'));
    return {
      schema,
      validFiles: existsSync(beads) ? [{ name: 'calibration_beads.rtdc', content: { path: beads } }] : [],
      invalidFiles: [{ name: 'not-hdf5.rtdc', content: Buffer.from('this is not an HDF5 file at all') }, ...plainHdf5(dir)],
      ignoredFiles: [{ name: 'notes.txt', content: Buffer.from('not RT-DC') }, { name: 'beads.csv', content: Buffer.from('a,b\n1,2\n') }],
      async cleanup() {
        rmSync(dir, { recursive: true, force: true });
        await t.close();
      },
    };
  },
});
