// The SQL dialects the platform runs on; its own file so models and the database module
// can both name it without importing each other.

/** A database the platform runs on. */
export type Dialect = 'sqlite' | 'postgres';
