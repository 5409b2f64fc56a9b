// Every scalar feature of a compressed RT-DC file gets the statistics h5py computes. The files
// are written by h5py (Debian's python3-h5py, python3-hdf5plugin and HDF5 filter plugins,
// which .ci/run installs) the way the field writes them. dclab compresses every feature with
// `hdf5plugin.Zstd(clevel=5)` (dclab/cli/task_compress.py: `cmp_kw = hdf5plugin.Zstd(clevel=5)`),
// which is filter 32015 with cd_values (5,), set optional as h5py sets every filter given by
// number (h5py/_hl/filters.py, fill_dcpl), and DCOR's condensed files likewise. Debian has no
// HDF5 zstd plugin, so those chunks are written directly, compressed by python3-zstandard (the
// reference zstd library, one frame per chunk as H5Z-zstd writes them), and their expected
// statistics come from the data written. The other features use lzf, blosc and lz4/bzip2,
// which Debian's plugins give h5py: h5py reads them back and its count/min/max/mean (NaN
// ignored) are the expected values. (Bitshuffle, 32008, has no Debian plugin and is not here.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runRtdcInspection } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';
import type { RtdcFeatureStatistics } from '../../../plugins/schema-rtdc/rtdc-inspection.js';

const PYTHON = '/usr/bin/python3';
const missing = spawnSync(PYTHON, ['-c', 'import h5py, hdf5plugin, zstandard'], { encoding: 'utf8' }).status !== 0 && 'Debian python3-h5py, python3-hdf5plugin and python3-zstandard are not installed (.ci/run installs them)';

/** Writes the file (argv[1]) and prints h5py's statistics of it, read back, as JSON. */
const WRITE_AND_READ = `
import sys, json, h5py, hdf5plugin, zstandard, numpy as np
from h5py import h5z
path = sys.argv[1]
n = 25000
rng = np.random.default_rng(17)
codecs = {
    "area_um": "zstd",
    "deform": "zstd",
    "bright_avg": dict(compression="lzf"),
    "pos_x": dict(hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE)),
    "pos_y": dict(compression="lzf", shuffle=True),
    "volume": dict(hdf5plugin.LZ4()),
    "index": dict(hdf5plugin.BZip2(blocksize=9)),
    "frame": dict(hdf5plugin.Blosc(cname="zstd", clevel=3, shuffle=hdf5plugin.Blosc.BITSHUFFLE)),
}
data = {
    "area_um": rng.gamma(4.0, 20.0, n),
    "deform": rng.beta(2.0, 30.0, n),
    "bright_avg": rng.normal(120.0, 7.0, n).astype("<f4"),
    "pos_x": rng.uniform(0.0, 250.0, n),
    "pos_y": rng.uniform(0.0, 80.0, n).astype("<f4"),
    "volume": rng.lognormal(4.0, 0.5, n),
    "index": np.arange(1, n + 1, dtype="<u4"),
    "frame": np.cumsum(rng.integers(1, 5, n)).astype("<i8"),
}
data["deform"][::97] = np.nan
with h5py.File(path, "w") as f:
    for k, v in {"experiment:date": "2026-11-23", "experiment:run index": 1, "experiment:sample": "zstd",
        "experiment:time": "12:00:00", "imaging:flash device": "LED", "imaging:flash duration": 2.0,
        "imaging:frame rate": 2000.0, "imaging:pixel size": 0.34, "imaging:roi position x": 640.0,
        "imaging:roi position y": 32.0, "imaging:roi size x": 250, "imaging:roi size y": 80,
        "setup:channel width": 20.0, "setup:chip region": "channel", "setup:flow rate": 0.04,
        "setup:medium": "CellCarrier", "experiment:event count": n}.items():
        f.attrs[k] = v
    events = f.create_group("events")
    for name, values in data.items():
        if codecs[name] != "zstd":
            events.create_dataset(name, data=values, chunks=(4096,), **codecs[name])
            continue
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((4096,))
        dcpl.set_filter(hdf5plugin.ZSTD_ID, h5z.FLAG_OPTIONAL, (5,))
        dsid = h5py.h5d.create(events.id, name.encode(), h5py.h5t.IEEE_F64LE, h5py.h5s.create_simple((n,)), dcpl=dcpl)
        for start in range(0, n, 4096):
            chunk = np.zeros(4096, dtype="<f8")
            part = values[start:start + 4096]
            chunk[:part.size] = part
            dsid.write_direct_chunk((start,), zstandard.ZstdCompressor(level=5).compress(chunk.tobytes()), 0)
out = {}
with h5py.File(path, "r") as f:
    for name in data:
        ds = f["events"][name]
        v = (data[name] if codecs[name] == "zstd" else ds[:]).astype("f8")
        v = v[~np.isnan(v)]
        out[name] = {"filters": sorted(int(ds.id.get_create_plist().get_filter(i)[0]) for i in range(ds.id.get_create_plist().get_nfilters())), "count": int(v.size), "min": float(v.min()), "max": float(v.max()), "mean": float(v.mean())}
print(json.dumps(out))
`;

interface Expected extends Required<RtdcFeatureStatistics> {
  filters: number[];
}

describe('RT-DC files compressed as the field compresses them', { skip: missing }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtdc-compressed-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every scalar feature the statistics h5py with hdf5plugin reads', async () => {
    const path = join(dir, 'compressed.rtdc');
    const made = spawnSync(PYTHON, ['-c', WRITE_AND_READ, path], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const expected = JSON.parse(made.stdout) as Record<string, Expected>;
    // The file really uses the filters named above (zstd 32015, lzf 32000, blosc 32001, lz4 32004, bzip2 307).
    const ids = new Set(Object.values(expected).flatMap((e) => e.filters));
    for (const id of [32015, 32000, 32001, 32004, 307]) assert.ok(ids.has(id), `filter ${id} is used`);

    const inspection = await runRtdcInspection(path, { timeoutMs: 120_000, memoryMb: 512 });
    assert.deepEqual(inspection.problems, []);
    const statistics = inspection.metadata['dc:statistics'] as unknown as Record<string, RtdcFeatureStatistics>;
    assert.deepEqual(Object.keys(statistics).sort(), Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      const got = statistics[name]!;
      assert.equal(got.count, want.count, `${name} count`);
      assert.equal(got.min, want.min, `${name} min`);
      assert.equal(got.max, want.max, `${name} max`);
      // numpy sums pairwise, we sum in order: the means agree to rounding.
      assert.ok(Math.abs(got.mean! - want.mean) <= 1e-12 * Math.abs(want.mean), `${name} mean ${got.mean} vs h5py ${want.mean}`);
    }
  });
});
