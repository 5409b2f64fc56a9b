// Holding a delivery: a site administrator holds a routed file (action, CLI), a queued delivery
// job then skips it, the hold and the release are in its life line and in the audit log, and a
// released file is delivered. Others are refused; a sent file cannot be held.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { AuditLogId, JobQueueId } from '../../../core/services/service-ids.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

for (const kind of databaseKinds()) {
  describe(`holding a delivery (${kind})`, () => {
    let d: DistributionHost;
    let f: ApiFixtures;
    const cli = (...args: string[]) => runCli(['--config', d.t.configFile, 'distribution', ...args]);
    const send = async (name: string) => {
      const path = join(d.dir, name);
      writeFileSync(path, makePdf([`Identifier ${name.split('_')[0]}`]));
      const run = await cli('send', path);
      assert.equal(run.status, 0, run.stdout);
      return (await d.file(name))!;
    };
    /** Waits until no delivery job is queued or running. */
    const jobsSettled = async () => {
      const queue = d.t.host.services.get(JobQueueId);
      for (let i = 0; i < 600; i++) {
        const jobs = (await queue.list({ limit: 1000 })).filter((j) => j.type === 'distribution.deliver');
        if (jobs.every((j) => j.state !== 'queued' && j.state !== 'running')) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail('delivery jobs did not settle');
    };

    before(async () => {
      d = await startDistributionHost(kind, { rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }] }) });
      f = await createApiFixtures(d.t);
      const csv = join(d.dir, 'folders.csv');
      writeFileSync(csv, 'label,tag,folder,base\nbhs,BHS,bhs,local\n');
      assert.equal((await cli('folders', 'load', csv)).status, 0);
      await d.t.host.startPlugins();
    });
    after(async () => {
      await d?.close();
    });

    it('holds a routed file so that its queued delivery skips it, and delivers it once released', async () => {
      const file = await send('BHS0700_result.pdf');
      assert.equal(file.state, 'routed');
      const held = await d.t.call('distribution_hold', { id: file.id, reason: 'result to be checked again' }, { token: f.tokens.sysadmin });
      assert.equal(held.status, 200, JSON.stringify(held.body));
      assert.equal((held.body.result as { state: string }).state, 'held');
      // The delivery job queued at intake runs now, and leaves the held file alone.
      await d.startWorker();
      await jobsSettled();
      const still = (await d.file('BHS0700_result.pdf'))!;
      assert.equal(still.state, 'held');
      assert.equal(still.reason, 'held by sysadmin-user: result to be checked again');
      assert.ok(!existsSync(join(d.localDestination, 'bhs', 'BHS0700_result.pdf')), 'nothing was sent');
      const pending = await d.t.call('distribution_pending', { name: '0700', events: false }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((pending.body.result as Array<{ state: string }>).map((r) => r.state), ['held'], 'a held file waits, with why');

      const released = await d.t.call('distribution_release', { id: file.id }, { token: f.tokens.sysadmin });
      assert.equal(released.status, 200, JSON.stringify(released.body));
      const done = await d.waitForState('BHS0700_result.pdf', 'archived');
      assert.ok(existsSync(join(d.localDestination, 'bhs', 'BHS0700_result.pdf')), 'sent after the release');
      const events = await d.store.events({ fileIds: [done.id] });
      const hold = events.find((e) => e.kind === 'held')!;
      assert.equal(hold.actor, 'sysadmin-user');
      assert.equal(hold.detail, 'result to be checked again');
      assert.deepEqual(events.map((e) => e.kind).filter((k) => k !== 'checked'), ['received', 'routed', 'held', 'released', 'sending', 'sent', 'archived']);
      const audit = d.t.host.services.get(AuditLogId);
      assert.equal((await audit.list({ action: 'distribution.hold', objectId: file.id })).length, 1);
      assert.equal((await audit.list({ action: 'distribution.release', objectId: file.id })).length, 1);
    });

    it('holds and releases from the CLI by name, and refuses what cannot be held', async () => {
      // A routed file whose delivery is not queued (written through the store), so no worker races the hold.
      const got = await d.store.receive({ name: 'BHS0701_result.pdf', source: 'cli', size: 10 }, { kind: 'received' });
      assert.ok('file' in got);
      const file = (await d.store.update(got.file.id, { state: 'routed', label: 'bhs', destination: 'local', folder: 'bhs' }, { kind: 'routed' }))!;
      const hold = await cli('hold', 'BHS0701_result.pdf', '--reason', 'wrong ward');
      assert.equal(hold.status, 0, hold.stderr);
      assert.match(hold.stdout, /BHS0701_result\.pdf: held/);
      assert.equal((await d.file('BHS0701_result.pdf'))?.state, 'held');
      const twice = await cli('hold', 'BHS0701_result.pdf');
      assert.notEqual(twice.status, 0);
      assert.match(twice.stderr, /is held; only a file not yet sent/);
      const release = await cli('release', file.id);
      assert.equal(release.status, 0, release.stderr);
      assert.match(release.stdout, /released; queued for delivery to local:bhs/);
      assert.notEqual((await cli('release', 'BHS0701_result.pdf')).status, 0, 'a file not held cannot be released');
      assert.notEqual((await cli('hold', 'NOPE.pdf')).status, 0);

      const sent = await d.waitForState('BHS0700_result.pdf', 'archived');
      const late = await d.t.call('distribution_hold', { id: sent.id }, { token: f.tokens.sysadmin });
      assert.equal(late.status, 409, 'a sent file cannot be held');
      assert.match(late.body.error!.message, /"BHS0700_result\.pdf" is archived; only a file not yet sent/);
      assert.equal((await d.t.call('distribution_hold', { id: '00000000-0000-4000-8000-000000000000' }, { token: f.tokens.sysadmin })).status, 404);
      assert.equal((await d.t.call('distribution_hold', { id: 'not-a-file' }, { token: f.tokens.sysadmin })).status, 400, 'an id that is no uuid is refused, not a 500');
      const byEditor = await d.t.call('distribution_hold', { id: file.id }, { token: f.tokens.editor });
      assert.equal(byEditor.status, 403, 'holding is for site administrators');
      assert.equal((await d.t.call('distribution_release', { id: file.id }, {})).status, 403, 'and refused to anonymous callers');
    });
  });
}
