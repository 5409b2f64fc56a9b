// The per-rule anonymisation step on a real host: a rule names an Anonymiser (contributed here
// by a small test plugin, since the shipped crate anonymiser reads databases, not files); what
// is sent and archived is its output, the received original is kept unchanged beside it, and
// the trail says which anonymiser made it, with both sha256s. An anonymiser that fails fails
// the attempt with its reason (and the retry succeeds); an unknown one stops start-up, naming
// the rule.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { Anonymiser, definePlugin, type RecordDestination, type RecordSource } from '../../../core/api.js';
import type { FileRecordDestination, FileRecordSource } from '../../../plugins/distribution/anonymisation-step.js';
import { parseRules } from '../../../plugins/distribution/rules-file.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A test plugin with two file anonymisers: `redact` (replaces a policy's text, same length) and `flaky` (fails its first call per file). */
function testAnonymisers(calls: Array<{ anonymiser: string; source: RecordSource; policy: Record<string, unknown>; destination: RecordDestination }>) {
  const failedOnce = new Set<string>();
  const fileOf = (source: RecordSource, destination: RecordDestination): { source: FileRecordSource; destination: FileRecordDestination } => {
    if (source.kind !== 'file' || destination.kind !== 'file') throw new Error(`reads and writes files, not ${source.kind}`);
    return { source: source as FileRecordSource, destination: destination as FileRecordDestination };
  };
  return definePlugin({
    name: 'test-anonymisers',
    version: '0.1.0',
    register(ctx) {
      ctx.contribute(Anonymiser, {
        name: 'redact',
        async anonymise(source, policy, destination) {
          calls.push({ anonymiser: 'redact', source, policy, destination });
          const f = fileOf(source, destination);
          const text = (await readFile(f.source.path)).toString('latin1');
          await writeFile(f.destination.path, Buffer.from(text.replaceAll(String(policy.replace), String(policy.with)), 'latin1'));
          return { recordsRead: 1, recordsWritten: 1, destination };
        },
      });
      ctx.contribute(Anonymiser, {
        name: 'flaky',
        async anonymise(source, policy, destination) {
          calls.push({ anonymiser: 'flaky', source, policy, destination });
          const f = fileOf(source, destination);
          if (!failedOnce.has(f.source.name)) {
            failedOnce.add(f.source.name);
            throw new Error('the data dictionary is locked by another run');
          }
          await writeFile(f.destination.path, await readFile(f.source.path));
          return { recordsRead: 1, recordsWritten: 1, destination };
        },
      });
    },
  });
}

for (const kind of databaseKinds()) {
  describe(`anonymisation before sending (${kind})`, () => {
    let d: DistributionHost;
    const calls: Parameters<typeof testAnonymisers>[0] = [];

    before(async () => {
      d = await startDistributionHost(kind, {
        rules: () => ({
          destinations: { local: { kind: 'folder', path: 'remote-local' } },
          rules: [
            { label: 'anon', router: 'by-mime', pattern: '^ANON', base: 'local', folder: 'anon', anonymiser: 'redact', anonymiser_policy: { replace: 'Jane Doe', with: '########' } },
            { label: 'flaky', router: 'by-mime', pattern: '^FLAKY', base: 'local', folder: 'flaky', anonymiser: 'flaky' },
            { label: 'plain', router: 'by-mime', base: 'local', folder: 'plain' },
          ],
        }),
        settings: { max_attempts: 3 },
        extraPlugins: [testAnonymisers(calls)],
      });
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
    });

    it('sends and archives the anonymiser\'s output, keeps the received original, and records both sha256s', async () => {
      const original = makePdf(['ANON1 result', 'Patient Jane Doe']);
      const redacted = Buffer.from(original.toString('latin1').replaceAll('Jane Doe', '########'), 'latin1');
      writeFileSync(join(d.drop, 'ANON1_result.pdf'), original);
      const file = await d.waitForState('ANON1_result.pdf', 'archived');

      // What the recipient got, and what the archive keeps, is the anonymised copy.
      const delivered = readFileSync(join(d.localDestination, 'anon', 'ANON1_result.pdf'));
      assert.deepEqual(delivered, redacted);
      assert.ok(!delivered.includes('Jane Doe'));
      assert.match(relative(d.root, file.localPath!), /^archive\/\d{4}\/\d{2}\/\d{2}\/ANON1_result\.pdf$/);
      assert.deepEqual(readFileSync(file.localPath!), redacted);
      assert.equal(file.sha256, sha(original));
      assert.equal(file.sentSha256, sha(redacted));
      assert.equal(file.sentSize, redacted.length);

      // The received original is kept, unchanged, outside the archive; no working copy is left.
      const day = relative(join(d.root, 'archive'), file.localPath!).split('/').slice(0, 3).join('/');
      assert.deepEqual(readFileSync(join(d.root, 'originals', day, 'ANON1_result.pdf')), original);
      assert.deepEqual(readdirSync(join(d.root, 'anonymised')), []);

      // The anonymiser was handed the received file and the policy of the rule.
      const call = calls.find((c) => c.anonymiser === 'redact' && (c.source as FileRecordSource).name === 'ANON1_result.pdf')!;
      assert.equal(call.source.kind, 'file');
      assert.equal((call.source as FileRecordSource).sha256, sha(original));
      assert.deepEqual(call.policy, { replace: 'Jane Doe', with: '########' });

      const events = await d.store.events({ fileIds: [file.id] });
      const kinds = events.map((e) => e.kind);
      assert.deepEqual(kinds.slice(kinds.indexOf('checked')), ['checked', 'anonymised', 'sending', 'sent', 'archived']);
      const anonymised = events.find((e) => e.kind === 'anonymised')!;
      assert.match(anonymised.detail!, /anonymiser "redact"/);
      assert.ok(anonymised.detail!.includes(sha(original)) && anonymised.detail!.includes(sha(redacted)), anonymised.detail);
      assert.match(events.find((e) => e.kind === 'archived')!.detail!, /\(the anonymised copy that was sent\); the received original: originals\//);
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
      const bytes = makePdf(['FLAKY1 result']);
      writeFileSync(join(d.drop, 'FLAKY1_result.pdf'), bytes);
      const file = await d.waitForState('FLAKY1_result.pdf', 'archived');
      const events = await d.store.events({ fileIds: [file.id] });
      const failed = events.find((e) => e.kind === 'failed');
      assert.match(failed?.detail ?? '', /^anonymiser "flaky" \(rule "flaky"\) failed: the data dictionary is locked by another run$/);
      assert.ok(events.findIndex((e) => e.kind === 'anonymised') > events.indexOf(failed!), 'anonymised on the retry');
      assert.equal(calls.filter((c) => c.anonymiser === 'flaky').length, 2);
      assert.deepEqual(readFileSync(join(d.localDestination, 'flaky', 'FLAKY1_result.pdf')), bytes);
      assert.equal(existsSync(join(d.root, 'anonymised', file.id)), false);
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
