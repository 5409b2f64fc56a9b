// The contract a plugin shipped as plain JavaScript relies on: every hook of DESIGN.md is
// exported by core/api.ts as the symbol `Symbol.for('platform.hook.<Name>')` and listed in
// HOOK_NAMES; every service identifier `<Name>Id` is `Symbol.for('platform.<Name>')`; and
// the example package really imports nothing from the platform.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as api from '../../../core/api.js';

const exported = api as unknown as Record<string, unknown>;

describe('the plugin API surface', () => {
  it('exports every hook of DESIGN.md as Symbol.for("platform.hook.<Name>"), and lists exactly those in HOOK_NAMES', () => {
    // DESIGN.md's hooks, and FileCheck, which the distribution issue asks core for.
    const designHooks = ['Depot', 'UploadProtocol', 'Schema', 'Anonymiser', 'Distribution', 'FileCheck', 'Routes', 'Actions', 'Commands', 'JobHandlers', 'InspectChecks', 'AuthPolicy', 'Migrations', 'Lifecycle', 'EventObserver', 'WebPages', 'DatasetSections'];
    assert.deepEqual([...api.HOOK_NAMES].sort(), [...designHooks].sort());
    for (const name of api.HOOK_NAMES) assert.equal(exported[name], Symbol.for(`platform.hook.${name}`), name);
    const hookSymbols = Object.entries(exported).filter(([, value]) => typeof value === 'symbol' && Symbol.keyFor(value)?.startsWith('platform.hook.'));
    assert.deepEqual(hookSymbols.map(([name]) => name).sort(), [...designHooks].sort(), 'no hook symbol is exported without being listed');
  });

  it('exports every service identifier <Name>Id as Symbol.for("platform.<Name>")', () => {
    const ids = Object.entries(exported).filter(([name]) => /^[A-Z]\w*Id$/.test(name));
    assert.ok(ids.length >= 12, `found ${ids.length} service identifiers`);
    for (const [name, value] of ids) assert.equal(value, Symbol.for(`platform.${name.slice(0, -2)}`), name);
  });

  it('the example package imports nothing, from the platform or elsewhere', () => {
    const source = readFileSync(new URL('../../../../test/fixtures/platform-plugin-example/index.js', import.meta.url), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\bimport\b|\brequire\s*\(/);
    const manifest = JSON.parse(readFileSync(new URL('../../../../test/fixtures/platform-plugin-example/package.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([manifest.name, manifest.version, manifest.type, manifest.main, manifest.dependencies], ['platform-plugin-example', '1.0.0', 'module', 'index.js', undefined]);
  });
});
