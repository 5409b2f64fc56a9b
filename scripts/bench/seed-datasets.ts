// Seeds many datasets quickly into a platform database with multi-row INSERTs (not one
// action per dataset), with realistic names, titles, notes and tags from a fixed word list
// and a seeded PRNG, spread over organisations, about 10% private, some with resources.
// search_text is filled exactly as the dataset service fills it, so search works.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../core/db/database.js';
import { searchText } from '../../core/datasets/dataset-input.js';

const WORDS = ['blood', 'cell', 'cells', 'deformability', 'cytometry', 'erythrocyte', 'leukocyte', 'bead', 'calibration', 'donor', 'sample', 'flow', 'channel', 'image', 'fluorescence', 'mask', 'contour', 'plasma', 'platelet', 'measurement', 'study', 'control', 'patient', 'culture', 'stem', 'neutrophil', 'lymphocyte', 'monocyte', 'malaria', 'sepsis', 'leukemia', 'anemia', 'stiffness', 'viscosity', 'chip', 'setup', 'region', 'reservoir', 'trace', 'brightness', 'area', 'volume', 'aspect', 'inertia', 'porosity', 'tilt', 'speed', 'buffer', 'medium', 'temperature'];

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeds `count` datasets over `orgCount` organisations; returns the dataset names. */
export async function seedDatasets(db: Database, count: number, orgCount = 50, seed = 42): Promise<{ names: string[]; orgs: string[] }> {
  const random = prng(seed);
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)]!;
  const orgs: Array<{ id: string; name: string }> = Array.from({ length: orgCount }, (_, i) => ({ id: randomUUID(), name: `org-${i}` }));
  // The text form sequelize itself writes, so that dates read back alike on SQLite.
  const stamp = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', ' +00:00');
  const now = stamp(new Date());
  await db.sequelize.query(`INSERT INTO organizations (id, name, title, description, state, created_at, updated_at) VALUES ${orgs.map((_, i) => `(:id${i}, :name${i}, :name${i}, '', 'active', :now, :now)`).join(', ')}`, {
    replacements: Object.fromEntries([...orgs.flatMap((o, i) => [[`id${i}`, o.id], [`name${i}`, o.name]]), ['now', now]]),
  });
  const names: string[] = [];
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const rows: string[] = [];
    const replacements: Record<string, unknown> = {};
    const resources: string[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const name = `dataset-${i}-${pick()}`;
      const title = `${pick()} ${pick()} ${pick()} ${i}`;
      const notes = Array.from({ length: 12 }, pick).join(' ');
      const tags = [pick(), pick()];
      const id = randomUUID();
      names.push(name);
      const k = i - start;
      Object.assign(replacements, {
        [`id${k}`]: id, [`n${k}`]: name, [`t${k}`]: title, [`d${k}`]: notes, [`o${k}`]: orgs[i % orgCount]!.id,
        [`p${k}`]: random() < 0.1, [`g${k}`]: JSON.stringify(tags), [`s${k}`]: searchText({ name, title, notes, tags }),
        [`c${k}`]: stamp(new Date(Date.now() - i * 1000)),
      });
      rows.push(`(:id${k}, :n${k}, :t${k}, :d${k}, 'dataset', :o${k}, :p${k}, 'active', NULL, :g${k}, '{}', :s${k}, NULL, :c${k}, :c${k})`);
      if (random() < 0.3) {
        replacements[`r${k}`] = randomUUID();
        resources.push(`(:r${k}, :id${k}, 'data.rtdc', 'RTDC', '', '', 1024, NULL, NULL, NULL, 'active', '{}', 0, :c${k}, :c${k})`);
      }
    }
    await db.sequelize.query(
      `INSERT INTO datasets (id, name, title, notes, type, owner_org_id, private, state, license_id, tags, extras, search_text, creator_user_id, created_at, modified_at) VALUES ${rows.join(', ')}`,
      { replacements },
    );
    if (resources.length) {
      await db.sequelize.query(
        `INSERT INTO resources (id, dataset_id, name, format, description, url, size, sha256, depot, location, state, metadata, position, created_at, modified_at) VALUES ${resources.join(', ')}`,
        { replacements },
      );
    }
  }
  if (db.dialect === 'postgres') await db.sequelize.query('ANALYZE datasets; ANALYZE resources; ANALYZE organizations');
  return { names, orgs: orgs.map((o) => o.name) };
}
