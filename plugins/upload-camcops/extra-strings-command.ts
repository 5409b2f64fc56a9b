// `platform camcops strings import FILE...`: loads CamCOPS extra-string XML files into the
// database, which every node serves to tablets (get_extra_strings). A file replaces the
// strings of the tasks it contains.
import { readFileSync } from 'node:fs';
import { DatabaseId, UsageError, type CommandDefinition } from '../../core/api.js';
import { parseExtraStrings, type ExtraString } from './extra-strings-file.js';
import { SqlRunner } from './sql-runner.js';

/** The command. */
export const importExtraStringsCommand: CommandDefinition = {
  name: 'camcops strings import',
  summary: 'load CamCOPS extra-string XML files (replacing the strings of the tasks they contain)',
  usage: 'FILE...',
  needs: 'database',
  async run(args, ctx) {
    if (!args.positionals.length) throw new UsageError('name at least one XML file: platform camcops strings import FILE...');
    const strings: ExtraString[] = [];
    for (const file of args.positionals) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
      }
      try {
        strings.push(...parseExtraStrings(text));
      } catch (error) {
        throw new UsageError(`${file}: ${(error as Error).message}`);
      }
    }
    const db = ctx.services.get(DatabaseId);
    const tasks = [...new Set(strings.map((s) => s.task))];
    await db.transaction(async (transaction) => {
      const sql = new SqlRunner(db.sequelize, db.dialect, transaction);
      for (const task of tasks) await sql.run('DELETE FROM camcops_extra_strings WHERE task = $1', [task]);
      // Later files win over earlier ones for the same string.
      const unique = new Map(strings.map((s) => [`${s.task}\u0000${s.name}\u0000${s.language}`, s]));
      await sql.insertRows('camcops_extra_strings', ['task', 'name', 'language', 'value'], [...unique.values()].map((s) => [s.task, s.name, s.language, s.value]));
    });
    ctx.stderr.write(`loaded ${strings.length} string(s) for ${tasks.length} task(s): ${tasks.join(', ')}\n`);
    return 0;
  },
};
