// The periodic job reads an access log in a configured format: a recipient's fetch of a sent
// file is acknowledged without anyone running `distribution read-log`; failed requests and
// requests for other files are not.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

for (const kind of databaseKinds()) {
  describe(`access-log reading as a periodic job (${kind})`, () => {
    let d: DistributionHost;
    let log: string;

    before(async () => {
      d = await startDistributionHost(kind, {
        rules: ({ dir }) => {
          mkdirSync(join(dir, 'web'), { recursive: true });
          log = join(dir, 'web', 'access.log');
          writeFileSync(log, '');
          return { destinations: { web: { kind: 'folder', path: 'served' } }, rules: [{ label: 'all', router: 'by-mime', base: 'web', folder: 'out' }] };
        },
        settings: { access_logs: '{dir}/web/access.log', access_log_format: '$remote_addr $remote_user [$time_local] "$request" $status "$http_user_agent"', log_read_seconds: 1 },
      });
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
    });

    it('acknowledges fetches found in the log, by the logged user, address, user agent and time', async () => {
      writeFileSync(join(d.drop, 'A1_result.pdf'), makePdf(['A1']));
      writeFileSync(join(d.drop, 'A2_result.pdf'), makePdf(['A2']));
      await d.waitForState('A1_result.pdf', 'archived');
      await d.waitForState('A2_result.pdf', 'archived');
      appendFileSync(log, [
        '10.9.8.7 - [23/Nov/2026:08:00:00 +0000] "GET /out/A2_result.pdf HTTP/1.1" 404 "curl/8.5.0"',
        '10.9.8.7 clinic [23/Nov/2026:08:00:01 +0000] "GET /out/A1_result.pdf HTTP/1.1" 200 "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ward-3"',
        '10.9.8.7 clinic [23/Nov/2026:08:00:02 +0000] "GET /out/other.pdf HTTP/1.1" 200 "curl/8.5.0"',
        // A second recipient behind the same address (a clinic's proxy): told apart by user and agent.
        '10.9.8.7 lab-2 [23/Nov/2026:08:05:00 +0000] "GET /out/A1_result.pdf HTTP/1.1" 200 "Wget/1.21.4"',
        '',
      ].join('\n'));
      const acked = await d.waitFor('A1_result.pdf', (f) => Boolean(f.acknowledgedAt), 'an acknowledgement', 15_000);
      assert.equal(acked.acknowledgedBy, 'clinic');
      assert.equal(acked.acknowledgedFrom, '10.9.8.7');
      assert.equal(acked.acknowledgedAt?.toISOString(), '2026-11-23T08:00:01.000Z');
      assert.equal(acked.acknowledgedUser, 'clinic');
      assert.equal(acked.acknowledgedAgent, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) ward-3');
      const acks = (await d.store.events({ fileIds: [acked.id], kind: 'acknowledged' })).map((e) => [e.address, e.remoteUser, e.userAgent]);
      assert.deepEqual(acks, [['10.9.8.7', 'clinic', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) ward-3'], ['10.9.8.7', 'lab-2', 'Wget/1.21.4']]);
      assert.equal((await d.file('A2_result.pdf'))?.acknowledgedAt, undefined, 'a 404 is no acknowledgement');
      const history = await runCli(['--config', d.t.configFile, 'distribution', 'history', '--state', 'acknowledged']);
      assert.match(history.stdout, /A1_result\.pdf\s+archived\s+all\s+web:out\s+.*2026-11-23 08:00 by clinic/);
      assert.doesNotMatch(history.stdout, /A2_result/);
    });
  });
}
