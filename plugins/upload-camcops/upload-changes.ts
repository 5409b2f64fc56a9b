// What an upload did to one table, for the per-table audit line.

/** Counts for one table of one upload. */
export interface TableChanges {
  table: string;
  added: number;
  modified: number;
  deleted: number;
  preserved: number;
  /** Current records of the device still on the tablet (era NOW) afterwards. */
  current: number;
  /** Records a client sent again after a lost reply, found already preserved and skipped. */
  alreadyPreserved: number;
}

/** Zero counts for a table. */
export function noChanges(table: string): TableChanges {
  return { table, added: 0, modified: 0, deleted: 0, preserved: 0, current: 0, alreadyPreserved: 0 };
}

/** "phq9: 1 added, 1 modified, 0 deleted, 2 preserved, 0 current". */
export function describeChanges(c: TableChanges): string {
  return `${c.table}: ${c.added} added, ${c.modified} modified, ${c.deleted} deleted, ${c.preserved} preserved, ${c.current} current${c.alreadyPreserved ? `, ${c.alreadyPreserved} already preserved` : ''}`;
}
