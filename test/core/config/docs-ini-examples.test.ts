// Every ini example in docs/ works as written: platform.ini examples parse without a problem,
// name only sections and keys that exist (core's or the named plugin's), and keep no comment
// in a value; the anonymiser's anon.ini examples, read by the `ini` package, keep their
// sections and values apart from the comments beside them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ini from 'ini';
import { parseIni } from '../../../core/config/platform-config.js';
import { coreConfigSchema } from '../../../core/config/core-config-schema.js';
import type { ConfigSectionSchema } from '../../../core/config/config-schema-types.js';
import type { PluginDefinition } from '../../../core/plugins/define-plugin.js';

const docsDir = join(process.cwd(), 'docs');

/** Each ```ini block of the docs, with its page and line. */
function iniExamples(): Array<{ where: string; text: string }> {
  const examples: Array<{ where: string; text: string }> = [];
  for (const page of readdirSync(docsDir).filter((name) => name.endsWith('.md'))) {
    const lines = readFileSync(join(docsDir, page), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```ini\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !/^```/.test(lines[++i]!));
      examples.push({ where: `docs/${page}:${start}`, text: lines.slice(start, i).join('\n') });
    }
  }
  return examples;
}

async function pluginSchema(name: string): Promise<ConfigSectionSchema | undefined> {
  const module = (await import(`../../../plugins/${name}/index.js`)) as { default: PluginDefinition };
  return module.default.config;
}

describe('ini examples in docs/', () => {
  const examples = iniExamples();

  it('a section header may carry an inline comment too, as with configparser', () => {
    const problems: string[] = [];
    assert.deepEqual(parseIni('[web]   ; the pages\nsession_hours = 2 ; hours\n', problems), { web: { session_hours: '2' } });
    assert.deepEqual(problems, []);
  });

  it('there are examples to check', () => {
    assert.ok(examples.length >= 5, `found ${examples.length}`);
  });

  it('platform.ini examples parse, name existing sections and keys, and keep no comment in a value', async () => {
    for (const { where, text } of examples) {
      if (/^\[anonymise\]/m.test(text)) continue; // anon.ini, below
      const problems: string[] = [];
      const sections = parseIni(text, problems, where);
      assert.deepEqual(problems, [], where);
      for (const [section, values] of Object.entries(sections)) {
        const schema = section.startsWith('plugin:') ? await pluginSchema(section.slice('plugin:'.length)) : coreConfigSchema[section];
        assert.ok(schema, `${where}: unknown section [${section}]`);
        for (const [key, value] of Object.entries(values)) {
          assert.ok(key in schema.properties, `${where}: [${section}] ${key} is not a key of that section`);
          assert.doesNotMatch(value, /(^|\s);/, `${where}: [${section}] ${key} keeps a comment: ${value}`);
        }
      }
    }
  });

  it("anon.ini examples keep sections and values apart from comments (the ini package's reading)", () => {
    const anon = examples.filter(({ text }) => /^\[anonymise\]/m.test(text));
    assert.ok(anon.length >= 1);
    for (const { where, text } of anon) {
      const parsed = ini.parse(text) as Record<string, Record<string, unknown>>;
      for (const [section, values] of Object.entries(parsed)) {
        for (const [key, value] of Object.entries(values)) {
          assert.ok(!key.startsWith('['), `${where}: the section header ${key} was read as a key of [${section}]`);
          assert.doesNotMatch(String(value), /(^|\s);/, `${where}: [${section}] ${key} keeps a comment`);
        }
      }
    }
  });
});
