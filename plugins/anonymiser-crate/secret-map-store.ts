// The secret mapping table, in a database of its own that only trusted admins reach: for
// every patient the source ID (pid), research ID (rid), transient ID (trid: random, unique,
// stored), master ID (mpid) and its hash (mrid), and the digest of the patient's scrubber
// (so incremental runs can tell when a patient's identifiers changed) and of the versions of
// the patient's source rows (PostgreSQL sources: see BatchProcessor.survey). Re-identification
// lookups are audited in a table beside it.
import { randomInt } from 'node:crypto';
import { DataTypes, QueryTypes, type Sequelize } from 'sequelize';
import type { SqlDialect } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';

/** One patient's row. */
export interface PatientMapping {
  pid: string;
  rid: string;
  trid: number;
  mpid: string | undefined;
  mrid: string | undefined;
  scrubberHash: string | undefined;
  /** The keyed digest of the patient's source row versions when last written completely. */
  rowsVersion: string | undefined;
}

const MAP = 'anon_secret_map';
const AUDIT = 'anon_reidentify_audit';
const CHUNK = 500;

interface MapRow {
  pid: string;
  rid: string;
  trid: number | string;
  mpid: string | null;
  mrid: string | null;
  scrubber_hash: string | null;
  rows_version: string | null;
}

function fromRow(r: MapRow): PatientMapping {
  return { pid: r.pid, rid: r.rid, trid: Number(r.trid), mpid: r.mpid ?? undefined, mrid: r.mrid ?? undefined, scrubberHash: r.scrubber_hash ?? undefined, rowsVersion: r.rows_version ?? undefined };
}

/** Reads and writes the secret map. */
export class SecretMapStore {
  constructor(private readonly sequelize: Sequelize, private readonly dialect: SqlDialect) {}

  private q(name: string): string {
    return quoteIdentifier(this.dialect, name);
  }

  /** Creates the tables when missing. */
  async ensureSchema(): Promise<void> {
    const qi = this.sequelize.getQueryInterface();
    await qi.createTable(MAP, {
      pid: { type: DataTypes.STRING(255), primaryKey: true },
      rid: { type: DataTypes.STRING(128), allowNull: false, unique: true },
      trid: { type: DataTypes.INTEGER, allowNull: false, unique: true },
      mpid: { type: DataTypes.STRING(255), allowNull: true },
      mrid: { type: DataTypes.STRING(128), allowNull: true },
      scrubber_hash: { type: DataTypes.STRING(128), allowNull: true },
      rows_version: { type: DataTypes.STRING(128), allowNull: true },
    });
    // Secret maps made before row versions were kept gain the column.
    if (!('rows_version' in (await qi.describeTable(MAP)))) await qi.addColumn(MAP, 'rows_version', { type: DataTypes.STRING(128), allowNull: true });
    await qi.createTable(AUDIT, {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      at: { type: DataTypes.DATE, allowNull: false },
      actor: { type: DataTypes.STRING(255), allowNull: false },
      rid: { type: DataTypes.STRING(128), allowNull: false },
      found: { type: DataTypes.BOOLEAN, allowNull: false },
      reason: { type: DataTypes.STRING(1000), allowNull: true },
    });
  }

  /** The mappings of `pids` that exist. */
  async get(pids: readonly string[]): Promise<Map<string, PatientMapping>> {
    const found = new Map<string, PatientMapping>();
    for (let i = 0; i < pids.length; i += CHUNK) {
      const chunk = pids.slice(i, i + CHUNK);
      const rows = await this.sequelize.query<MapRow>(`SELECT pid, rid, trid, mpid, mrid, scrubber_hash, rows_version FROM ${this.q(MAP)} WHERE pid IN (:chunk)`, { type: QueryTypes.SELECT, replacements: { chunk } });
      for (const r of rows) found.set(r.pid, fromRow(r));
    }
    return found;
  }

