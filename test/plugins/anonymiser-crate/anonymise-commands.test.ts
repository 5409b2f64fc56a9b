// The plugin inside a real host: `platform anonymise run|validate|draft-dd|reidentify` through
// the CLI, a run as a job on the queue (its batches on core's thread pool), and the Anonymiser
// hook. SQLite for the platform and the anonymiser's databases, to stay quick.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestHost, writeTestConfig, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { anonFixture, type AnonFixture } from './anon-fixture.js';
import { Anonymiser, AuditLogId, JobSchedulerId } from '../../../core/api.js';
import { parseDataDictionary } from '../../../plugins/anonymiser-crate/data-dictionary.js';
import { planDictionary } from '../../../plugins/anonymiser-crate/dictionary-plan.js';

describe('anonymiser-crate in a host', () => {
  let t: TestHost;
  let f: AnonFixture;
  let platformIni: string;
  const cli = (...args: string[]) => runCli(['--config', platformIni, ...args], f.env);

  before(async () => {
    f = await anonFixture('sqlite', { patients: 8, notesPerPatient: 3 });
    t = await startTestHost('sqlite', { pluginNames: ['anonymiser-crate'], extraConfig: '[jobs]\npoll_ms = 20\n', env: f.env });
    platformIni = writeTestConfig(t.db, ['anonymiser-crate']);
    // Jobs and the hook read the process's environment, as a worker process would.
    Object.assign(process.env, f.env);
  });
  after(async () => {
    for (const name of Object.keys(f?.env ?? {})) delete process.env[name];
    await t?.close();
    await f?.cleanup();
  });

  test('validate reports every dictionary problem by line and column, and writes nothing', async () => {
    const ok = await cli('anonymise', 'validate', '--config', f.configFile);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid: 3 table\(s\)/);
    const good = (await import('node:fs')).readFileSync(join(f.dir, 'dd.tsv'), 'utf8');
    writeFileSync(join(f.dir, 'dd.tsv'), good.replace('\tKHP*\t', '\tKHPZ*\t').replace('\tscrub\t', '\tscrub,shout\t'));
    try {
      const bad = await cli('anonymise', 'run', '--config', f.configFile);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /data dictionary:3: column src_flags \(5\): unknown flag "Z"/);
      assert.match(bad.stderr, /data dictionary:22: column alter_method \(11\): unknown alter method "shout"/);
      assert.match(bad.stderr, /nothing was written/);
    } finally {
      writeFileSync(join(f.dir, 'dd.tsv'), good);
    }
  });

  test('run writes the destination and prints a summary; reidentify finds the patient and is audited', async () => {
    const run = await cli('anonymise', 'run', '--config', f.configFile, '--workers', '2');
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { patients: number; rowsWritten: number; workers: number };
    assert.equal(summary.workers, 2);
    assert.ok(summary.rowsWritten > 0);
    const patient = f.dataset.patients.find((p) => !p.optOut)!;
    const rid = createHmac('sha256', 'patient-key-for-tests').update(String(patient.pid)).digest('hex');
    const found = await cli('anonymise', 'reidentify', rid, '--config', f.configFile, '--reason', 'safety concern raised by the research team');
    assert.equal(found.status, 0, found.stderr);
    assert.equal(JSON.parse(found.stdout).pid, String(patient.pid));
    const missing = await cli('anonymise', 'reidentify', 'ab'.repeat(32), '--config', f.configFile);
    assert.equal(missing.status, 1);
    const events = await t.host.services.get(AuditLogId).list({ action: 'anonymise.reidentify' });
    assert.deepEqual(events.map((e) => [e.objectId, e.details.found]).sort(), [[rid, true], ['ab'.repeat(32), false]].sort());
    assert.ok(!JSON.stringify(events).includes(String(patient.pid)), 'the audit trail holds no patient ID');
    const bad = await cli('anonymise', 'reidentify', 'not-a-rid', '--config', f.configFile);
    assert.equal(bad.status, 2);
  });

  test('draft-dd writes a dictionary that parses, guesses identifiers, and refuses passwords on the command line', async () => {
    const draft = await cli('anonymise', 'draft-dd', '--source-env', 'ANON_TEST_SOURCE_URL');
    assert.equal(draft.status, 0, draft.stderr);
    const parsed = parseDataDictionary(draft.stdout);
    assert.deepEqual(parsed.problems, []);
    const field = (table: string, name: string) => parsed.rows.find((r) => r.srcTable === table && r.srcField === name)!;
    assert.deepEqual([...field('patient', 'patient_id').flags].sort(), ['*', 'H', 'K', 'P'].sort());
    assert.ok(field('patient', 'nhs_number').flags.has('M'));
    assert.equal(field('patient', 'surname').scrubSrc, 'patient');
    assert.equal(field('patient', 'surname').include, false);
    assert.equal(field('patient', 'postcode').scrubMethod, 'code');
    assert.equal(field('patient', 'dob').scrubMethod, 'date');
    assert.deepEqual(field('note', 'note_text').alterMethods, [{ kind: 'scrub' }]);
    assert.deepEqual(planDictionary(parsed.rows, { reservedFields: ['trid', 'mrid', '_src_hash'] }).problems, []);
    const refused = await cli('anonymise', 'draft-dd', '--source', 'postgresql://admin:hunter2@db/x');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /holds a password/);
    assert.doesNotMatch(refused.stderr, /hunter2/);
  });

  test('a run queued as a job runs on the worker, its batches on the thread pool', async () => {
    const queued = await cli('anonymise', 'run', '--config', f.configFile, '--job', '--incremental');
    assert.equal(queued.status, 0, queued.stderr);
    const jobId = queued.stdout.trim();
    const worker = t.host.jobWorker();
    await worker.start();
    try {
      const queue = t.host.services.get(JobSchedulerId);
      let job = await queue.get(jobId);
      for (let i = 0; i < 300 && (job.state === 'queued' || job.state === 'running'); i++) {
        await sleep(100);
        job = await queue.get(jobId);
      }
      assert.equal(job.state, 'succeeded', job.lastError ?? '');
      const result = job.result as { incremental: boolean; rowsWritten: number; rowsUnchanged: number };
      assert.equal(result.incremental, true);
      assert.equal(result.rowsWritten, 0, 'nothing changed since the last run');
      assert.ok(result.rowsUnchanged > 0);
      // platform jobs show says how far it got (counts only).
      assert.ok(job.progress && job.progress.total! > 0, JSON.stringify(job.progress));
      assert.match(job.progress.detail ?? '', /^(patients|tables|cleanup|done): \d+ of \d+ patients, \d+ rows written$/);
    } finally {
      await worker.stop(1000);
    }
  });

  test('the Anonymiser hook runs a policy and refuses sources it cannot read', async () => {
    const anonymiser = t.host.registries.anonymisers.get('crate');
    assert.ok(anonymiser);
    assert.equal(Anonymiser.toString(), 'Symbol(platform.hook.Anonymiser)');
    const db = { kind: 'database', description: 'from anon.ini' };
    const result = await anonymiser.anonymise(db, { config: f.configFile, incremental: true }, db);
    assert.ok(result.recordsRead > 0);
    await assert.rejects(anonymiser.anonymise({ kind: 'csv', description: 'x' }, { config: f.configFile }, db), /reads databases \(kind "database"\) and files \(kind "file"\), not "csv" to "database"/);
    await assert.rejects(anonymiser.anonymise({ kind: 'file', description: 'x' }, { config: f.configFile }, db), /turns a file into a file, not "file" into "database"/);
  });
});
