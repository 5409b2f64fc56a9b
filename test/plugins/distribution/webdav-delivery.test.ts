// End to end against a real nginx WebDAV server: files dropped are delivered with PUT,
// fetched back over HTTP, the server's access log is read back into acknowledgements; and
// the faults: server down, 507 (full disk), a file changed while being sent, a crash between
// sending and archiving, and log rotation. On SQLite and PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { NginxWebDav, nginxAvailable } from './nginx-webdav.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

const available = await nginxAvailable();

/** The bytes the test's source opener changes while they are being sent. */
const TAMPER_MARK = 'CHANGEDWHILESENDING';

/** Reads a file for sending, but rewrites part of it after the first bytes went out. */
function tamperingOpener(path: string, size: number): Readable {
  if (!path.includes(TAMPER_MARK)) return createReadStream(path, { end: size - 1 });
  return Readable.from(
    (async function* () {
      const handle = await open(path, 'r+');
      try {
        const head = Buffer.alloc(1000);
        await handle.read(head, 0, 1000, 0);
        yield head;
        await handle.write(Buffer.from('% tampered %'), 0, 12, 2000);
        const rest = Buffer.alloc(size - 1000);
        await handle.read(rest, 0, rest.length, 1000);
        yield rest;
      } finally {
        await handle.close();
      }
    })(),
  );
}

function putsOf(log: string, name: string): number {
  if (!existsSync(log)) return 0;
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes(`"PUT `) && l.includes(`/${name} `)).length;
}