  /**
   * Makes sure every patient has a mapping: new patients get their RID, a fresh TRID and
   * their MRID; a changed master ID is updated. RIDs never change for a given key.
   * @returns every patient's mapping
   */
  async ensure(patients: ReadonlyArray<{ pid: string; rid: string; mpid: string | undefined; mrid: string | undefined }>): Promise<Map<string, PatientMapping>> {
    const existing = await this.get(patients.map((p) => p.pid));
    const fresh = patients.filter((p) => !existing.has(p.pid));
    const changed = patients.filter((p) => existing.has(p.pid) && (existing.get(p.pid)!.mpid !== p.mpid || existing.get(p.pid)!.rid !== p.rid));
    if (fresh.length) {
      const trids = await this.freshTrids(fresh.length);
      const rows = fresh.map((p, i) => ({ pid: p.pid, rid: p.rid, trid: trids[i]!, mpid: p.mpid ?? null, mrid: p.mrid ?? null, scrubber_hash: null, rows_version: null }));
      await this.sequelize.transaction(async (transaction) => {
        for (let i = 0; i < rows.length; i += CHUNK) await this.sequelize.getQueryInterface().bulkInsert(MAP, rows.slice(i, i + CHUNK), { transaction });
      });
      for (const r of rows) existing.set(r.pid, fromRow(r));
    }
    for (const p of changed) {
      // A new key gives new RIDs; the old digests then mean nothing.
      await this.sequelize.query(`UPDATE ${this.q(MAP)} SET rid = :rid, mpid = :mpid, mrid = :mrid, scrubber_hash = NULL, rows_version = NULL WHERE pid = :pid`, { replacements: { pid: p.pid, rid: p.rid, mpid: p.mpid ?? null, mrid: p.mrid ?? null } });
      existing.set(p.pid, { ...existing.get(p.pid)!, rid: p.rid, mpid: p.mpid, mrid: p.mrid, scrubberHash: undefined, rowsVersion: undefined });
    }
    return existing;
  }

  private async freshTrids(count: number): Promise<number[]> {
    const chosen = new Set<number>();
    while (chosen.size < count) {
      const candidates = new Set<number>();
      while (candidates.size < count - chosen.size) {
        const t = randomInt(1, 2 ** 31 - 1);
        if (!chosen.has(t)) candidates.add(t);
      }
      const list = [...candidates];
      const taken = new Set<number>();
      for (let i = 0; i < list.length; i += CHUNK) {
        const rows = await this.sequelize.query<{ trid: number | string }>(`SELECT trid FROM ${this.q(MAP)} WHERE trid IN (:chunk)`, { type: QueryTypes.SELECT, replacements: { chunk: list.slice(i, i + CHUNK) } });
        for (const r of rows) taken.add(Number(r.trid));
      }
      for (const t of list) if (!taken.has(t)) chosen.add(t);
    }
    return [...chosen];
  }

  /** Records the scrubber digests of patients whose rows were all written. */
  async setScrubberHashes(hashes: ReadonlyMap<string, string>): Promise<void> {
    await this.setPerPatient('scrubber_hash', hashes);
  }

  /** Records the row-version digests of patients whose rows were all written or found unchanged. */
  async setRowsVersions(versions: ReadonlyMap<string, string>): Promise<void> {
    await this.setPerPatient('rows_version', versions);
  }

  private async setPerPatient(column: 'scrubber_hash' | 'rows_version', values: ReadonlyMap<string, string>): Promise<void> {
    const entries = [...values];
    await this.sequelize.transaction(async (transaction) => {
      // One statement per 200 patients: CASE works in every dialect.
      for (let i = 0; i < entries.length; i += 200) {
        const chunk = entries.slice(i, i + 200);
        const replacements: Record<string, string> = {};
        const cases = chunk.map(([pid, hash], j) => {
          replacements[`p${j}`] = pid;
          replacements[`h${j}`] = hash;
          return `WHEN :p${j} THEN :h${j}`;
        });
        await this.sequelize.query(`UPDATE ${this.q(MAP)} SET ${column} = CASE pid ${cases.join(' ')} END WHERE pid IN (${chunk.map((_, j) => `:p${j}`).join(', ')})`, { replacements, transaction });
      }
    });
  }

  /** Forgets every scrubber and row-version digest (a full run rewrites everything). */
  async clearDigests(): Promise<void> {
    await this.sequelize.query(`UPDATE ${this.q(MAP)} SET scrubber_hash = NULL, rows_version = NULL`);
  }

  /** The mapping of a research ID, recorded in the audit table whether found or not. */
  async reidentify(rid: string, actor: string, reason: string | undefined): Promise<PatientMapping | undefined> {
    const rows = await this.sequelize.query<MapRow>(`SELECT pid, rid, trid, mpid, mrid, scrubber_hash, rows_version FROM ${this.q(MAP)} WHERE rid = :rid`, { type: QueryTypes.SELECT, replacements: { rid } });
    await this.sequelize.getQueryInterface().bulkInsert(AUDIT, [{ at: new Date(), actor, rid, found: rows.length > 0, reason: reason ?? null }]);
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  /** Audit rows, newest last. */
  async auditTrail(): Promise<Array<{ at: Date; actor: string; rid: string; found: boolean; reason: string | null }>> {
    const rows = await this.sequelize.query<{ at: Date | string; actor: string; rid: string; found: boolean | number; reason: string | null }>(`SELECT at, actor, rid, found, reason FROM ${this.q(AUDIT)} ORDER BY id`, { type: QueryTypes.SELECT });
    return rows.map((r) => ({ at: new Date(r.at), actor: r.actor, rid: r.rid, found: Boolean(r.found), reason: r.reason }));
  }
}
