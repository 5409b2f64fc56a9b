// What the parts of a batch share: the run's settings, the open source and destination
// databases, the keyed hashers, the non-specific scrubber, and the digests that tell an
// incremental run what changed (a patient's scrubber digest, its row-version digest).
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { OpenDatabase } from './database-connection.js';
import { KeyedHasher } from './keyed-hasher.js';
import { buildScrubber, identifierDigest, scrubberFingerprint, type IdentifierValue, type Scrubber } from './patient-scrubber.js';
import { quoteIdentifier } from './sql-dialect.js';
import type { KeyTuple } from './row-keys.js';
import { tableKey, type BatchPatient, type BatchSettings } from './batch-task.js';
import { ROW_VERSION } from './source-row-plan.js';

export class BatchContext {
  readonly changeHasher: KeyedHasher;
  /** Hashers of the dictionary's hash sections, by section name. */
  readonly hashers = new Map<string, KeyedHasher>();
  readonly nonspecific: Scrubber;
  /** The tables copied per patient: with a patient ID and included fields. */
  readonly patientTables: readonly TablePlan[];
  /** The scrubbing settings' fingerprint, part of every patient's scrubber digest. */
  private readonly fingerprint: string;
  /** What a row-version digest's meaning depends on: the patient tables, their keys and hashed fields. */
  private readonly versionFingerprint: string;
  /** Tables this processor has committed rows to (see table-copier's first commit). */
  readonly committed = new Set<TablePlan>();
  /** Per table (tableKey): whether its source keeps row versions. */
  private readonly versioned = new Map<string, Promise<boolean>>();

  constructor(
    readonly settings: BatchSettings,
    readonly sources: Map<string, OpenDatabase>,
    private readonly destinationDb: OpenDatabase | undefined,
  ) {
    const { config } = settings;
    this.changeHasher = new KeyedHasher(config.hashMethod, config.changeKey);
    for (const [name, section] of Object.entries(config.hashSections)) this.hashers.set(name, new KeyedHasher(section.method, section.key));
    this.nonspecific = buildScrubber([], [], config.scrubber);
    this.fingerprint = scrubberFingerprint(config.scrubber);
    this.patientTables = settings.plan.tables.filter((t) => t.pid && t.included.length);
    this.versionFingerprint = JSON.stringify(this.patientTables
      .map((t) => [tableKey(t), t.destTable, t.keys.map((k) => k.srcField), t.rows.filter((r) => r.include || r.scrubSrc).map((r) => r.srcField)]));
  }

  /** The destination database (not opened by processors that only build scrubbers). */
  get destination(): OpenDatabase {
    if (!this.destinationDb) throw new Error('this batch processor was opened without its destination');
    return this.destinationDb;
  }

  /** Closes the source and destination databases. */
  async close(): Promise<void> {
    for (const db of this.sources.values()) await db.close().catch(() => undefined);
    await this.destinationDb?.close().catch(() => undefined);
  }

  /** The open source database of a table. */
  sourceOf(table: TablePlan): OpenDatabase {
    return this.sources.get(table.srcDb)!;
  }

  /** The keyed digest of a patient's row-version lines (in any order). */
  rowsVersion(lines: readonly string[] | undefined): string {
    return this.changeHasher.hash(`rows-v1\n${this.versionFingerprint}\n${[...(lines ?? [])].sort().join('\n')}`);
  }

  /** The keyed scrubber digest of a patient with these identifiers, as the secret map stores it. */
  scrubberHash(ids: { patient: IdentifierValue[]; thirdParty: IdentifierValue[] }): string {
    return this.changeHasher.hash(identifierDigest(ids.patient, ids.thirdParty, this.fingerprint));
  }

  /** A source row's key in the destination: the research ID where a key field is the patient ID. */
  destinationKey(table: TablePlan, row: Record<string, unknown>, patient: BatchPatient): KeyTuple {
    return table.keys.map((k) => (k === table.pid ? patient.rid : row[k.srcField]));
  }

  /** The patient tables among `tables` whose sources keep row versions. */
  async versionedTables(tables: readonly TablePlan[]): Promise<Set<TablePlan>> {
    const keeps = await Promise.all(tables.map((t) => this.keepsVersions(t)));
    return new Set(tables.filter((_, i) => keeps[i]));
  }

  /**
   * Whether a patient table's source keeps row versions: an ordinary or partitioned table on
   * PostgreSQL (a view has none), with no field named like the version's alias.
   */
  private keepsVersions(table: TablePlan): Promise<boolean> {
    const key = tableKey(table);
    let known = this.versioned.get(key);
    if (!known) {
      const db = this.sourceOf(table);
      known = db.dialect !== 'postgres' || !table.pid || table.rows.some((r) => r.srcField === ROW_VERSION)
        ? Promise.resolve(false)
        : db.sequelize.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = to_regclass(:name)', { type: QueryTypes.SELECT, replacements: { name: quoteIdentifier('postgres', table.srcTable) } })
          .then((rows) => rows[0]?.relkind === 'r' || rows[0]?.relkind === 'p');
      this.versioned.set(key, known);
    }
    return known;
  }
}
