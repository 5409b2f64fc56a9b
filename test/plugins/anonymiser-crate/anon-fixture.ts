// Scratch databases for the anonymiser's tests: a source filled by the synthetic clinical
// generator, an empty destination and secret map, key files and an anon.ini, on SQLite,
// PostgreSQL (PLATFORM_TEST_PG_URL) or MariaDB (PLATFORM_TEST_MYSQL_URL, default the local
// server when reachable). Each run gets databases of its own, dropped by cleanup().
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Sequelize } from 'sequelize';
import mysql from 'mysql2/promise';
import { clinicalDataDictionary, generateClinicalDb, type ClinicalDataset, type GenerateOptions } from '../../../scripts/generate-clinical-db.js';
import { createScratchPgDatabase } from '../../../scripts/scratch-pg-database.js';

export type AnonDbKind = 'sqlite' | 'postgres' | 'mysql';

const MYSQL_URL = process.env.PLATFORM_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Whether MariaDB answers (checked once per process). */
let mysqlReachable: Promise<boolean> | undefined;
async function mysqlUp(): Promise<boolean> {
  mysqlReachable ??= (async () => {
    try {
      const c = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 2000 });
      await c.end();
      return true;
    } catch {
      return false;
    }
  })();
  return mysqlReachable;
}

/** The kinds to run database suites on. */
export async function anonDbKinds(): Promise<AnonDbKind[]> {
  const kinds: AnonDbKind[] = ['sqlite'];
  if (process.env.PLATFORM_TEST_PG_URL) kinds.push('postgres');
  if (process.env.PLATFORM_TEST_MYSQL_URL !== '' && (await mysqlUp())) kinds.push('mysql');
  return kinds;
}

/** A scratch database. */
export interface ScratchDb {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database of `kind` (SQLite: a file in `dir`). */
export async function scratchDb(kind: AnonDbKind, dir: string, label: string): Promise<ScratchDb> {
  const name = `anon_t_${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
  if (kind === 'sqlite') return { url: `sqlite:${join(dir, `${label}.sqlite`)}`, drop: async () => undefined };
  if (kind === 'postgres') {
    const db = await createScratchPgDatabase(process.env.PLATFORM_TEST_PG_URL!, `anon_t_${label}_${process.pid}`);
    return { url: db.url, drop: db.drop };
  }
  const c = await mysql.createConnection({ uri: MYSQL_URL });
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await c.end();
  const u = new URL(MYSQL_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = await mysql.createConnection({ uri: MYSQL_URL });
      await d.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await d.end();
    },
  };
}

/** Opens a sequelize connection to a scratch database (for the test's own reads and writes). */
export function connect(url: string): Sequelize {
  if (url.startsWith('sqlite:')) return new Sequelize({ dialect: 'sqlite', storage: url.slice('sqlite:'.length), logging: false });
  return new Sequelize(url.replace(/^postgresql:/, 'postgres:'), { logging: false, dialect: url.startsWith('mysql') ? 'mysql' : 'postgres' });
}

/** A ready-to-run anonymisation set-up. */
export interface AnonFixture {
  dir: string;
  configFile: string;
  source: ScratchDb;
  destination: ScratchDb;
  secret: ScratchDb;
  dataset: ClinicalDataset;
  /** The environment the config's *_env keys read. */
  env: NodeJS.ProcessEnv;
  /** Rewrites anon.ini with extra [anonymise] lines (and optionally other keys). */
  writeConfig(extra?: string, keys?: { patient?: string }): void;
  cleanup(): Promise<void>;
}

/** Builds a fixture on `kind` with a small synthetic dataset. */
export async function anonFixture(kind: AnonDbKind, options: Partial<GenerateOptions> = {}): Promise<AnonFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'anon-test-'));
  const source = await scratchDb(kind, dir, 'src');
  const destination = await scratchDb(kind, dir, 'dst');
  const secret = await scratchDb(kind, dir, 'secret');
  const sequelize = connect(source.url);
  let dataset: ClinicalDataset;
  try {
    dataset = await generateClinicalDb(sequelize, { patients: 12, notesPerPatient: 6, noteChars: 300, seed: 7, optOutEvery: 6, ...options });
  } finally {
    await sequelize.close();
  }
  writeFileSync(join(dir, 'dd.tsv'), clinicalDataDictionary());
  writeFileSync(join(dir, 'master.key'), 'master-key-for-tests');
  writeFileSync(join(dir, 'change.key'), 'change-key-for-tests');
  const configFile = join(dir, 'anon.ini');
  const writeConfig = (extra = '', keys: { patient?: string } = {}): void => {
    writeFileSync(join(dir, 'patient.key'), keys.patient ?? 'patient-key-for-tests');
    writeFileSync(join(dir, 'dest.url'), destination.url);
    writeFileSync(
      configFile,
      [
        '[anonymise]',
        'data_dictionary = dd.tsv',
        'destination_url_file = dest.url',
        'secret_map_url_env = ANON_TEST_SECRET_URL',
        'patient_key_file = patient.key',
        'master_key_file = master.key',
        'change_key_file = change.key',
        'batch_patients = 5',
        'commit_rows = 7',
        extra,
        '[source:main]',
        'url_env = ANON_TEST_SOURCE_URL',
      ].join('\n'),
    );
  };
  writeConfig();
  const env = { ANON_TEST_SOURCE_URL: source.url, ANON_TEST_SECRET_URL: secret.url };
  return {
    dir, configFile, env, source, destination, secret, dataset, writeConfig,
    async cleanup() {
      await source.drop();
      await destination.drop();
      await secret.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
