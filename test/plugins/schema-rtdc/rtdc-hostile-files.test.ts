// Hostile HDF5 files, written with h5py (Debian's python3-h5py, which .ci/run installs):
// compound and string features, a feature that declares terabytes in a few kilobytes, groups
// nested thousands deep and an `events` group with thousands of members. Each must end, in
// the worker thread the job uses, as an answer: invalid with the reason, or valid where the
// structure is harmless, and never as a stalled or crashed thread.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_EXPANSION, type RtdcInspection } from '../../../plugins/schema-rtdc/rtdc-inspection.js';
import { runRtdcInspectionInWorker } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';

const PYTHON = '/usr/bin/python3';
const noH5py = spawnSync(PYTHON, ['-c', 'import h5py'], { encoding: 'utf8' }).status !== 0 && 'Debian python3-h5py is not installed (.ci/run installs it)';

/** Python that opens OUT with every required root attribute and 10 events of area_um; `events` is the group. */
const PRELUDE = `
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "w")
for k, v in {"experiment:date": "2026-11-23", "experiment:run index": 1, "experiment:sample": "x",
    "experiment:time": "12:00:00", "imaging:flash device": "LED", "imaging:flash duration": 2.0,
    "imaging:frame rate": 2000.0, "imaging:pixel size": 0.34, "imaging:roi position x": 640.0,
    "imaging:roi position y": 32.0, "imaging:roi size x": 8, "imaging:roi size y": 6,
    "setup:channel width": 20.0, "setup:chip region": "channel", "setup:flow rate": 0.04,
    "setup:medium": "CellCarrier"}.items():
    f.attrs[k] = v
f.attrs["experiment:event count"] = 10
events = f.create_group("events")
events["area_um"] = np.arange(10, dtype="<f8")
`;

describe('RT-DC inspection of hostile HDF5 files', { skip: noH5py }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-hostile-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes a file with PRELUDE + `body` and inspects it in a worker thread as the job does. */
  async function inspectWritten(name: string, body: string): Promise<RtdcInspection> {
    const path = join(dir, `${name}.rtdc`);
    const made = spawnSync(PYTHON, ['-c', `${PRELUDE}${body}\nf.close()\n`, path], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    return runRtdcInspectionInWorker(path, { timeoutMs: 60_000, maxOldGenerationSizeMb: 128 });
  }

  it('accepts the prelude alone (the baseline of the cases below)', async () => {
    const inspection = await inspectWritten('baseline', '');
    assert.deepEqual(inspection.problems, []);
    assert.deepEqual(inspection.metadata['dc:statistics'], { area_um: { count: 10, min: 0, max: 9, mean: 4.5 } });
  });

  it('calls a feature of compound values invalid, naming it', async () => {
    const inspection = await inspectWritten('compound', 'events["deform"] = np.zeros(10, dtype=[("a", "<f8"), ("b", "<i4")])');
    assert.equal(inspection.valid, false);
    assert.deepEqual(inspection.problems, ['feature "deform" holds compound values; a per-event feature holds numbers']);
  });

  it('calls a feature of strings invalid, naming it', async () => {
    const inspection = await inspectWritten('strings', 'events["deform"] = np.array([b"x"] * 10)');
    assert.deepEqual(inspection.problems, ['feature "deform" holds string values; a per-event feature holds numbers']);
  });

  it('refuses unread a feature that declares 8 TiB in a file of kilobytes', async () => {
    const body = 'f.attrs["experiment:event count"] = 2**40\ndel events["area_um"]\nevents.create_dataset("area_um", shape=(2**40,), dtype="<f8", chunks=(65536,))';
    const inspection = await inspectWritten('huge', body);
    const size = statSync(join(dir, 'huge.rtdc')).size;
    assert.ok(size < 64 * 1024, `the file itself is small (${size} bytes)`);
    assert.equal(inspection.valid, false);
    assert.equal(inspection.problems.length, 1, inspection.problems.join('; '));
    assert.match(inspection.problems[0]!, new RegExp(`^feature "area_um" declares 8\\.0 TiB of data in a file of [0-9.]+ KiB; more than ${MAX_EXPANSION}-fold is not RT-DC, so it is not read$`));
  });

  it('answers for groups nested 2,000 deep, under logs (harmless) and as a feature (wrong length)', async () => {
    const body = [
      'g = f.create_group("logs")',
      'for i in range(2000): g = g.create_group("n")',
      'g = events.create_group("contour")',
      'for i in range(2000): g = g.create_group("n")',
    ].join('\n');
    const inspection = await inspectWritten('deep', body);
    assert.deepEqual(inspection.problems, ['feature "contour" has 1 entries, not the event count 10']);
    assert.deepEqual(inspection.metadata['dc:logs'], ['n']);
  });

  it('refuses an events group with thousands of members without looking at each', async () => {
    const inspection = await inspectWritten('crowded', 'for i in range(3000): events.create_dataset(f"f{i}", data=np.zeros(10))');
    assert.deepEqual(inspection.problems, ['"events" has 3001 members; an RT-DC file has at most 1000']);
  });
});
