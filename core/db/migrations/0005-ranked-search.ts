// Ranked search on SQLite: an FTS5 index of each dataset's search text, kept in step with
// datasets by triggers, so package_search matches words through the index and orders
// matches by bm25 (`sort=score desc`). The table keeps its own copy of the text keyed by the
// dataset id, not datasets' implicit rowid, which VACUUM may renumber. Diacritics are kept
// (as the words are): "müller" does not match "muller". PostgreSQL ranks with ts_rank over
// the GIN-indexed tsvector of 0001 and needs nothing here.
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

export const rankedSearch: Migration = {
  name: '0005-ranked-search',
  async up({ sequelize, dialect }: MigrationContext): Promise<void> {
    if (dialect !== 'sqlite') return;
    await sequelize.query(`CREATE VIRTUAL TABLE datasets_fts USING fts5(id UNINDEXED, search_text, tokenize = "unicode61 remove_diacritics 0")`);
    await sequelize.query(`CREATE TRIGGER datasets_fts_insert AFTER INSERT ON datasets BEGIN INSERT INTO datasets_fts (id, search_text) VALUES (new.id, new.search_text); END`);
    await sequelize.query(`CREATE TRIGGER datasets_fts_delete AFTER DELETE ON datasets BEGIN DELETE FROM datasets_fts WHERE id = old.id; END`);
    await sequelize.query(`CREATE TRIGGER datasets_fts_update AFTER UPDATE OF search_text ON datasets WHEN new.search_text IS NOT old.search_text BEGIN
      DELETE FROM datasets_fts WHERE id = old.id; INSERT INTO datasets_fts (id, search_text) VALUES (new.id, new.search_text); END`);
    await sequelize.query(`INSERT INTO datasets_fts (id, search_text) SELECT id, search_text FROM datasets`);
  },
  async down({ sequelize, dialect }: MigrationContext): Promise<void> {
    if (dialect !== 'sqlite') return;
    for (const trigger of ['datasets_fts_insert', 'datasets_fts_delete', 'datasets_fts_update']) await sequelize.query(`DROP TRIGGER ${trigger}`);
    await sequelize.query('DROP TABLE datasets_fts');
  },
};
