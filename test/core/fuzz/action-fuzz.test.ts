// Property-based fuzzing of every registered action, with every plugin enabled: inputs are
// generated from each action's own input schema (its property names, required fields and
// types) mixed with hostile values (NUL bytes, lone surrogates, huge and negative numbers,
// 20-digit ids, prototype keys, deep nesting, path traversal) and sent as JSON bodies and as
// query strings, as a sysadmin (who gets furthest into the code) and as an editor. Properties:
// no answer is ever a 5xx, and a refused request (4xx) changes nothing in the database.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { seededRandom } from '../../../scripts/seeded-random.js';
import { DatabaseId, HookRegistriesId } from '../../../core/services/service-ids.js';

const ALL_PLUGINS = ['depot-fs', 'upload-tus', 'upload-camcops', 'schema-json', 'schema-rtdc', 'anonymiser-crate', 'distribution', 'distribution-folders'];
/** Cases per action and database; the seed makes a failure reproducible. */
const CASES = Number(process.env.PLATFORM_FUZZ_CASES ?? 16);
const SEED = Number(process.env.PLATFORM_FUZZ_SEED ?? 20);

/** Values that broke, or could break, a layer between HTTP and the database. */
const HOSTILE: unknown[] = [
  '\u0000', 'a\u0000b', 'organization:a\u0000b', '\ud800', 'x\udfffy', '', ' ', 'x'.repeat(70_000), '../../../etc/passwd', 'a/b', '..',
  -1, -1e21, 1e21, 2 ** 31, 2 ** 53 + 2, 0.5, '12345678901234567890', '-5', '1e21', 'NaN', 'Infinity',
  null, true, false, [], [null], {}, { __proto__: null, a: 1 }, JSON.parse('{"__proto__":{"polluted":true}}'),
  'true', '2026-13-45', '08/12/2026', '9999-12-31T23:59:59Z', 'ä'.repeat(300), '%00', '\n\r\t', '*:*', 'state:active OR 1=1', "'; DROP TABLE users; --",
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'a\u0000b', '\ud800', 'unknown_field'];

interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
  enum?: unknown[];
}

function deep(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { nested: value };
  return value;
}

for (const kind of databaseKinds()) {
  describe(`action fuzzing over every action (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let resourceId: string;

    /** Everything a refused request must leave as it was. */
    const snapshot = async (): Promise<string> => {
      const { models, sequelize } = t.host.services.get(DatabaseId);
      const jobs = await sequelize.query('SELECT COUNT(*) AS n FROM jobs', { type: QueryTypes.SELECT });
      const datasets = (await models.Dataset.findAll({ order: [['id', 'ASC']], raw: true })) as unknown[];
      const resources = (await models.Resource.findAll({ order: [['id', 'ASC']], raw: true })) as unknown[];
      return JSON.stringify({ counts: await tableCounts(t), jobs, datasets, resources });
    };

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ALL_PLUGINS });
      f = await createApiFixtures(t);
      assert.equal((await t.call('package_create', { name: 'fuzz-set', owner_org: 'lab' }, { token: f.tokens.editor })).status, 200);
      const resource = await t.call('resource_create', { package_id: 'fuzz-set', name: 'cells.csv' }, { token: f.tokens.editor });
      resourceId = (resource.body.result as { id: string }).id;
    });
    after(async () => t.close());

    it('never answers 5xx, and a refusal changes nothing', async () => {
      const random = seededRandom(SEED);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const plausible = ['lab', 'other', 'fuzz-set', 'editor-user', resourceId, f.orgs.lab, 'cells.csv', '1', 'patient', 'true'];
      const registries = t.host.services.get(HookRegistriesId);
      const failures: string[] = [];
      let sent = 0;
      for (const name of registries.actions.names().sort()) {
        const action = registries.actions.get(name)!;
        const schema = (action.inputSchema ?? {}) as JsonSchemaLike;
        const properties = Object.keys(schema.properties ?? {});
        for (let i = 0; i < CASES; i++) {
          const input: Record<string, unknown> = {};
          // Required fields mostly plausible, so the request gets past the first checks.
          for (const field of schema.required ?? []) input[field] = random() < 0.7 ? pick(plausible) : pick(HOSTILE);
          for (const field of properties) {
            const roll = random();
            if (roll < 0.35) input[field] = pick(HOSTILE);
            else if (roll < 0.5) input[field] = pick(schema.properties![field]!.enum ?? plausible);
          }
          if (random() < 0.3) Object.defineProperty(input, pick(HOSTILE_KEYS), { value: pick(HOSTILE), enumerable: true, configurable: true, writable: true });
          if (random() < 0.05) input[pick(properties.length ? properties : ['q'])] = deep(200);
          const asQuery = action.kind === 'read' && random() < 0.4;
          const token = random() < 0.7 ? f.tokens.sysadmin : f.tokens.editor;
          const before = await snapshot();
          let response: Response;
          if (asQuery) {
            const params = new URLSearchParams();
            for (const [key, value] of Object.entries(input)) params.append(key, typeof value === 'string' ? value : JSON.stringify(value) ?? '');
            response = await t.app.request(`/api/3/action/${name}?${params}`, { headers: { authorization: token } });
          } else {
            response = await t.app.request(`/api/3/action/${name}`, { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify(input) });
          }
          sent++;
          const text = await response.text();
          const shown = `${asQuery ? 'GET' : 'POST'} ${name} ${JSON.stringify(input).slice(0, 300)} -> ${response.status} ${text.slice(0, 300)}`;
          if (response.status >= 500) failures.push(shown);
          else if (response.status >= 400 && (await snapshot()) !== before) failures.push(`changed the database although refused: ${shown}`);
        }
      }
      assert.ok(sent >= registries.actions.names().length * CASES);
      assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed the properties (seed ${SEED})`);
    });
  });
}
