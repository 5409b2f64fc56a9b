// The per-rule anonymisation step on a real host with the real crate anonymiser (the
// anonymiser-crate plugin, scrubbing each file with its patient's scrubber from a clinical
// source database): what is sent and archived is its output, the received original is kept
// unchanged beside it, and the trail says which anonymiser made it, with both sha256s. A
// failure of the anonymiser (its source database not there yet) fails the attempt with its
// reason and the retry sends; a file it refuses (a PDF) fails for good, without retries; an
// unknown anonymiser stops start-up, naming the rule.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Sequelize } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import crate from '../../../plugins/anonymiser-crate/index.js';
import { clinicalDataDictionary, generateClinicalDb, type ClinicalDataset, type SyntheticPatient } from '../../../scripts/generate-clinical-db.js';
import { parseRules } from '../../../plugins/distribution/rules-file.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A clinical source, a dictionary and two anon.ini: one whose source is there, one whose source arrives late. */
async function clinic(dir: string): Promise<{ dataset: ClinicalDataset; config: string; lateConfig: string; source: string; lateDir: string }> {
  mkdirSync(join(dir, 'clinic'), { recursive: true });
  const source = join(dir, 'clinic', 'source.sqlite');
  const sequelize = new Sequelize({ dialect: 'sqlite', storage: source, logging: false });
  let dataset: ClinicalDataset;
  try {
    dataset = await generateClinicalDb(sequelize, { patients: 4, notesPerPatient: 1, noteChars: 100, seed: 5, optOutEvery: 0 });
  } finally {
    await sequelize.close();
  }
  writeFileSync(join(dir, 'clinic', 'dd.tsv'), clinicalDataDictionary());
  for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, 'clinic', `${k}.key`), `${k}-key-for-distribution-tests`);
  const ini = (sourceFile: string): string => ['[anonymise]', 'data_dictionary = dd.tsv', `destination_url = sqlite:${join(dir, 'clinic', 'unused.sqlite')}`, `secret_map_url = sqlite:${join(dir, 'clinic', 'secret.sqlite')}`,
    'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', '[source:main]', `url = sqlite:${sourceFile}`].join('\n');
  const lateDir = join(dir, 'clinic', 'late');
  writeFileSync(join(dir, 'clinic', 'anon.ini'), ini(source));
  writeFileSync(join(dir, 'clinic', 'late.ini'), ini(join(lateDir, 'source.sqlite')));
  return { dataset, config: join(dir, 'clinic', 'anon.ini'), lateConfig: join(dir, 'clinic', 'late.ini'), source, lateDir };
}

const letter = (p: SyntheticPatient): string => `Result for ${p.forename} ${p.surname.toUpperCase()} (NHS ${p.nhsNumber}), tel. ${p.phone}: within normal limits.\n`;

