// No import cycles in core or plugins, type-only imports included: a cycle makes module
// initialisation order matter (a class used before its module ran) and ties files together
// that should be readable apart. This reads every .ts file's import and export-from
// statements, resolves the relative ones, and reports each cycle it finds (Tarjan's
// strongly connected components), naming the files in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** Every .ts file under `dir`, relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true })
    .map(String)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.includes('node_modules'))
    .map((file) => join(dir, file));
}

/** The repository files a source imports (relative specifiers only; `.js` resolves to `.ts`). */
function importsOf(file: string, known: Set<string>): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const out = new Set<string>();
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const target = relative(root, resolve(join(root, dirname(file)), match[1]!)).replace(/\.js$/, '.ts');
    if (known.has(target)) out.add(target);
  }
  for (const match of text.matchAll(/import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const target = relative(root, resolve(join(root, dirname(file)), match[1]!)).replace(/\.js$/, '.ts');
    if (known.has(target)) out.add(target);
  }
  return [...out];
}

/** Strongly connected components with more than one file (or a file importing itself). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indices.has(node)) visit(node);
  return found;
}

describe('import structure', () => {
  const files = [...sources('core'), ...sources('plugins')];
  const known = new Set(files);
  const graph = new Map(files.map((file) => [file, importsOf(file, known)]));

  it('reads the imports it should (a check that finds nothing proves nothing)', () => {
    assert.ok(files.length > 100, `${files.length} files`);
    assert.ok(graph.get('core/host/platform-host.ts')?.includes('core/plugins/hook-registries.ts'));
    assert.ok(graph.get('plugins/upload-tus/index.ts')?.includes('core/api.ts'));
  });

  it('finds a cycle when there is one', () => {
    assert.deepEqual(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c']]);
  });

  it('has no import cycle in core or plugins, type-only imports included', () => {
    assert.deepEqual(cycles(graph), []);
  });

  it('keeps core free of plugins, and plugins on core/api.ts alone', () => {
    const crossings: string[] = [];
    for (const [file, imports] of graph) {
      for (const target of imports) {
        if (file.startsWith('core/') && target.startsWith('plugins/')) crossings.push(`${file} -> ${target}`);
        if (file.startsWith('plugins/') && target.startsWith('core/') && target !== 'core/api.ts') crossings.push(`${file} -> ${target}`);
        if (file.startsWith('core/') && target === 'core/api.ts') crossings.push(`${file} -> ${target}`);
      }
    }
    assert.deepEqual(crossings, []);
  });
});
