// Seeds many datasets quickly into a platform database with multi-row INSERTs in batches
// (not one action per dataset): names, titles, notes and tags drawn from a fixed word list
// with a seeded PRNG (a skewed draw, so some words are common, as in real catalogues),
// spread over ~50 organisations, about 10% private, a few drafts and deleted ones, and a
// few resources on about a third of them. search_text is filled by core's own `searchText`,
// exactly as the dataset service fills it, so package_search finds them.
//
// As a command: node dist/scripts/bench/seed-datasets.js --config FILE [--datasets N]
//   [--organizations N] [--seed N]   (applies pending migrations first)
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Database } from '../../core/db/database.js';
import { searchText } from '../../core/datasets/dataset-input.js';
import { seededRandom } from '../seeded-random.js';

const WORDS = (
  'blood cell cells deformability cytometry erythrocyte leukocyte bead calibration donor sample flow channel image ' +
  'fluorescence mask contour plasma platelet measurement study control patient culture stem neutrophil lymphocyte ' +
  'monocyte malaria sepsis leukemia anemia stiffness viscosity chip setup region reservoir trace brightness area ' +
  'volume aspect inertia porosity tilt speed buffer medium temperature healthy volunteer cohort baseline follow ' +
  'treatment drug dose response time series replicate batch run day week month pilot screening assay marker ' +
  'antibody staining protocol method validation reference standard noise background threshold segmentation ' +
  'classification training network model prediction feature extraction analysis pipeline raw processed filtered ' +
  'corrected normalised aggregated summary statistics distribution histogram scatter density kernel estimate ' +
  'mouse human zebrafish yeast bacteria virus tumour tissue organoid spheroid biopsy bone marrow cord peripheral ' +
  'whole fraction isolated sorted enriched depleted fixed live frozen thawed fresh stored transport storage ' +
  'microfluidic constriction shear stress strain elastic modulus relaxation recovery compression tension ' +
  'hydrogel bead polyacrylamide agarose alginate matrix scaffold coating surface interface boundary layer'
).split(' ');

const LICENSES = ['CC-BY-4.0', 'CC0-1.0', 'CC-BY-SA-4.0', 'ODbL-1.0'];

/** A small seeded PRNG (mulberry32): the same seed gives the same catalogue. */
export const prng = seededRandom;

/** What was seeded. */
export interface SeedResult {
  /** Names of the public active datasets (what an anonymous package_show may ask for). */
  publicNames: string[];
  /** Names of every organisation. */
  organizations: string[];
  datasets: number;
  resources: number;
  seconds: number;
}

/** Options of {@link seedDatasets}. */
export interface SeedOptions {
  datasets?: number;
  organizations?: number;
  seed?: number;
  /** Rows per INSERT. */
  batch?: number;
  /** Called after each batch with the number of datasets written so far. */
  progress?: (written: number) => void;
}

/** The most common word of the catalogue: a search for it matches a large share of datasets. */
export const COMMON_WORD = WORDS[0]!;

/** Every word the seeded texts draw from (searches for each of them match something). */
export const SEED_WORDS: readonly string[] = WORDS;

/**
 * Seeds datasets (default 100,000) over organisations (default 50) into an empty platform
 * database whose core migrations have run. Deterministic for a given seed, apart from ids.
 */
