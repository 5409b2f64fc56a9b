// Values of rows read with plain SQL, in one form whatever the dialect: SQLite gives dates as
// text (and booleans as 0/1), PostgreSQL as Date (and booleans).

/** A date column's value as a Date. */
export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/** A nullable date column's value as a Date, or undefined for NULL. */
export function toOptionalDate(value: Date | string | null | undefined): Date | undefined {
  return value === null || value === undefined ? undefined : toDate(value);
}