for (const kind of databaseKinds()) {
  describe(`anonymisation before sending, with the crate anonymiser (${kind})`, () => {
    let d: DistributionHost;
    let c: Awaited<ReturnType<typeof clinic>>;

    before(async () => {
      d = await startDistributionHost(kind, {
        rules: ({ dir }) => ({
          destinations: { local: { kind: 'folder', path: 'remote-local' } },
          rules: [
            { label: 'anon', router: 'by-mime', pattern: '^ANON', base: 'local', folder: 'anon', anonymiser: 'crate', anonymiser_policy: { config: join(dir, 'clinic', 'anon.ini'), patient_from_name: '^ANON(?<pid>\\d+)_' } },
            { label: 'late', router: 'by-mime', pattern: '^LATE', base: 'local', folder: 'late', anonymiser: 'crate', anonymiser_policy: { config: join(dir, 'clinic', 'late.ini'), patient_from_name: '^LATE(?<pid>\\d+)_' } },
            { label: 'pdf', router: 'by-mime', pattern: '^PDF', base: 'local', folder: 'pdf', anonymiser: 'crate', anonymiser_policy: { config: join(dir, 'clinic', 'anon.ini'), patient_from_name: '^PDF(?<pid>\\d+)_' } },
            { label: 'plain', router: 'by-mime', base: 'local', folder: 'plain' },
          ],
        }),
        settings: { max_attempts: 3, mime_types: 'application/pdf text/plain' },
        extraPlugins: [crate],
      });
      c = await clinic(d.dir);
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
    });

    it('sends and archives the anonymiser\'s output under a scrubbed name, keeps the received original, and records both sha256s', async () => {
      const p = c.dataset.patients[0]!;
      assert.match(p.surname, /^[A-Za-z]+$/, 'the test names the file with the surname');
      const original = Buffer.from(letter(p));
      // The received name carries the patient ID and the surname: neither may leave.
      const received = `ANON${p.pid}_${p.surname}_result.txt`;
      writeFileSync(join(d.drop, received), original);
      const file = await d.waitForState(received, 'archived');

      // The name it was sent under: the patient ID became the research ID, the surname was scrubbed.
      const sentName = file.sentName!;
      assert.ok(sentName, 'an anonymised copy whose name held identifiers is sent under another name');
      assert.ok(!sentName.includes(String(p.pid)) && !sentName.toLowerCase().includes(p.surname.toLowerCase()), `identifiers left in "${sentName}"`);
      assert.match(sentName, /^ANON[A-Za-z0-9]+_.*result\.txt$/);
      assert.deepEqual(readdirSync(join(d.localDestination, 'anon')), [sentName]);

      // What the recipient got, and what the archive keeps, is the anonymised copy.
      const delivered = readFileSync(join(d.localDestination, 'anon', sentName));
      const text = delivered.toString('utf8');
      for (const identifier of [p.forename, p.surname, p.nhsNumber, p.phone]) assert.ok(!text.toLowerCase().includes(identifier.toLowerCase()), `${identifier} was sent`);
      assert.match(text, /^Result for \[__PPP__\] \[__PPP__\] \(NHS \[__PPP__\]\), tel\. \[__PPP__\]: within normal limits\.\n$/);
      assert.equal(relative(d.root, file.localPath!).replace(/^archive\/\d{4}\/\d{2}\/\d{2}\//, ''), sentName);
      assert.deepEqual(readFileSync(file.localPath!), delivered);
      assert.equal(file.sha256, sha(original));
      assert.equal(file.sentSha256, sha(delivered));
      assert.equal(file.sentSize, delivered.length);

      // The received original is kept, unchanged and under its name, outside the archive; no working copy is left.
      const day = relative(join(d.root, 'archive'), file.localPath!).split('/').slice(0, 3).join('/');
      assert.deepEqual(readFileSync(join(d.root, 'originals', day, received)), original);
      assert.deepEqual(readdirSync(join(d.root, 'anonymised')), []);

      // A recipient's download (an access log line) names the sent name: that is what finds the file.
      assert.deepEqual((await d.store.sentByName([sentName])).map((f) => f.id), [file.id]);
      assert.deepEqual(await d.store.sentByName([received]), []);

      const events = await d.store.events({ fileIds: [file.id] });
      const kinds = events.map((e) => e.kind);
      assert.deepEqual(kinds.slice(kinds.indexOf('checked')), ['checked', 'anonymised', 'sending', 'sent', 'archived']);
      const anonymised = events.find((e) => e.kind === 'anonymised')!;
      assert.match(anonymised.detail!, /anonymiser "crate"/);
      assert.ok(anonymised.detail!.includes(sha(original)) && anonymised.detail!.includes(sha(delivered)), anonymised.detail);
      assert.ok(events.find((e) => e.kind === 'sending')!.detail!.includes(`as ${sentName}`));
      assert.match(events.find((e) => e.kind === 'archived')!.detail!, /\(the anonymised copy that was sent\); the received original: originals\//);
    });

    it('keeps the received name of an anonymised copy when the name holds no identifier', async () => {
      const p = c.dataset.patients[3]!;
      const received = `ANON${p.pid}_result.txt`;
      writeFileSync(join(d.drop, received), letter(p));
      const file = await d.waitForState(received, 'archived');
      // The patient ID still becomes the research ID; nothing else of the name changes.
      assert.ok(file.sentName && !file.sentName.includes(String(p.pid)));
      assert.match(file.sentName, /^ANON[0-9a-f]+_result\.txt$/);
    });

    it('sends a file of a rule without an anonymiser as received', async () => {
      const bytes = makePdf(['PLAIN1 result', 'Patient Jane Doe']);
      writeFileSync(join(d.drop, 'PLAIN1_result.pdf'), bytes);
      const file = await d.waitForState('PLAIN1_result.pdf', 'archived');
      assert.deepEqual(readFileSync(join(d.localDestination, 'plain', 'PLAIN1_result.pdf')), bytes);
      assert.equal(file.sentSha256, undefined);
      assert.ok(!(await d.store.events({ fileIds: [file.id] })).some((e) => e.kind === 'anonymised'));
    });

    it('fails the attempt when the anonymiser fails, with its reason in the trail, and the retry sends', async () => {
      const p = c.dataset.patients[1]!;
      const name = `LATE${p.pid}_result.txt`;
      writeFileSync(join(d.drop, name), letter(p));
      // The anonymiser's source database is not there yet: the first attempt fails.
      let failed: Awaited<ReturnType<DistributionHost['file']>>;
      for (const until = Date.now() + 20_000; Date.now() < until && !failed; await new Promise((r) => setTimeout(r, 50))) {
        const f = await d.file(name);
        if (f && (await d.store.events({ fileIds: [f.id] })).some((e) => e.kind === 'failed')) failed = f;
      }
      assert.ok(failed, 'the first attempt failed');
      mkdirSync(c.lateDir, { recursive: true });
      copyFileSync(c.source, join(c.lateDir, 'source.sqlite'));
      const file = await d.waitForState(name, 'archived');
      assert.equal(file.id, failed!.id);
      const events = await d.store.events({ fileIds: [file.id] });
      const failure = events.find((e) => e.kind === 'failed');
      assert.match(failure?.detail ?? '', /^anonymiser "crate" \(rule "late"\) failed: cannot connect to the source main database/);
      assert.ok(events.findIndex((e) => e.kind === 'anonymised') > events.indexOf(failure!), 'anonymised on the retry');
      const delivered = readFileSync(join(d.localDestination, 'late', file.sentName!), 'utf8');
      assert.ok(!delivered.includes(p.surname.toUpperCase()));
      assert.equal(existsSync(join(d.root, 'anonymised', file.id)), false);
    });

    it('fails a file the anonymiser refuses for good, with its reason, without retrying', async () => {
      const p = c.dataset.patients[2]!;
      const name = `PDF${p.pid}_report.pdf`;
      writeFileSync(join(d.drop, name), makePdf(['Report', `${p.forename} ${p.surname}`]));
      const file = await d.waitForState(name, 'failed');
      const events = await d.store.events({ fileIds: [file.id] });
      const failures = events.filter((e) => e.kind === 'failed');
      assert.equal(failures.length, 1, 'one attempt only');
      assert.match(failures[0]!.detail!, /^anonymiser "crate" \(rule "pdf"\) refused the file: ".*" is a PDF: the crate anonymiser rewrites CSV, JSON and plain-text files, and does not rewrite a PDF's text layer/);
      assert.equal(existsSync(join(d.localDestination, 'pdf', name)), false, 'nothing was sent');
    });
  });
}

describe('anonymisers named by rules', () => {
  it('refuses to start when a rule names an anonymiser no plugin contributes, naming the rule', async () => {
    await assert.rejects(
      startDistributionHost('sqlite', {
        rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'plain', router: 'by-mime', base: 'local', folder: 'plain' }, { label: 'clinic', router: 'by-mime', base: 'local', folder: 'c', anonymiser: 'nope' }] }),
      }),
      /rule 2 \("clinic"\) names anonymiser "nope", which no enabled plugin contributes \(no anonymiser is contributed\)/,
    );
  });

  it('refuses rules of one label that name different anonymisers, and a policy without an anonymiser', () => {
    assert.throws(
      () => parseRules(JSON.stringify({ rules: [{ label: 'a', pattern: '^(A)', anonymiser: 'x' }, { label: 'a', pattern: '^(B)' }, { label: 'b', pattern: '^(C)', anonymiser_policy: {} }] }), '/'),
      /rule 2 \("a"\): rules of one label must name the same anonymiser \(an earlier "a" rule names "x"\); rule 3 \("b"\): "anonymiser_policy" needs "anonymiser"/,
    );
  });
});

describe('the drop folder setting', () => {
  it('still reads the deprecated [plugin:distribution] watch, with a warning', async () => {
    const d = await startDistributionHost('sqlite', {
      rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'plain', router: 'by-mime', base: 'local', folder: 'plain' }] }),
      settings: { watch: '{dir}/drop', stable_ms: 200 },
      folderSettings: { watch: '' },
    });
    try {
      await d.t.host.startPlugins();
      assert.ok(d.t.logs.some((l) => l.level === 'warn' && /\[plugin:distribution\] watch is deprecated: enable the plugin distribution-folders and set \[plugin:distribution-folders\] watch instead/.test(l.msg)));
      writeFileSync(join(d.drop, 'OLD1_result.pdf'), makePdf(['OLD1 result']));
      await d.waitForState('OLD1_result.pdf', 'routed');
    } finally {
      await d.close();
    }
  });
});
