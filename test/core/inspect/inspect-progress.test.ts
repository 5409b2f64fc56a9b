// The long checks of inspect draw a progress bar (label, bar, counts, rate) on a terminal and
// nothing otherwise; --deep hashes files on the thread pool, and a file it cannot read is
// named with the reason instead of failing the whole check.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { terminalProgress } from '../../../core/inspect/inspect-output.js';
import { sha256Files } from '../../../core/inspect/hash-files-thread.js';
import { main } from '../../../core/cli/main.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ActionRunnerId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { Actor } from '../../../core/auth/actor.js';
import { capturedStream } from '../../helpers/captured-stream.js';

const capture = capturedStream;

describe('terminalProgress', () => {
  it('draws label, bar, counts and rate on one line, and clears it when done', () => {
    const out = capture(true);
    const bar = terminalProgress(out);
    bar.start('depot: depot consistency');
    bar.update(5, 10);
    const drawn = out.text();
    assert.match(drawn, /^\rdepot: depot consistency \[#{15} {15}\] 5\/10 \d+\/s {3}$/);
    bar.update(10, 10);
    assert.match(out.text().slice(drawn.length), /\[#{30}\] 10\/10/, 'the last update is always drawn');
    bar.done();
    assert.ok(out.text().endsWith('\r\x1b[K'));
  });

  it('shows a count without a bar while the total is unknown (a walk)', () => {
    const out = capture(true);
    const bar = terminalProgress(out);
    bar.start('walk');
    bar.update(3000, undefined);
    assert.match(out.text(), /^\rwalk 3000 \d+\/s {3}$/);
  });
});

describe('sha256Files (the --deep hashing task of a pool thread)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'inspect-hash-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes each file, larger than its read block too, and names the one it cannot read', () => {
    const big = Buffer.alloc(9 * 1024 * 1024 + 7, 0x61);
    writeFileSync(join(dir, 'big'), big);
    writeFileSync(join(dir, 'empty'), '');
    const results = sha256Files([join(dir, 'big'), join(dir, 'gone'), join(dir, 'empty')]);
    assert.deepEqual(results, [
      { sha256: createHash('sha256').update(big).digest('hex') },
      { error: 'ENOENT' },
      { sha256: createHash('sha256').update('').digest('hex') },
    ]);
  });
});

describe('platform inspect on a terminal', () => {
  let t: TestHost;
  before(async () => {
    t = await startTestHost('sqlite', { pluginNames: ['depot-fs'] });
    chmodSync(t.configFile, 0o600);
    const user = await t.host.services.get(UserServiceId).create({ name: 'admin', email: 'a@example.org', sysadmin: true });
    const actor: Actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: true } };
    await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
    const runner = t.host.services.get(ActionRunnerId);
    await runner.run('package_create', { name: 'files', owner_org: 'lab' }, { actor });
    for (const name of ['a.csv', 'b.csv', 'c.csv']) {
      const resource = (await runner.run('resource_create', { package_id: 'files', name }, { actor, address: '', requestId: 'test' })) as { id: string };
      await t.host.services.get(ResourceIntakeId).storeStream(resource.id, Readable.from([Buffer.from(`${name}\n1,2\n`)]), {}, { actor, protocol: 'test' });
    }
  });
  after(async () => t.close());

  async function inspect(args: string[], isTTY: boolean): Promise<{ status: number; stdout: string; stderr: string }> {
    const stdout = capture(false);
    const stderr = capture(isTTY);
    const stdin = new PassThrough();
    stdin.end();
    const status = await main(['--config', t.configFile, 'inspect', '--only', 'depot', ...args], { stdout, stderr, stdin, env: {} });
    return { status, stdout: stdout.text(), stderr: stderr.text() };
  }

  it('draws the deep check\'s progress on stderr, and the report stays clean on stdout', async () => {
    const run = await inspect(['--deep'], true);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stderr, /\rdepot: depot consistency \[#{30}\] 3\/3 \d+\/s/);
    assert.ok(!run.stdout.includes('\r'), 'no progress in the report');
    assert.match(run.stdout, /ok       depot consistency/);
  });

  it('draws nothing when stderr is not a terminal, or with --json', async () => {
    const plain = await inspect(['--deep'], false);
    assert.equal(plain.status, 0);
    assert.ok(!plain.stderr.includes('\r'), plain.stderr);
    const json = await inspect(['--deep', '--json'], true);
    assert.equal(json.status, 0);
    assert.ok(!json.stderr.includes('\r'), json.stderr);
  });
});
