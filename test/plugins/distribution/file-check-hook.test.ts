// The FileCheck hook: a check another plugin contributes is collected by core in plugin order
// and run by the distribution plugin's check runner after its own, and its refusal names it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FileCheck, definePlugin, type CheckedFile } from '../../../core/api.js';
import { HookRegistriesId } from '../../../core/services/service-ids.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { FileCheckRunner } from '../../../plugins/distribution/file-check-runner.js';

const checkPlugin = (name: string, word: string) =>
  definePlugin({
    name,
    version: '1.0.0',
    coreVersion: '^0.1.0',
    register(ctx) {
      ctx.contribute(FileCheck, {
        name: `no-${word}`,
        appliesTo: (file) => file.mimeType === 'application/pdf',
        check: async (file) => (file.name.includes(word) ? { ok: false, reason: `the name holds "${word}"` } : { ok: true, detail: 'clean' }),
      });
    },
  });

const file = (name: string, mimeType = 'application/pdf'): CheckedFile => ({ name, path: '/nonexistent', mimeType, size: 1, sha256: '0'.repeat(64) });

describe('the FileCheck hook', () => {
  let t: TestHost;
  before(async () => {
    t = await startTestHost('sqlite', { plugins: [checkPlugin('check-a', 'SECRET'), checkPlugin('check-b', 'DRAFT')] });
  });
  after(async () => t.close());

  it('collects contributions in plugin order, and plugins list names them', () => {
    const registries = t.host.services.get(HookRegistriesId);
    assert.deepEqual(registries.fileChecks.map((c) => [c.plugin, c.value.name]), [['check-a', 'no-SECRET'], ['check-b', 'no-DRAFT']]);
    assert.deepEqual(registries.contributionsOf('check-b'), ['file-check no-DRAFT']);
  });

  it('runs the shipped checks first, then the contributed ones; the first refusal wins', async () => {
    const shipped = { name: 'shipped', appliesTo: () => true, check: async () => ({ ok: true as const }) };
    const runner = new FileCheckRunner([shipped], () => t.host.services);
    assert.deepEqual(runner.checks().map((c) => c.name), ['shipped', 'no-SECRET', 'no-DRAFT']);
    const signal = new AbortController().signal;
    assert.deepEqual(await runner.run(file('ABC1.pdf'), signal), { ok: true, passed: ['shipped', 'no-SECRET: clean', 'no-DRAFT: clean'] });
    assert.deepEqual(await runner.run(file('ABC1_DRAFT_SECRET.pdf'), signal), { ok: false, check: 'no-SECRET', reason: 'the name holds "SECRET"' });
    assert.deepEqual(await runner.run(file('ABC1_DRAFT.png', 'image/png'), signal), { ok: true, passed: ['shipped'] }, 'checks that do not apply are skipped');
  });
});
