// What `platform upload` shows while it works: on a terminal one redrawn line with a bar for
// the file and one for all files, bytes, rate and time left; otherwise plain lines every
// tenth of a file; with --json one event per line on stdout and nothing drawn.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createReporter } from '../../../core/client/upload-progress.js';
import { capturedStream } from '../../helpers/captured-stream.js';

const capture = capturedStream;

const MiB = 1024 * 1024;

describe('upload progress', () => {
  it('draws a bar per file and overall on a terminal, with bytes, rate and time left', () => {
    const out = capture(false);
    const err = capture(true);
    const reporter = createReporter(out, err, false, 4 * MiB);
    reporter.start('a.rtdc', 2 * MiB, 0);
    reporter.bytes('a.rtdc', 2 * MiB);
    const line = err.text();
    assert.match(line, /^\ra\.rtdc {24} \[#{20}\] 2\.0 MiB\/2\.0 MiB {2}all \[#{10} {10}\] [\d.]+ [KMG]?i?B\/s \d+ s left\x1b\[K$/);
    reporter.done('a.rtdc', 'ab'.repeat(32));
    assert.ok(err.text().endsWith(`\r\x1b[Ka.rtdc: done, sha256 ${'ab'.repeat(32)}\n`), 'the bar is cleared before the result line');
    assert.equal(out.text(), '', 'stdout stays free for scripts');
  });

  it('counts a resumed file from its offset, in its bar and overall', () => {
    const err = capture(true);
    const reporter = createReporter(capture(false), err, false, 4 * MiB);
    reporter.start('b.rtdc', 4 * MiB, 3 * MiB);
    reporter.bytes('b.rtdc', MiB);
    assert.match(err.text(), /\[#{20}\] 4\.0 MiB\/4\.0 MiB {2}all \[#{20}\]/);
  });

  it('writes plain lines every tenth of a file when stderr is not a terminal, and never a carriage return', () => {
    const err = capture(false);
    const reporter = createReporter(capture(false), err, false, 10 * MiB);
    reporter.start('c.csv', 10 * MiB, 0);
    for (let i = 0; i < 10; i++) reporter.bytes('c.csv', MiB);
    reporter.done('c.csv', 'cd'.repeat(32));
    reporter.finish();
    const lines = err.text().trimEnd().split('\n');
    assert.equal(lines[0], 'c.csv: uploading 10.0 MiB');
    assert.deepEqual(lines.slice(1, 11).map((l) => l.replace(/, [\d.]+ [KMG]?i?B\/s\)$/, ')')), Array.from({ length: 10 }, (_, i) => `c.csv: ${(i + 1) * 10}% (${(i + 1).toFixed(1)} MiB of 10.0 MiB)`));
    assert.equal(lines[11], `c.csv: done, sha256 ${'cd'.repeat(32)}`);
    assert.match(lines[12]!, /^uploaded 10\.0 MiB in [\d.]+ s$/);
    assert.ok(!err.text().includes('\r'));
  });

  it('emits JSON events on stdout with --json and draws nothing', () => {
    const out = capture(false);
    const err = capture(true);
    const reporter = createReporter(out, err, true, MiB);
    reporter.start('d.bin', MiB, 0);
    reporter.bytes('d.bin', MiB);
    reporter.failed('d.bin', 'server said 507');
    reporter.finish();
    const events = out.text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => e.event), ['start', 'failed', 'finish']);
    assert.deepEqual({ file: events[1]!.file, message: events[1]!.message }, { file: 'd.bin', message: 'server said 507' });
    assert.equal(err.text(), '');
  });
});