for (const kind of databaseKinds()) {
  describe(`distribution to nginx WebDAV (${kind})`, { skip: !available && 'nginx with the dav module is not installed' }, () => {
    let nginx: NginxWebDav;
    let d: DistributionHost;
    const cli = (...args: string[]) => runCli(['--config', d.t.configFile, 'distribution', ...args]);

    before(async () => {
      nginx = await NginxWebDav.start();
      d = await startDistributionHost(kind, {
        rules: () => ({
          destinations: { clinics: { kind: 'webdav', url: `${nginx.url}results/` } },
          rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }],
        }),
        settings: { access_logs: nginx.accessLog, max_attempts: 6, name_patterns: '^[A-Z]{3}\\d+[A-Za-z0-9_.-]*\\.pdf$' },
        runtime: { openSource: tamperingOpener },
      });
      const csv = join(d.dir, 'folders.csv');
      writeFileSync(csv, 'label,tag,folder,base\nbhs,BHS,bhs/incoming,clinics\nbhs,GAB,gaborone,clinics\n');
      const loaded = await cli('folders', 'load', csv);
      assert.equal(loaded.status, 0, loaded.stderr);
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
      await nginx?.close();
    });

    it('delivers dropped files, which recipients fetch over HTTP, and the access log acknowledges them', async () => {
      const pdf = makePdf(['BHS1001 result']);
      writeFileSync(join(d.drop, 'BHS1001_report.pdf'), pdf);
      writeFileSync(join(d.drop, 'GAB2002_report.pdf'), makePdf(['GAB2002 result']));
      const first = await d.waitForState('BHS1001_report.pdf', 'archived');
      await d.waitForState('GAB2002_report.pdf', 'archived');
      assert.equal(first.remoteLocation, `${nginx.url}results/bhs/incoming/BHS1001_report.pdf`);
      assert.deepEqual(readFileSync(join(nginx.root, 'results', 'bhs', 'incoming', 'BHS1001_report.pdf')), pdf);
      assert.ok(first.localPath && existsSync(first.localPath), 'archived copy exists');
      assert.match(first.localPath, /archive\/\d{4}\/\d{2}\/\d{2}\/BHS1001_report\.pdf$/);
      assert.deepEqual(readdirSync(d.drop), [], 'the drop folder is emptied');

      const fetched = await fetch(`${nginx.url}results/bhs/incoming/BHS1001_report.pdf`);
      assert.equal(fetched.status, 200);
      assert.deepEqual(Buffer.from(await fetched.arrayBuffer()), pdf);
      const read = await cli('read-log');
      assert.equal(read.status, 0, read.stderr);
      assert.match(read.stdout, /1 acknowledgement/);
      const acked = await d.file('BHS1001_report.pdf');
      assert.ok(acked?.acknowledgedAt, 'acknowledged');
      assert.equal(acked.acknowledgedFrom, '127.0.0.1');
      assert.equal((await d.file('GAB2002_report.pdf'))?.acknowledgedAt, undefined, 'a file nobody fetched is not acknowledged');

      const events = (await d.store.events({ fileIds: [acked.id] })).map((e) => e.kind);
      assert.deepEqual(events, ['received', 'routed', 'checked', 'sending', 'sent', 'archived', 'acknowledged']);
      const again = await cli('read-log');
      assert.match(again.stdout, /0 line\(s\), 0 acknowledgement/, 'the saved position is not read twice');

      const history = await cli('history', '--label', 'bhs', '--since', '2020-01-01');
      assert.equal(history.status, 0, history.stderr);
      assert.match(history.stdout, /BHS1001_report\.pdf\s+archived\s+bhs\s+clinics:bhs\/incoming/);
      assert.match(history.stdout, /by 127\.0\.0\.1/);
      const none = await cli('history', '--pending');
      assert.doesNotMatch(none.stdout, /BHS1001/);
    });

    it('retries while the server is down and delivers once it is back', async () => {
      await nginx.down();
      writeFileSync(join(d.drop, 'BHS1003_down.pdf'), makePdf(['BHS1003']));
      const failed = await d.waitForState('BHS1003_down.pdf', 'failed');
      assert.match(failed.reason ?? '', /connection refused/);
      // The delivery job retries at once in tests, so by the time the CLI reads the file it
      // may already be back at `sending`; either way it is pending and says why.
      const pending = await cli('history', '--pending');
      await nginx.up();
      assert.match(pending.stdout, /BHS1003_down\.pdf\s+(failed|sending)\s.*connection refused/);
      const done = await d.waitForState('BHS1003_down.pdf', 'archived', 30_000);
      assert.ok(done.sentAt);
      assert.equal(putsOf(nginx.accessLog, 'BHS1003_down.pdf'), 1);
    });

    it('records a 507 (full disk) as a failure with the reason, and delivers after space is freed', async () => {
      nginx.writeConfig(true);
      await nginx.reload();
      writeFileSync(join(d.drop, 'BHS1004_full.pdf'), makePdf(['BHS1004']));
      const failed = await d.waitForState('BHS1004_full.pdf', 'failed');
      assert.match(failed.reason ?? '', /507 \(Insufficient Storage: the remote disk is full\)/);
      assert.equal(existsSync(join(nginx.root, 'results', 'bhs', 'incoming', 'BHS1004_full.pdf')), false);
      nginx.writeConfig(false);
      await nginx.reload();
      await d.waitForState('BHS1004_full.pdf', 'archived', 30_000);
      const kinds = (await d.store.events({ fileIds: [failed.id] })).map((e) => e.kind);
      assert.ok(kinds.includes('failed') && kinds.indexOf('failed') < kinds.lastIndexOf('sent'));
    });

    it('refuses a file that changes while it is being sent, and removes the remote copy', async () => {
      const name = `BHS1005_${TAMPER_MARK}.pdf`;
      writeFileSync(join(d.drop, name), makePdf(['BHS1005'], 20_000));
      const rejected = await d.waitForState(name, 'rejected');
      assert.match(rejected.reason ?? '', /the file changed after it was received, or while it was being sent \(the bytes sent hash to [0-9a-f]{12}…, not [0-9a-f]{12}…\); the remote copy was removed/);
      assert.equal(existsSync(join(nginx.root, 'results', 'bhs', 'incoming', name)), false, 'no wrong copy stays on the server');
      assert.ok(rejected.localPath?.includes(`${join('distribution', 'rejected')}`), rejected.localPath);
      assert.ok(existsSync(rejected.localPath!), 'the file is kept in rejected/');
    });

    it('does not send again after a crash between sending and recording it, nor after one before archiving', async () => {
      await d.stopWorker();
      // Crash 1: the PUT completed, then the process died before it recorded "sent".
      writeFileSync(join(d.drop, 'BHS1006_crash.pdf'), makePdf(['BHS1006']));
      const routed = await d.waitForState('BHS1006_crash.pdf', 'routed');
      const put = await fetch(`${nginx.url}results/bhs/incoming/BHS1006_crash.pdf`, { method: 'PUT', body: readFileSync(routed.localPath!) });
      assert.equal(put.status, 201);
      await d.store.update(routed.id, { state: 'sending' }, { kind: 'sending', detail: 'attempt cut off by a crash (test)' });
      // Crash 2: "sent" was recorded, then the process died before archiving.
      writeFileSync(join(d.drop, 'BHS1007_crash.pdf'), makePdf(['BHS1007']));
      const routed2 = await d.waitForState('BHS1007_crash.pdf', 'routed');
      const put2 = await fetch(`${nginx.url}results/bhs/incoming/BHS1007_crash.pdf`, { method: 'PUT', body: readFileSync(routed2.localPath!) });
      assert.equal(put2.status, 201);
      await d.store.update(routed2.id, { state: 'sent', sentAt: new Date(), remoteLocation: `${nginx.url}results/bhs/incoming/BHS1007_crash.pdf` }, { kind: 'sent', detail: 'test' });
      await d.startWorker();
      const one = await d.waitForState('BHS1006_crash.pdf', 'archived');
      const two = await d.waitForState('BHS1007_crash.pdf', 'archived');
      assert.equal(putsOf(nginx.accessLog, 'BHS1006_crash.pdf'), 1, 'not sent a second time');
      assert.equal(putsOf(nginx.accessLog, 'BHS1007_crash.pdf'), 1, 'not sent a second time');
      const sent = (await d.store.events({ fileIds: [one.id], kind: 'sent' }))[0];
      assert.match(sent?.detail ?? '', /not sent again/);
      assert.ok(two.localPath && existsSync(two.localPath));
    });

    it('reads on across log rotation without losing the rotated file\'s rest', async () => {
      const fetchFile = async (name: string) => {
        const r = await fetch(`${nginx.url}results/bhs/incoming/${name}`);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
      };
      for (const n of ['BHS1101_rot.pdf', 'BHS1102_rot.pdf', 'BHS1103_rot.pdf']) writeFileSync(join(d.drop, n), makePdf([n.slice(0, 7)]));
      for (const n of ['BHS1101_rot.pdf', 'BHS1102_rot.pdf', 'BHS1103_rot.pdf']) await d.waitForState(n, 'archived');
      await cli('read-log');
      await fetchFile('BHS1101_rot.pdf');
      await cli('read-log');
      assert.ok((await d.file('BHS1101_rot.pdf'))?.acknowledgedAt);
      // logrotate: rename, the server still writes to the renamed file until it reopens its log.
      renameSync(nginx.accessLog, `${nginx.accessLog}.1`);
      await fetchFile('BHS1102_rot.pdf');
      await nginx.reopenLogs();
      await fetchFile('BHS1103_rot.pdf');
      const read = await cli('read-log');
      assert.match(read.stdout, /rotated to access\.log\.1/);
      assert.ok((await d.file('BHS1102_rot.pdf'))?.acknowledgedAt, 'the request in the rotated file\'s rest counts');
      assert.ok((await d.file('BHS1103_rot.pdf'))?.acknowledgedAt, 'the request in the new file counts');
      // A log truncated in place (copytruncate) is read from its start.
      for (let i = 0; i < 3; i++) await fetchFile('BHS1103_rot.pdf');
      await cli('read-log');
      writeFileSync(nginx.accessLog, '');
      await fetchFile('BHS1101_rot.pdf');
      const truncated = await cli('read-log');
      assert.match(truncated.stdout, /truncated/);
      const acks = await d.store.events({ kind: 'acknowledged', fileIds: [(await d.file('BHS1101_rot.pdf'))!.id] });
      assert.equal(acks.length, 2, 'each fetch once, none twice');
      // Rotated and already compressed before the reader came back (logrotate without delaycompress).
      renameSync(nginx.accessLog, `${nginx.accessLog}.2`);
      await fetchFile('BHS1102_rot.pdf');
      await nginx.reopenLogs();
      writeFileSync(`${nginx.accessLog}.2.gz`, gzipSync(readFileSync(`${nginx.accessLog}.2`)));
      rmSync(`${nginx.accessLog}.2`);
      await fetchFile('BHS1103_rot.pdf');
      const compressed = await cli('read-log');
      assert.match(compressed.stdout, /rotated to access\.log\.2\.gz/);
      const ackCount = async (name: string) => (await d.store.events({ kind: 'acknowledged', fileIds: [(await d.file(name))!.id] })).length;
      assert.equal(await ackCount('BHS1102_rot.pdf'), 2, 'the fetch in the compressed rest counts, once');
      assert.equal(await ackCount('BHS1103_rot.pdf'), 5, 'and the one in the new file');
    });
  });
}
