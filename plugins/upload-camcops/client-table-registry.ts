// The client tables this server accepts: the built-in ones plus one task table per JSON
// definition file, read from the plugin's shipped tasks/ folder and any configured folders.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinTables } from './builtin-tables.js';
import { commitOrder, defineClientTable, type ClientTableDefinition, type TableDefinitionFile } from './client-table-definition.js';

/**
 * The folder of shipped definitions. tsc does not copy .json files, so from a compiled
 * tree (`<out>/plugins/upload-camcops/`) this finds the source tree's folder.
 */
export function shippedTasksDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'tasks'), resolve(here, '..', '..', '..', 'plugins', 'upload-camcops', 'tasks')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error('the shipped CamCOPS task definitions (plugins/upload-camcops/tasks) are missing');
  return found;
}

/** Every accepted client table, by name. */
export class ClientTableRegistry {
  private readonly tables = new Map<string, ClientTableDefinition>();

  constructor(definitions: Iterable<ClientTableDefinition>) {
    for (const table of definitions) {
      if (this.tables.has(table.name)) throw new Error(`client table "${table.name}" is defined twice`);
      this.tables.set(table.name, table);
    }
  }

  /** Loads the built-in tables and every `*.json` in the given folders. @throws Error naming the bad file. */
  static load(dirs: readonly string[]): ClientTableRegistry {
    const definitions = builtinTables();
    for (const dir of dirs) {
      if (!existsSync(dir)) throw new Error(`task definition folder ${dir} does not exist`);
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        let parsed: TableDefinitionFile;
        try {
          parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as TableDefinitionFile;
        } catch (error) {
          throw new Error(`table definition ${file}: not valid JSON (${(error as Error).message})`);
        }
        definitions.push(defineClientTable(parsed, file));
      }
    }
    return new ClientTableRegistry(definitions);
  }

  get(name: string): ClientTableDefinition | undefined {
    return this.tables.get(name);
  }

  /** Every table in commit order. */
  ordered(): ClientTableDefinition[] {
    return commitOrder(this.tables.values());
  }
}

/** The database table that holds a client table's records. */
export function storageTableName(table: ClientTableDefinition | string): string {
  return `camcops_client_${typeof table === 'string' ? table : table.name}`;
}