export async function seedDatasets(db: Database, options: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now();
  const count = options.datasets ?? 100_000;
  const orgCount = options.organizations ?? 50;
  const batch = options.batch ?? 1000;
  const random = prng(options.seed ?? 42);
  // Skewed draw: low indexes come up more often, so the first word ("blood") is in about
  // 30% of datasets, as a common word is in a real catalogue, and the last ones are rare.
  const word = (): string => WORDS[Math.floor(WORDS.length * random() ** 1.2)]!;
  const uniform = (): string => WORDS[Math.floor(WORDS.length * random())]!;
  const words = (n: number): string[] => Array.from({ length: n }, word);
  const escape = (value: string | number | null): string => (value === null ? 'NULL' : db.sequelize.escape(value));
  const uuid = (): string => {
    const b = randomBytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  // The text form sequelize itself writes, so that dates read back alike on SQLite.
  const stamp = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' +00:00');
  const now = Date.now();
  const bool = (b: boolean): string => (db.dialect === 'postgres' ? (b ? 'true' : 'false') : b ? '1' : '0');

  const orgs = Array.from({ length: orgCount }, (_, i) => {
    const name = `${uniform()}-lab-${i}`;
    return { id: uuid(), name, title: `${capital(uniform())} ${uniform()} laboratory ${i}` };
  });
  await db.sequelize.query(
    `INSERT INTO organizations (id, name, title, description, state, created_at, updated_at) VALUES ${orgs
      .map((o) => `(${escape(o.id)}, ${escape(o.name)}, ${escape(o.title)}, ${escape(`The ${o.title}.`)}, 'active', ${escape(stamp(now))}, ${escape(stamp(now))})`)
      .join(', ')}`,
  );

  const publicNames: string[] = [];
  let resourceCount = 0;
  for (let start = 0; start < count; start += batch) {
    const datasetRows: string[] = [];
    const resourceRows: string[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const name = `${word()}-${uniform()}-${i}`;
      const title = `${capital(word())} ${words(2 + Math.floor(random() * 4)).join(' ')} ${i}`;
      const notes = `${capital(words(10 + Math.floor(random() * 30)).join(' '))}.`;
      const tags = [...new Set(words(1 + Math.floor(random() * 4)))];
      const isPrivate = random() < 0.1;
      const roll = random();
      const state = roll < 0.02 ? 'draft' : roll < 0.03 ? 'deleted' : 'active';
      const license = random() < 0.8 ? LICENSES[Math.floor(random() * LICENSES.length)]! : null;
      const id = uuid();
      // Older datasets first, a minute apart, so sorting by modification time is meaningful.
      const created = stamp(now - (count - i) * 60_000);
      if (!isPrivate && state === 'active') publicNames.push(name);
      datasetRows.push(
        `(${escape(id)}, ${escape(name)}, ${escape(title)}, ${escape(notes)}, 'dataset', ${escape(orgs[Math.floor(random() * orgCount)]!.id)}, ${bool(isPrivate)}, '${state}', ` +
          `${escape(license)}, ${escape(JSON.stringify(tags))}, '{}', ${escape(searchText({ name, title, notes, tags }))}, NULL, ${escape(created)}, ${escape(created)})`,
      );
      if (random() < 0.3) {
        const files = 1 + Math.floor(random() * 3);
        for (let r = 0; r < files; r++) {
          const rid = uuid();
          const sha = randomBytes(32).toString('hex');
          resourceRows.push(
            `(${escape(rid)}, ${escape(id)}, ${escape(`M${r + 1}_${uniform()}.rtdc`)}, 'RTDC', '', '', ${Math.floor(1e6 + random() * 5e8)}, ${escape(sha)}, 'fs', ` +
              `${escape(`${sha.slice(0, 2)}/${sha.slice(2, 4)}/${rid}`)}, 'active', '{}', ${r}, ${escape(created)}, ${escape(created)})`,
          );
        }
      }
    }
    await db.sequelize.query(
      `INSERT INTO datasets (id, name, title, notes, type, owner_org_id, private, state, license_id, tags, extras, search_text, creator_user_id, created_at, modified_at) VALUES ${datasetRows.join(', ')}`,
    );
    if (resourceRows.length) {
      await db.sequelize.query(
        `INSERT INTO resources (id, dataset_id, name, format, description, url, size, sha256, depot, location, state, metadata, position, created_at, modified_at) VALUES ${resourceRows.join(', ')}`,
      );
      resourceCount += resourceRows.length;
    }
    options.progress?.(Math.min(count, start + batch));
  }
  // The state autovacuum reaches some time after a bulk load: fresh statistics, and on
  // PostgreSQL the GIN index's pending list merged (until then every search scans it).
  await db.sequelize.query(db.dialect === 'postgres' ? 'VACUUM ANALYZE datasets, resources, organizations' : 'ANALYZE');
  return { publicNames, organizations: orgs.map((o) => o.name), datasets: count, resources: resourceCount, seconds: (performance.now() - started) / 1000 };
}

/** Reads back what an earlier run seeded (for `--reuse`). */
export async function seededCatalogue(db: Database): Promise<Pick<SeedResult, 'publicNames' | 'organizations' | 'datasets' | 'resources'>> {
  const publicRows = await db.models.Dataset.findAll({ where: { state: 'active', private: false }, attributes: ['name'], order: [['name', 'ASC']] });
  const orgRows = await db.models.Organization.findAll({ attributes: ['name'], order: [['name', 'ASC']] });
  return {
    publicNames: publicRows.map((r) => r.get({ plain: true }).name),
    organizations: orgRows.map((r) => r.get({ plain: true }).name),
    datasets: await db.models.Dataset.count(),
    resources: await db.models.Resource.count(),
  };
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { flags } = await import('./bench-support.js');
  const { PlatformHost } = await import('../../core/host/platform-host.js');
  const { DatabaseId } = await import('../../core/services/service-ids.js');
  const usage = 'usage: node dist/scripts/bench/seed-datasets.js --config FILE [--datasets 100000] [--organizations 50] [--seed 42]';
  const options = flags({ config: '', datasets: 100_000, organizations: 50, seed: 42 }, usage);
  if (!options.config) throw new Error(`--config is required\n${usage}`);
  const host = await PlatformHost.start({ configFile: options.config, env: process.env, logLevel: 'warn' });
  try {
    const result = await seedDatasets(host.services.get(DatabaseId), {
      datasets: options.datasets,
      organizations: options.organizations,
      seed: options.seed,
      progress: (n) => process.stderr.write(`\r${n} datasets`),
    });
    process.stderr.write('\n');
    process.stdout.write(`seeded ${result.datasets} datasets (${result.publicNames.length} public and active) and ${result.resources} resources over ${result.organizations.length} organisations in ${result.seconds.toFixed(1)} s\n`);
  } finally {
    await host.stop();
  }
}
