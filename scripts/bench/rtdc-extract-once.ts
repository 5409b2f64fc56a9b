// One run of the schema-rtdc side of the metadata-extraction benchmark, in a process of its
// own so that its peak RSS is its own: inspects FILE exactly as the `resource.inspect` job
// does (a contained child process with the plugin's default limits) and prints wall
// milliseconds, peak RSS of this process and of its largest child and what it found, as JSON.
// Usage: node dist/scripts/bench/rtdc-extract-once.js FILE.rtdc
import { performance } from 'node:perf_hooks';
import { runRtdcInspectionContained } from '../../plugins/schema-rtdc/run-rtdc-inspection.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/scripts/bench/rtdc-extract-once.js FILE.rtdc\n');
  process.exit(2);
}
const started = performance.now();
const inspection = await runRtdcInspectionContained(file, { timeoutMs: 600_000, memoryMb: 512 });
const ms = performance.now() - started;
const statistics = inspection.metadata['dc:statistics'];
const features = statistics && typeof statistics === 'object' && !Array.isArray(statistics) ? Object.keys(statistics).length : 0;
const attributes = Object.keys(inspection.metadata).filter((key) => /^dc:[a-z]+:/.test(key)).length;
process.stdout.write(`${JSON.stringify({ ms, peakRssMb: process.resourceUsage().maxRSS / 1024, features, attributes, valid: inspection.valid, problems: inspection.problems })}\n`);

