// Benchmark: one-step CamCOPS upload (upload_entire_database) of a ~2,000,000-byte client
// database (~20,000 records over 10 tables) through the plugin's HTTP API, against the
// ceiling: a plain multi-row INSERT of the same rows through the same driver. Reports the
// median time and the SQL statement count of each on PostgreSQL.
//
//   npm run build && node dist/scripts/bench/camcops-upload.js [--runs 5] [--records 20000]
//   (PostgreSQL from PLATFORM_BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432/test)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PlatformHost } from '../../core/host/platform-host.js';
import { DatabaseId, OrganizationServiceId, UserServiceId } from '../../core/services/service-ids.js';
import { describeMachine, flags, defaultPgUrl } from './bench-support.js';
import { encodeLiteral, type LiteralValue } from '../../plugins/upload-camcops/sql-literal-codec.js';
import { parseReply } from '../../plugins/upload-camcops/camcops-reply.js';
import { storageTableName } from '../../plugins/upload-camcops/client-table-registry.js';
import { SqlRunner, type SqlValue } from '../../plugins/upload-camcops/sql-runner.js';

const options = flags({ runs: 5, records: 20_000, bytes: 2_000_000 }, 'usage: camcops-upload [--runs N] [--records N] [--bytes N]');
const PASSWORD = 'bench-password-1';

type Row = Record<string, LiteralValue>;

/** Shares of the records per table (10 tables, one of them declared by a bench definition). */
const SHARES: Record<string, number> = {
  patient: 0.02, patient_idnum: 0.02, blobs: 0.01, photosequence_photos: 0.05, phq9: 0.2, gad7: 0.2, ref_satis_gen: 0.1, progressnote: 0.2, photosequence: 0.05, bmi_bench: 0.15,
};

/** Builds a client database; text and blob sizes are scaled so the payload is about `bytes`. */
function clientDatabase(records: number, padding: number): Record<string, Row[]> {
  const counts = Object.fromEntries(Object.entries(SHARES).map(([t, s]) => [t, Math.max(1, Math.round(records * s))]));
  const patients = counts.patient!;
  const when = (i: number): string => new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString().replace('.000Z', 'Z');
  const text = (n: number, i: number): string => `${i} `.padEnd(Math.round(n), 'abcdefghij');
  const task = (i: number, extra: Row): Row => ({ id: i + 1, when_last_modified: when(i), _move_off_tablet: 0, when_created: when(i), firstexit_is_finish: 1, ...extra });
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  return {
    patient: range(patients).map((i) => ({ id: i + 1, when_last_modified: when(i), _move_off_tablet: 0, forename: `Forename${i}`, surname: `Surname${i}`, sex: i % 2 ? 'F' : 'M', dob: '1970-01-01', address: text(padding, i) })),
    patient_idnum: range(patients).map((i) => ({ id: i + 1, when_last_modified: when(i), _move_off_tablet: 0, patient_id: i + 1, which_idnum: 2, idnum_value: 100000 + i })),
    blobs: range(counts.blobs!).map((i) => ({ id: i + 1, when_last_modified: when(i), _move_off_tablet: 0, tablename: 'photosequence_photos', tablepk: i + 1, fieldname: 'photo_blobid', mimetype: 'image/jpeg', theblob: randomBytes(Math.round(padding * 8)) })),
    photosequence_photos: range(counts.photosequence_photos!).map((i) => ({ id: i + 1, when_last_modified: when(i), _move_off_tablet: 0, photosequence_id: (i % counts.photosequence!) + 1, seqnum: 1 + (i % 3), description: text(padding / 2, i), photo_blobid: (i % counts.blobs!) + 1 })),
    phq9: range(counts.phq9!).map((i) => task(i, { patient_id: (i % patients) + 1, ...Object.fromEntries(range(10).map((q) => [`q${q + 1}`, (i + q) % 4])) })),
    gad7: range(counts.gad7!).map((i) => task(i, { patient_id: (i % patients) + 1, ...Object.fromEntries(range(7).map((q) => [`q${q + 1}`, (i + q) % 4])) })),
    ref_satis_gen: range(counts.ref_satis_gen!).map((i) => task(i, { service: 'Memory clinic', rating: i % 5, good: text(padding / 2, i), bad: text(padding / 2, i) })),
    progressnote: range(counts.progressnote!).map((i) => task(i, { patient_id: (i % patients) + 1, clinician_name: 'Dr Who', location: 'Ward 7', note: text(padding, i) })),
    photosequence: range(counts.photosequence!).map((i) => task(i, { patient_id: (i % patients) + 1, sequence_description: text(padding, i) })),
    bmi_bench: range(counts.bmi_bench!).map((i) => task(i, { patient_id: (i % patients) + 1, height_m: 1.5 + (i % 40) / 100, mass_kg: 50 + (i % 60), comment: text(padding / 2, i) })),
  };
}

