// A third-party plugin reaches the contract suites through the package's `testing` entry, as it
// reaches the hooks through `api`: both resolve by the package's name (Node's self-reference of a
// package through its "exports", the same resolution an installed package gets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const { name } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { name: string };

describe('the testing entry', () => {
  it('exports a runner for every contract suite', async () => {
    const testing = (await import(`${name}/testing`)) as Record<string, unknown>;
    for (const runner of ['runDepotContract', 'runAnonymiserContract', 'runUploadProtocolContract', 'runSchemaContract', 'runFileCheckContract', 'runDeliveryTargetContract', 'runActionContract']) assert.equal(typeof testing[runner], 'function', runner);
  });

  it('uses the same classes as the api entry, so errors thrown by a plugin satisfy the suites', async () => {
    const api = (await import(`${name}/api`)) as Record<string, unknown>;
    const local = await import('../../core/api.js');
    assert.equal(api.ValidationError, local.ValidationError);
  });
});
