// Intake and routing on a real host (SQLite and PostgreSQL), delivering to a local folder:
// the drop folder (at start, on change, only stable files), `distribution send`, uploads into
// a dataset of a configured type; refusals (name, length, MIME, duplicates, file checks) into
// rejected/ with reasons; routing rules, the remote folders CSV, by-day and by-MIME routers,
// unroutable files held and listed; the platform's own downloads as acknowledgements; the
// actions and the inspect warning.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { AuditLogId, HookRegistriesId, ResourceIntakeId } from '../../../core/services/service-ids.js';
import type { FileCheck } from '../../../core/api.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A PDF whose text holds its name's stem (so the pdf-identifier check finds it). */
const pdfFor = (name: string, extra = '') => makePdf([`Result sheet ${extra}`, `Identifier ${name.replace(/\.pdf$/, '').split('_')[0]}`]);

const forbidden: FileCheck = {
  name: 'forbidden-word',
  appliesTo: () => true,
  check: async (file) => (file.name.includes('FORBID') ? { ok: false, reason: 'the name holds a forbidden word' } : { ok: true }),
};

for (const kind of databaseKinds()) {
  describe(`distribution intake and routing (${kind})`, () => {
    let d: DistributionHost;
    let f: ApiFixtures;
    const cli = (...args: string[]) => runCli(['--config', d.t.configFile, 'distribution', ...args]);
    const rejectedNames = () => readdirSync(join(d.root, 'rejected')).sort();

    before(async () => {
      d = await startDistributionHost(kind, {
        rules: () => ({
          destinations: { local: { kind: 'folder', path: 'remote-local' }, here: { kind: 'dataset', dataset: 'deliveries' } },
          rules: [
            { label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' },
            { label: 'daily', router: 'by-day', pattern: '_(\\d{8})\\.pdf$', base: 'local', folder: 'daily/{yyyy}/{mm}/{dd}' },
            { label: 'types', router: 'by-mime', pattern: '\\.png$', base: 'local', folder: 'by-type/{subtype}' },
          ],
        }),
        settings: { mime_types: 'application/pdf image/png', max_name_length: 40, file_checks: 'pdf-identifier', identifier_pattern: '^([A-Za-z]+\\d*)', upload_dataset_types: 'results' },
        runtime: { extraFileChecks: [forbidden] },
      });
      f = await createApiFixtures(d.t);
      writeFileSync(join(d.drop, 'BHS0001_at_start.pdf'), pdfFor('BHS0001_at_start.pdf'));
      const csv = join(d.dir, 'folders.csv');
      writeFileSync(csv, 'label,tag,folder,base\nbhs,BHS,bhs,local\nbhs,DLV,,here\n');
      assert.equal((await cli('folders', 'load', csv)).status, 0);
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
    });

    it('takes files present in the drop folder at start, and delivers them verified by sha256', async () => {
      const done = await d.waitForState('BHS0001_at_start.pdf', 'archived');
      const delivered = readFileSync(join(d.localDestination, 'bhs', 'BHS0001_at_start.pdf'));
      assert.equal(sha(delivered), done.sha256);
      const sent = await d.store.events({ fileIds: [done.id], kind: 'sent' });
      assert.match(sent[0]!.detail!, /verified size \d+ and sha256/);
      const checked = await d.store.events({ fileIds: [done.id], kind: 'checked' });
      assert.match(checked[0]!.detail!, /pdf-identifier: identifier "BHS0001" found on page 2/);
    });

    it('serves an archived file again to a sysadmin only, audited, and nothing outside the archive', async () => {
      const done = await d.waitForState('BHS0001_at_start.pdf', 'archived');
      const url = `/distribution/archive/${done.id}`;
      const fetched = await d.t.app.request(url, { headers: { authorization: f.tokens.sysadmin } });
      assert.equal(fetched.status, 200);
      assert.equal(sha(Buffer.from(await fetched.arrayBuffer())), done.sha256);
      assert.match(fetched.headers.get('content-disposition') ?? '', /filename="BHS0001_at_start\.pdf"/);
      assert.equal((await d.t.app.request(url, { headers: { authorization: f.tokens.editor } })).status, 403, 'an editor may not');
      assert.equal((await d.t.app.request(url)).status, 403, 'nor may anybody anonymous');
      assert.equal((await d.t.app.request('/distribution/archive/not-a-file-id', { headers: { authorization: f.tokens.sysadmin } })).status, 404);
      const audited = await d.t.host.db!.sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_events WHERE action = 'distribution.archive.fetch' AND object_id = :id`, { replacements: { id: done.id }, type: QueryTypes.SELECT });
      assert.equal(Number(audited[0]!.n), 1);
    });

    it('serves byte ranges of an archived file, suffix ranges, and refuses unsatisfiable ones', async () => {
      const done = await d.waitForState('BHS0001_at_start.pdf', 'archived');
      const url = `/distribution/archive/${done.id}`;
      const get = (headers: Record<string, string>) => d.t.app.request(url, { headers: { authorization: f.tokens.sysadmin, ...headers } });
      const auditLog = d.t.host.services.get(AuditLogId);
      const fetches = async () => auditLog.list({ action: 'distribution.archive.fetch', objectId: done.id, limit: 1000 });
      const before = (await fetches()).length;
      const whole = await get({});
      assert.equal(whole.headers.get('accept-ranges'), 'bytes');
      const content = Buffer.from(await whole.arrayBuffer());
      assert.equal(sha(content), done.sha256);

      const part = await get({ range: 'bytes=10-19' });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-19/${content.length}`);
      assert.equal(part.headers.get('content-length'), '10');
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), content.subarray(10, 20));

      const tail = await get({ range: 'bytes=-7' });
      assert.equal(tail.status, 206);
      assert.equal(tail.headers.get('content-range'), `bytes ${content.length - 7}-${content.length - 1}/${content.length}`);
      assert.deepEqual(Buffer.from(await tail.arrayBuffer()), content.subarray(content.length - 7));

      const beyond = await get({ range: `bytes=${content.length}-` });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), `bytes */${content.length}`);
      assert.equal((await beyond.arrayBuffer()).byteLength, 0);

      const current = await get({ range: 'bytes=0-3', 'if-range': `"${done.sha256}"` });
      assert.equal(current.status, 206, 'If-Range naming this file keeps the range');
      assert.deepEqual(Buffer.from(await current.arrayBuffer()), content.subarray(0, 4));
      const stale = await get({ range: 'bytes=0-3', 'if-range': '"old"' });
      assert.equal(stale.status, 200, 'If-Range naming another version gets the whole file');
      assert.equal((await stale.arrayBuffer()).byteLength, content.length);
      assert.equal((await d.t.app.request(url, { headers: { authorization: f.tokens.editor, range: 'bytes=0-3' } })).status, 403, 'a range is no way round the sysadmin rule');

      const after = await fetches();
      const audited = after.slice(0, after.length - before).reverse();
      assert.deepEqual(audited.map((e) => e.details.range), [undefined, '10-19', `${content.length - 7}-${content.length - 1}`, '0-3', undefined], 'every fetch that served bytes, with its range');
    });

    it('takes a dropped file only once it is complete and stable; ignores partial names', async () => {
      const path = join(d.drop, 'BHS0002_growing.pdf');
      const full = pdfFor('BHS0002_growing.pdf', 'x'.repeat(3000));
      writeFileSync(join(d.drop, 'BHS0003.pdf.part'), pdfFor('BHS0003.pdf'));
      writeFileSync(path, full.subarray(0, 100));
      for (let at = 100; at < full.length; at += 300) {
        await new Promise((r) => setTimeout(r, 60));
        appendFileSync(path, full.subarray(at, Math.min(full.length, at + 300)));
        assert.equal(await d.file('BHS0002_growing.pdf'), undefined, 'not taken while it is being written');
      }
      const taken = await d.waitForState('BHS0002_growing.pdf', 'archived');
      assert.equal(taken.sha256, sha(full), 'the complete file was taken');
      assert.equal(await d.file('BHS0003.pdf.part'), undefined);
      renameSync(join(d.drop, 'BHS0003.pdf.part'), join(d.drop, 'BHS0003.pdf'));
      await d.waitForState('BHS0003.pdf', 'archived');
    });

    it('refuses bad names, long names, wrong content and duplicates into rejected/, with the reasons', async () => {
      const src = join(d.dir, 'src');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(src, { recursive: true });
      const write = (name: string, content: Buffer) => (writeFileSync(join(src, name), content), join(src, name));
      const original = pdfFor('BHS0100.pdf');
      const files = [
        write('BHS0100.pdf', original),
        write('bad name.pdf', pdfFor('bad.pdf')),
        write(`BHS0101_${'x'.repeat(40)}.pdf`, pdfFor('BHS0101.pdf')),
        write('BHS0102_text.pdf', Buffer.from('just text pretending to be a pdf\n')),
        write('BHS0103_copy.pdf', original),
      ];
      const run = await cli('send', ...files);
      assert.equal(run.status, 1, run.stdout);
      assert.match(run.stdout, /BHS0100\.pdf: routed to local:bhs/);
      assert.match(run.stdout, /bad name\.pdf: rejected: the name "bad name\.pdf" matches none of the name patterns/);
      assert.match(run.stdout, /BHS0101_x+\.pdf: rejected: the name is 52 characters long; at most 40 are allowed/);
      assert.match(run.stdout, /BHS0102_text\.pdf: rejected: its content is text\/plain; accepted are application\/pdf, image\/png \(sniffed from the bytes/);
      assert.match(run.stdout, /BHS0103_copy\.pdf: rejected: duplicate: a file with the same content \(sha256 [0-9a-f]{12}…\) named "BHS0100\.pdf"/);
      const again = await cli('send', write('BHS0100.pdf', pdfFor('BHS0100.pdf', 'other content')));
      assert.match(again.stdout, /BHS0100\.pdf: rejected: duplicate: a file named "BHS0100\.pdf" was received/);
      assert.ok(existsSync(join(src, 'BHS0100.pdf')), 'send copies; the original stays');
      assert.deepEqual(rejectedNames(), ['BHS0100.pdf', 'BHS0101_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.pdf', 'BHS0102_text.pdf', 'BHS0103_copy.pdf', 'bad name.pdf']);
      const rejected = await d.store.list({ state: 'rejected' });
      assert.equal(rejected.length, 5);
      assert.ok(rejected.every((r) => r.reason && r.localPath && existsSync(r.localPath)), 'every refusal is kept with its reason');
      // A refused duplicate is recorded once (one `duplicate` event, not also `rejected`), and its
      // `received` event says where it came from, as an accepted file's does.
      const copy = rejected.find((r) => r.name === 'BHS0103_copy.pdf')!;
      const copyEvents = await d.store.events({ fileIds: [copy.id] });
      assert.deepEqual(copyEvents.map((e) => e.kind), ['received', 'duplicate']);
      assert.equal(copyEvents[0]!.detail, 'from cli');
      assert.match(copyEvents[1]!.detail ?? '', /^duplicate: a file with the same content/);
      const badName = rejected.find((r) => r.name === 'bad name.pdf')!;
      assert.deepEqual((await d.store.events({ fileIds: [badName.id] })).map((e) => [e.kind, e.detail?.slice(0, 8)]), [['received', 'from cli'], ['rejected', 'the name']]);
      await d.waitForState('BHS0100.pdf', 'archived');
    });

    it('runs the file checks before sending: the identifier must be in the text, and contributed checks count', async () => {
      writeFileSync(join(d.drop, 'BHS0200_noid.pdf'), makePdf(['a result without its identifier']));
      writeFileSync(join(d.drop, 'BHS0201_FORBID.pdf'), pdfFor('BHS0201_FORBID.pdf'));
      const noid = await d.waitForState('BHS0200_noid.pdf', 'rejected');
      assert.match(noid.reason!, /file check "pdf-identifier" refused it: identifier "BHS0200" from the file name appears on none of its 1 page\(s\)/);
      const forbiddenFile = await d.waitForState('BHS0201_FORBID.pdf', 'rejected');
      assert.match(forbiddenFile.reason!, /file check "forbidden-word" refused it: the name holds a forbidden word/);
      assert.ok(rejectedNames().includes('BHS0200_noid.pdf'));
      assert.equal(existsSync(join(d.localDestination, 'bhs', 'BHS0200_noid.pdf')), false, 'never sent');
    });

    it('routes by day and by MIME type; holds unroutable files and routes them once their folder is loaded', async () => {
      writeFileSync(join(d.drop, 'report_20261105.pdf'), pdfFor('report_20261105.pdf'));
      writeFileSync(join(d.drop, 'scan.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 7)]));
      writeFileSync(join(d.drop, 'ZZZ0300_lost.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(50, 1)]));
      const daily = await d.waitForState('report_20261105.pdf', 'archived');
      assert.equal(daily.folder, 'daily/2026/11/05');
      assert.ok(existsSync(join(d.localDestination, 'daily', '2026', '11', '05', 'report_20261105.pdf')));
      const png = await d.waitForState('scan.png', 'archived');
      assert.equal(png.folder, 'by-type/png');
      // ZZZ matches rule bhs, whose table has no ZZZ row: by-mime takes it, so it is routed.
      assert.equal((await d.waitForState('ZZZ0300_lost.png', 'archived')).label, 'types');
    });

    it('holds a file no rule routes, lists it as pending, and routes it after `folders load` (bad rows named by line)', async () => {
      writeFileSync(join(d.drop, 'QQQ0400.pdf'), pdfFor('QQQ0400.pdf'));
      const held = await d.waitForState('QQQ0400.pdf', 'unroutable');
      assert.match(held.reason!, /rule "bhs" gave tag "QQQ", which has no row in the remote folders table/);
      assert.ok(existsSync(join(d.root, 'outgoing', 'QQQ0400.pdf')), 'held in outgoing/');
      const pending = await cli('history', '--pending');
      assert.match(pending.stdout, /QQQ0400\.pdf\s+unroutable\s+-\s+-.*rule "bhs" gave tag "QQQ", which has no row/);
      const action = await d.t.call('distribution_pending', {}, { token: f.tokens.sysadmin });
      assert.equal(action.status, 200);
      assert.ok((action.body.result as Array<{ name: string; state: string }>).some((r) => r.name === 'QQQ0400.pdf' && r.state === 'unroutable'));
      const csv = join(d.dir, 'more-folders.csv');
      writeFileSync(csv, 'label,tag,folder,base\nbhs,QQQ,qqq,local\nbhs,BAD,../escape,local\nbhs,NOB,x,nowhere\nbhs,BHS,bhs,local\n"bhs","QQQ2","a,b",local\nbhs,SHORT\n');
      const loaded = await cli('folders', 'load', csv);
      assert.equal(loaded.status, 1);
      assert.match(loaded.stdout, /added 2, updated 0, unchanged 1, rejected 3/);
      assert.match(loaded.stderr, /line 3: folder "\.\.\/escape" must not contain "\." or "\.\." parts/);
      assert.match(loaded.stderr, /line 4: base "nowhere" is not a destination of the rules file \(local, here\)/);
      assert.match(loaded.stderr, /line 7: has 2 field\(s\), the header 4/);
      assert.match(loaded.stdout, /held files: 1 now routed, 0 still unroutable/);
      assert.equal((await d.waitForState('QQQ0400.pdf', 'archived')).folder, 'qqq');
      const update = join(d.dir, 'update.csv');
      writeFileSync(update, 'label,tag,folder,base\nbhs,QQQ,qqq2,local\n');
      assert.match((await cli('folders', 'load', update)).stdout, /added 0, updated 1, unchanged 0, rejected 0/);
    });

    it('takes uploads into a dataset of a configured type; a delivered dataset resource is acknowledged by its download', async () => {
      for (const name of ['deliveries', 'incoming']) {
        const created = await d.t.call('package_create', { name, owner_org: 'lab', type: 'results' }, { token: f.tokens.editor });
        assert.equal(created.status, 200, JSON.stringify(created.body.error));
      }
      const resource = (await d.t.call('resource_create', { package_id: 'incoming', name: 'DLV0500_up.pdf' }, { token: f.tokens.editor })).body.result as { id: string };
      const bytes = pdfFor('DLV0500_up.pdf');
      const { Readable } = await import('node:stream');
      await d.t.host.services.get(ResourceIntakeId).storeStream(resource.id, Readable.from([bytes]), {}, { actor: { kind: 'user', user: { id: f.users.editor.id, name: f.users.editor.name, sysadmin: false } }, protocol: 'test' });
      const sent = await d.waitForState('DLV0500_up.pdf', 'archived');
      assert.equal(sent.source, 'upload');
      assert.match(sent.remoteLocation!, /^resource:/);
      const shown = (await d.t.call('package_show', { id: 'deliveries' }, { token: f.tokens.member, method: 'GET' })).body.result as { resources: Array<{ id: string; name: string; sha256: string }> };
      const delivered = shown.resources.find((r) => r.name === 'DLV0500_up.pdf')!;
      assert.equal(delivered.sha256, sha(bytes));
      const download = await d.t.app.request(`/dataset/deliveries/resource/${delivered.id}/download/DLV0500_up.pdf`, { headers: { authorization: f.tokens.member } });
      assert.equal(download.status, 200);
      await download.arrayBuffer();
      const read = await cli('read-log');
      assert.match(read.stdout, /platform downloads: \d+ event\(s\), 1 acknowledgement/);
      const acked = await d.file('DLV0500_up.pdf');
      assert.equal(acked?.acknowledgedBy, 'member-user');
      const acks = await d.t.call('distribution_acknowledgements', { name: 'DLV0500' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((acks.body.result as Array<{ name: string; by: string }>).map((a) => [a.name, a.by]), [['DLV0500_up.pdf', 'member-user']]);
    });

    it('answers the history actions with filters, to sysadmins only', async () => {
      const denied = await d.t.call('distribution_history', {}, { token: f.tokens.editor, method: 'GET' });
      assert.equal(denied.status, 403);
      const byLabel = await d.t.call('distribution_history', { label: 'daily', since: '2020-01-01' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((byLabel.body.result as Array<{ name: string }>).map((r) => r.name), ['report_20261105.pdf']);
      const events = (byLabel.body.result as Array<{ events: Array<{ kind: string }> }>)[0]!.events.map((e) => e.kind);
      assert.deepEqual(events, ['received', 'routed', 'checked', 'sending', 'sent', 'archived']);
      const future = await d.t.call('distribution_history', { since: '2999-01-01' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual(future.body.result, []);
      const badDate = await d.t.call('distribution_history', { since: 'yesterday' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.equal(badDate.status, 400);
      assert.match(badDate.body.error!.message, /since "yesterday" is not a date in the form YYYY-MM-DD/);
      // A US-style date would be read as month/day by JavaScript: refused, not guessed. So is a day that does not exist.
      const usDate = await d.t.call('distribution_history', { since: '08/12/2026' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.equal(usDate.status, 400);
      assert.match(usDate.body.error!.message, /since "08\/12\/2026" is not a date in the form YYYY-MM-DD/);
      assert.equal((await d.t.call('distribution_history', { until: '2026-02-30' }, { token: f.tokens.sysadmin, method: 'GET' })).status, 400);
      const isoTime = await d.t.call('distribution_history', { label: 'daily', since: '2020-01-01T08:30:00+02:00', events: false }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((isoTime.body.result as Array<{ name: string }>).map((r) => r.name), ['report_20261105.pdf']);
      // `sent` finds every file that was sent, though it has been archived since.
      const sent = await d.t.call('distribution_history', { state: 'sent', label: 'daily', events: false }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((sent.body.result as Array<{ name: string; state: string }>).map((r) => [r.name, r.state]), [['report_20261105.pdf', 'archived']]);
      const rejected = await d.t.call('distribution_history', { state: 'rejected', name: 'COPY' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((rejected.body.result as Array<{ name: string }>).map((r) => r.name), ['BHS0103_copy.pdf'], 'the name matches in any case');
      const cliBad = await cli('history', '--since', 'soon');
      assert.notEqual(cliBad.status, 0);
      const cliUs = await cli('history', '--since', '08/12/2026');
      assert.notEqual(cliUs.status, 0);
      assert.match(cliUs.stderr, /YYYY-MM-DD/);
      const cliSent = await cli('history', '--state', 'sent', '--name', 'REPORT_2026');
      assert.match(cliSent.stdout, /report_20261105\.pdf\s+archived/);
      // --limit says when more files match than it shows.
      const limited = await cli('history', '--state', 'rejected', '--limit', '1');
      assert.equal(limited.stdout.trim().split('\n').length, 2, limited.stdout);
      assert.match(limited.stderr, /1 file\(s\), the newest; more match: raise --limit/);
      const whole = await cli('history', '--state', 'rejected', '--limit', '1000');
      assert.match(whole.stderr, /^\d+ file\(s\)\n$/);
    });

    it('warns in inspect about files sent and not acknowledged after N days', async () => {
      const check = d.t.host.services.get(HookRegistriesId).inspectChecks.get('distribution/unacknowledged and held files')!;
      const old = (await d.file('report_20261105.pdf'))!;
      await d.store.update(old.id, { sentAt: new Date(Date.now() - 30 * 86_400_000) }, undefined);
      const findings = await check.run({ services: d.t.host.services, config: undefined as never, deep: false, progress: () => undefined });
      const late = findings.find((x) => /never acknowledged/.test(x.title));
      assert.equal(late?.severity, 'warning');
      assert.deepEqual(late?.details?.map((l) => l.split(':')[0]), ['report_20261105.pdf']);
      const unacked = await d.t.call('distribution_acknowledgements', { unacknowledged_days: 7 }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.deepEqual((unacked.body.result as Array<{ name: string }>).map((r) => r.name), ['report_20261105.pdf']);
    });
  });
}
