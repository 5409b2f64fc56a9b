// Hostile HDF5 files, written with h5py (Debian's python3-h5py, which .ci/run installs):
// compound and string features, a feature that declares terabytes in a few kilobytes, groups
// nested thousands deep and an `events` group with thousands of members. Each must end, in
// the worker thread the job uses, as an answer: invalid with the reason, or valid where the
// structure is harmless, and never as a stalled or crashed thread. Data kept outside the file
// (external storage, virtual datasets, external links) is refused, and the contained process
// that reads the file cannot reach the host file it names.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectRtdcFile, MAX_EXPANSION, type RtdcInspection } from '../../../plugins/schema-rtdc/rtdc-inspection.js';
import { runRtdcInspectionContained } from '../../../plugins/schema-rtdc/run-rtdc-inspection.js';

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
    return runRtdcInspectionContained(path, { timeoutMs: 60_000, memoryMb: 512 });
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

  describe('limits checked before reading', () => {
    it('refuses a 5 MiB variable-length string attribute, storing none of it', async () => {
      const inspection = await inspectWritten('vlen', 'f.attrs["experiment:sample"] = "x" * (5 * 2**20)');
      assert.equal(inspection.metadata['dc:experiment:sample'], undefined);
      assert.deepEqual(inspection.problems, [
        `root attribute "experiment:sample" holds ${5 * 2 ** 20 + 2} bytes; RT-DC metadata are short values (at most 1048576)`,
        'required root attribute "experiment:sample" is missing',
      ]);
    });

    it('refuses a file with thousands of root attributes without reading them, naming that cause alone', async () => {
      const inspection = await inspectWritten('many-attributes', 'for i in range(3000): f.attrs[f"user:k{i}"] = i');
      assert.deepEqual(inspection.problems, ['the file has 3017 root attributes; RT-DC metadata have at most 2000, so none is read']);
    });

    it('refuses thousands of logs', async () => {
      const inspection = await inspectWritten('many-logs', 'logs = f.create_group("logs")\nfor i in range(1500): logs[f"l{i}"] = np.array([b"x"])');
      assert.deepEqual(inspection.problems, ['"logs" has 1500 members; an RT-DC file has at most 1000']);
      assert.deepEqual(inspection.metadata['dc:logs'], []);
    });

    it('refuses an image that declares 10^9 x 4096 x 4096 in a file of kilobytes', async () => {
      const body = 'events.create_dataset("image", shape=(10, 4096, 4096), maxshape=(None, 4096, 4096), dtype="u1", chunks=(1, 64, 64))\nevents["image"].resize((10**9, 4096, 4096))';
      const inspection = await inspectWritten('huge-image', body);
      assert.equal(inspection.valid, false);
      assert.match(inspection.problems.join('; '), /^feature "image" has 1000000000 events, not the event count 10; feature "image" declares 14\.9 PiB of data in a file of [0-9.]+ KiB; more than 1000-fold is not RT-DC, so it is not read$/);
    });

    it('keeps the shape of a 2-D attribute (a polygon stays pairs)', async () => {
      const inspection = await inspectWritten('polygon', 'f.attrs["online_filter:area_um,deform polygon points"] = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])');
      assert.deepEqual(inspection.problems, []);
      assert.deepEqual(inspection.metadata['dc:online_filter:area_um,deform polygon points'], [[1, 2], [3, 4], [5, 6], [7, 8]]);
    });
  });

  // dclab's rule (dclab/rtdc_dataset/check.py, IntegrityChecker.check_features_unknown_hdf5;
  // names from dclab/definitions/feat_const.py, ML scores from feat_logic.py's ML_SCORE_REGEX
  // `^ml_score_[a-z0-9]{3}$`): an unknown member of `events` is a violation, `def` is skipped.
  describe('features dclab does not know', () => {
    it('calls an unknown feature a violation in dclab\'s words', async () => {
      const inspection = await inspectWritten('unknown', 'events["my_feature"] = np.ones(10)');
      assert.equal(inspection.valid, false);
      assert.deepEqual(inspection.problems, ["Features: Unknown key 'my_feature' (not a feature RT-DC defines; it would be lost to dclab and DCOR)"]);
    });

    it('accepts ML scores, user-defined and basin-mapping features, "def" and any trace name', async () => {
      const body = ['ml_score_abc', 'ml_score_0x9', 'userdef0', 'userdef9', 'basinmap0', 'def'].map((n) => `events["${n}"] = np.ones(10)`).join('\n')
        + '\nevents.create_group("trace")["fl9_custom"] = np.zeros((10, 4), dtype="<i2")';
      const inspection = await inspectWritten('known', body);
      assert.deepEqual(inspection.problems, []);
    });

    it('calls names just outside dclab\'s patterns unknown (ml_score_ABC, ml_score_abcd, userdef10, basinmap10)', async () => {
      const names = ['ml_score_ABC', 'ml_score_abcd', 'userdef10', 'basinmap10'];
      const inspection = await inspectWritten('near-misses', names.map((n) => `events["${n}"] = np.ones(10)`).join('\n'));
      assert.deepEqual(inspection.problems, names.sort().map((n) => `Features: Unknown key '${n}' (not a feature RT-DC defines; it would be lost to dclab and DCOR)`));
    });
  });

  describe('HDF5\'s error stacks', () => {
    /** Runs `inspect` with stderr captured; returns what reached it. */
    async function stderrOf(inspect: () => Promise<RtdcInspection>): Promise<{ inspection: RtdcInspection; stderr: string }> {
      const original = process.stderr.write;
      let text = '';
      process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        return (original as (...args: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
      }) as typeof process.stderr.write;
      try {
        return { inspection: await inspect(), stderr: text };
      } finally {
        process.stderr.write = original;
      }
    }

    it('stay off the server\'s stderr and their cause becomes the reason (a truncated file, a damaged chunk)', async () => {
      const truncated = join(dir, 'truncated.rtdc');
      const made = spawnSync(PYTHON, ['-c', `${PRELUDE}\nf.close()\nimport os\nos.truncate(sys.argv[1], 1500)\n`, truncated], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      // A gzip chunk with 40 bytes overwritten (h5py's Dataset.id.get_chunk_info gives where it is).
      const damaged = join(dir, 'damaged.rtdc');
      const body = [
        'd = events.create_dataset("deform", data=np.linspace(0, 1, 10), chunks=(10,), compression="gzip")',
        'info = d.id.get_chunk_info(0)',
        'f.close()',
        'with open(sys.argv[1], "r+b") as raw: raw.seek(info.byte_offset + 8); raw.write(b"\\xff" * 40)',
      ].join('\n');
      const broke = spawnSync(PYTHON, ['-c', `${PRELUDE}${body}\n`, damaged], { encoding: 'utf8' });
      assert.equal(broke.status, 0, broke.stderr);
      for (const [how, inspect] of [
        ['in this process', (path: string) => inspectRtdcFile(path)],
        ['in a contained process', (path: string) => runRtdcInspectionContained(path, { timeoutMs: 60_000, memoryMb: 512 })],
      ] as const) {
        const cut = await stderrOf(() => inspect(truncated));
        assert.equal(cut.inspection.problems.length, 1, how);
        assert.match(cut.inspection.problems[0]!, /^not a readable HDF5 file \(truncated file: eof = 1500, sblock->base_addr = 0, stored_eof = \d+\)$/, how);
        assert.doesNotMatch(cut.stderr, /HDF5-DIAG|H5F/, how);
        const bad = await stderrOf(() => inspect(damaged));
        assert.deepEqual(bad.inspection.problems, ['feature "deform" is damaged: events 0 to 9 cannot be read (HDF5: filter returned failure during read)'], how);
        assert.doesNotMatch(bad.stderr, /HDF5-DIAG|H5Z|H5D/, how);
      }
    });
  });

  // External raw storage as h5py writes it: `external=[(name, offset, size)]`
  // (h5py/_hl/filters.py, fill_dcpl: `plist.set_external(name, offset, size)`).
  describe('data kept outside the file', () => {
    /** float64 values no real feature holds; their bytes must never come back. */
    const SECRET = 987654.321;
    let hostFile: string;
    before(() => {
      hostFile = join(dir, 'host-secret.bin');
      const bytes = Buffer.alloc(80);
      for (let i = 0; i < 10; i++) bytes.writeDoubleLE(SECRET + i, i * 8);
      writeFileSync(hostFile, bytes);
    });

    function assertNothingLeaked(inspection: RtdcInspection): void {
      const text = JSON.stringify(inspection);
      assert.ok(!text.includes('987654') && !text.includes('987658'), `no value of the host file in ${text.slice(0, 300)}`);
    }

    it('refuses external storage onto a host file, whose bytes never appear in the result', async () => {
      const body = `del events["area_um"]\nevents.create_dataset("area_um", shape=(10,), dtype="<f8", external=[(${JSON.stringify(hostFile)}, 0, 80)])`;
      const inspection = await inspectWritten('external', body);
      assert.equal(inspection.valid, false);
      assert.deepEqual(inspection.problems, ['feature "area_um" keeps its data outside the file (external storage); an RT-DC file must hold its own data']);
      assert.deepEqual(inspection.metadata['dc:statistics'], {});
      assertNothingLeaked(inspection);
    });

    it('refuses external storage onto /dev/zero and onto a FIFO at once, leaving no process behind', async () => {
      const fifo = join(dir, 'fifo');
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const body = [
        'del events["area_um"]',
        'events.create_dataset("area_um", shape=(10,), dtype="<f8", external=[("/dev/zero", 0, 80)])',
        `events.create_dataset("deform", shape=(10,), dtype="<f8", external=[(${JSON.stringify(fifo)}, 0, 80)])`,
      ].join('\n');
      const before = childPids();
      const started = Date.now();
      const inspection = await inspectWritten('devices', body);
      assert.deepEqual(inspection.problems, [
        'feature "area_um" keeps its data outside the file (external storage); an RT-DC file must hold its own data',
        'feature "deform" keeps its data outside the file (external storage); an RT-DC file must hold its own data',
      ]);
      assert.ok(Date.now() - started < 60_000, 'answered within the time limit');
      assert.deepEqual(childPids(), before, 'no contained process is left');
    });

    it('refuses a virtual dataset onto another HDF5 file', async () => {
      const other = join(dir, 'other.h5');
      const made = spawnSync(PYTHON, ['-c', `import h5py, numpy as np\nwith h5py.File(${JSON.stringify(other)}, "w") as o: o["data"] = np.full(10, ${SECRET})`], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const body = [
        'del events["area_um"]',
        'layout = h5py.VirtualLayout(shape=(10,), dtype="<f8")',
        `layout[:] = h5py.VirtualSource(${JSON.stringify(other)}, "data", shape=(10,))`,
        'events.create_virtual_dataset("area_um", layout)',
      ].join('\n');
      const inspection = await inspectWritten('vds', body);
      assert.deepEqual(inspection.problems, [`feature "area_um" keeps its data outside the file (a virtual dataset onto ${other}); an RT-DC file must hold its own data`]);
      assertNothingLeaked(inspection);
    });

    it('refuses an external link onto another HDF5 file without following it', async () => {
      const other = join(dir, 'linked.h5');
      const made = spawnSync(PYTHON, ['-c', `import h5py, numpy as np\nwith h5py.File(${JSON.stringify(other)}, "w") as o: o["data"] = np.full(10, ${SECRET})`], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      const inspection = await inspectWritten('extlink', `events["deform"] = h5py.ExternalLink(${JSON.stringify(other)}, "/data")`);
      assert.deepEqual(inspection.problems, [`"events/deform" is an external link to ${other}:/data; an RT-DC file must hold its own data`]);
      assertNothingLeaked(inspection);
    });
  });
});

/** Process ids of this process's children (from /proc), to see that none is left behind. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort();
}