function oneStepBody(db: Record<string, Row[]>, device: string, session: { id: string; token: string }): string {
  const dbdata = Object.fromEntries(Object.entries(db).map(([t, rows]) => [t, rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, encodeLiteral(v)])))]));
  return new URLSearchParams({
    operation: 'upload_entire_database', camcops_version: '2.4.12', device, user: 'tablet', password: PASSWORD, session_id: session.id, session_token: session.token,
    finalizing: '0', pknameinfo: JSON.stringify(Object.fromEntries(Object.keys(db).map((t) => [t, 'id']))), dbdata: JSON.stringify(dbdata),
  }).toString();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const baseUrl = process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl;
  const name = `camcops_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'camcops-bench-'));
  const tasks = join(dir, 'tasks');
  mkdirSync(tasks);
  writeFileSync(join(tasks, 'bmi_bench.json'), JSON.stringify({ tablename: 'bmi_bench', minimum_client_version: '2.0.0', patient: true, schema: { type: 'object', properties: { height_m: { type: ['number', 'null'] }, mass_kg: { type: ['number', 'null'] }, comment: { type: ['string', 'null'] } } } }));
  const configFile = join(dir, 'platform.ini');
  writeFileSync(configFile, ['[platform]', 'plugins = upload-camcops', 'data_dir = ./data', 'secret_key_file = ./data/secrets/secret-key', '[db]', `url = ${url.toString()}`, '[logging]', 'level = warn', '[plugin:upload-camcops]', `task_dirs = ${tasks}`].join('\n'));

  // Count every statement the pg driver sends while `counting` is set.
  let counting = false;
  let statements = 0;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function countedQuery(this: unknown, ...args: unknown[]): unknown {
    if (counting) statements++;
    return original.apply(this, args);
  };

  const host = await PlatformHost.start({ configFile, env: {}, logLevel: 'warn' });
  try {
    const users = host.services.get(UserServiceId);
    const orgs = host.services.get(OrganizationServiceId);
    const user = await users.create({ name: 'tablet', email: 'tablet@example.org', password: PASSWORD });
    const org = await orgs.create({ name: 'clinic' });
    await orgs.setMember(org.id, user.id, 'admin');
    const sequelizeDb = host.services.get(DatabaseId);
    await sequelizeDb.sequelize.query("INSERT INTO camcops_idnum_definitions (which_idnum, description, short_description, validation_method) VALUES (2, 'Hospital number', 'HN', '')");
    const app = host.app();
    const post = async (body: string): Promise<Record<string, string>> => {
      const response = await app.request('/upload/camcops/api', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      const items = parseReply(await response.text());
      if (items.success !== '1') throw new Error(`upload failed: ${items.error ?? response.status}`);
      return items;
    };

    // Scale padding until the encoded dbdata is about the target size.
    let padding = 60;
    let db = clientDatabase(options.records, padding);
    for (let i = 0; i < 8; i++) {
      const size = Buffer.byteLength(JSON.stringify(Object.values(db).map((rows) => rows.map((r) => Object.values(r).map((v) => encodeLiteral(v))))));
      padding = Math.max(1, padding * (options.bytes / size));
      db = clientDatabase(options.records, padding);
    }
    const recordCount = Object.values(db).reduce((n, rows) => n + rows.length, 0);
    const pluginTimes: number[] = [];
    const pluginStatements: number[] = [];
    const ceilingTimes: number[] = [];
    const ceilingStatements: number[] = [];
    let payloadBytes = 0;
    const literalBytes = Buffer.byteLength(JSON.stringify(Object.values(db).map((rows) => rows.map((r) => Object.values(r).map((v) => encodeLiteral(v))))));
    for (let run = 0; run < options.runs; run++) {
      const device = `bench-${run}`;
      const reg = new URLSearchParams({ operation: 'register', camcops_version: '2.4.12', device, user: 'tablet', password: PASSWORD }).toString();
      const session = await post(reg);
      const body = oneStepBody(db, device, { id: session.session_id!, token: session.session_token! });
      payloadBytes = Buffer.byteLength(body);
      statements = 0;
      counting = true;
      let t0 = performance.now();
      await post(body);
      pluginTimes.push(performance.now() - t0);
      counting = false;
      pluginStatements.push(statements);

      // The ceiling: the same rows, already decoded, with the same record-keeping values, in one transaction.
      const prepared = Object.entries(db).map(([table, rows]) => {
        const columns = [...Object.keys(rows[0]!), '_device_id', '_group_id', '_era', '_current', '_addition_pending', '_removal_pending', '_when_added_exact', '_when_added_batch_utc', '_adding_user_id', '_forcibly_preserved', '_camcops_version'];
        const now = new Date().toISOString();
        const values: SqlValue[][] = rows.map((r) => [...Object.values(r), 10_000 + run, org.id, 'NOW', 1, 0, 0, now, now, user.id, 0, '2.4.12'] as SqlValue[]);
        return { table: storageTableName(table), columns, values };
      });
      statements = 0;
      counting = true;
      t0 = performance.now();
      await sequelizeDb.transaction(async (transaction) => {
        const sql = new SqlRunner(sequelizeDb.sequelize, sequelizeDb.dialect, transaction);
        for (const p of prepared) await sql.insertRows(p.table, p.columns, p.values);
      });
      ceilingTimes.push(performance.now() - t0);
      counting = false;
      ceilingStatements.push(statements);
    }
    const plugin = median(pluginTimes);
    const ceiling = median(ceilingTimes);
    const lines = [
      `CamCOPS one-step upload on PostgreSQL — ${describeMachine()}`,
      `client database: ${recordCount} records over ${Object.keys(db).length} tables, ${literalBytes} bytes of literals; request body ${payloadBytes} bytes (form-encoded JSON); median of ${options.runs} runs (first upload of a fresh device each run; login excluded)`,
      '',
      '| path | median time (ms) | SQL statements | runs (ms) |',
      '| --- | ---: | ---: | --- |',
      `| plugin: upload_entire_database over HTTP | ${plugin.toFixed(0)} | ${median(pluginStatements)} | ${pluginTimes.map((t) => t.toFixed(0)).join(', ')} |`,
      `| ceiling: plain multi-row INSERT, same rows, same driver | ${ceiling.toFixed(0)} | ${median(ceilingStatements)} | ${ceilingTimes.map((t) => t.toFixed(0)).join(', ')} |`,
      '',
      `plugin / ceiling: ${(plugin / ceiling).toFixed(2)}x time, ${(median(pluginStatements) / median(ceilingStatements)).toFixed(2)}x statements`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    proto.query = original;
    await host.stop();
    const cleanup = new pg.Client({ connectionString: baseUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await cleanup.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
