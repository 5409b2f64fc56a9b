// SQL Server through the plugin's own openDatabase, against the fake TDS endpoint in
// tds-fake-server.ts (no SQL Server can run here): connecting and querying, failed logins,
// retries of refused, reset and timed-out connections (and the bounded give-up, on every
// server dialect), server errors during a query, a connection dropped mid-reply; and the
// SQL Server forms of sql-dialect.ts that config-and-dialects.test.ts does not cover.
// The real suite is sql-server.test.ts, run when PLATFORM_TEST_MSSQL_URL is set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes, UniqueConstraintError } from 'sequelize';
import { isTransientConnectionError, openDatabase, type OpenDatabaseOptions } from '../../../plugins/anonymiser-crate/database-connection.js';
import { destinationType, hashColumnType, indexStatement, isLongText, pagedSelect } from '../../../plugins/anonymiser-crate/sql-dialect.js';
import { FakeTdsServer, closedPort, type FakeTdsOptions } from './tds-fake-server.js';

const USER = 'anon';
const PASSWORD = 'fake-Passw0rd';
/** Short waits between attempts: the tests are about whether and how often, not how long. */
const FAST_RETRIES: OpenDatabaseOptions = { retries: 4, retryDelayMs: 5 };

async function withFake(options: FakeTdsOptions, fn: (fake: FakeTdsServer) => Promise<void>): Promise<void> {
  const fake = await FakeTdsServer.start(options);
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

/** Runs `fn` and returns the error it rejected with. */
async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

test('connects with the URL\'s user and database and runs queries, DML and parameters', async () => {
  await withFake({
    rules: [
      { match: /^SELECT \[pid\], \[forename\] FROM \[patient\]/, reply: { kind: 'rows', columns: [{ name: 'pid', type: 'int' }, { name: 'forename', type: 'nvarchar' }], rows: [[1, 'Zoë'], [2, null]] } },
      { match: /^UPDATE \[patient\]/, reply: { kind: 'done', rowCount: 3 } },
      { match: /WHERE \[pid\] = @pid/, reply: { kind: 'rows', columns: [{ name: 'n', type: 'bigint' }], rows: [[9007199254740993n]] } },
    ],
  }, async (fake) => {
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination');
    try {
      assert.equal(db.dialect, 'mssql');
      assert.deepEqual(await db.sequelize.query('SELECT 1+1 AS result', { type: QueryTypes.SELECT }), [{ result: 2 }]);
      assert.deepEqual(await db.sequelize.query('SELECT [pid], [forename] FROM [patient] ORDER BY [pid]', { type: QueryTypes.SELECT }), [{ pid: 1, forename: 'Zoë' }, { pid: 2, forename: null }]);
      assert.equal(await db.sequelize.query('UPDATE [patient] SET [forename] = NULL', { type: QueryTypes.BULKUPDATE }), 3);
      // Bind parameters travel as sp_executesql parameters; tedious returns BIGINT as a string.
      assert.deepEqual(await db.sequelize.query('SELECT COUNT_BIG(*) AS n FROM [note] WHERE [pid] = $pid', { type: QueryTypes.SELECT, bind: { pid: 1 } }), [{ n: '9007199254740993' }]);
      // A transaction is begun and committed through transaction-manager requests.
      await db.sequelize.transaction(async (transaction) => {
        await db.sequelize.query('DELETE FROM [note] WHERE 1 = 0', { transaction });
      });
    } finally {
      await db.close();
    }
    assert.ok(fake.logins.length >= 1);
    assert.ok(fake.logins.every((l) => l.accepted && l.userName === USER && l.database === 'clinical'));
    assert.ok(fake.statements.includes('DELETE FROM [note] WHERE 1 = 0'));
  });
});

test('a wrong password fails at once, naming the server and the user but never the password', async () => {
  await withFake({ users: { [USER]: PASSWORD } }, async (fake) => {
    const secret = 'N0t-the-Passw0rd';
    const retried: number[] = [];
    const error = await rejection(() => openDatabase(fake.url(USER, secret), 'destination', { ...FAST_RETRIES, onRetry: ({ attempt }) => void retried.push(attempt) }));
    assert.match(error.message, new RegExp(`^cannot connect to the destination database \\(mssql://127\\.0\\.0\\.1:${fake.port}/clinical as user "anon"\\): Login failed for user 'anon'\\.`));
    assert.doesNotMatch(error.message, /N0t-the-Passw0rd|N0t-the|encrypt=/);
    assert.deepEqual(retried, [], 'a failed login is not retried');
    assert.equal(fake.connections, 1);
    assert.deepEqual(fake.logins.map((l) => l.accepted), [false]);
  });
});

test('connections reset while the server starts are retried until it accepts', async () => {
  await withFake({ resetFirst: 2 }, async (fake) => {
    const retries: Array<{ attempt: number; reason: string }> = [];
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination', { ...FAST_RETRIES, onRetry: ({ attempt, reason }) => void retries.push({ attempt, reason }) });
    try {
      assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
      for (const r of retries) assert.match(r.reason, /ECONNRESET|socket hang up|Connection lost/i);
      assert.deepEqual(await db.sequelize.query('SELECT 5 AS five', { type: QueryTypes.SELECT }), [{ five: 5 }]);
    } finally {
      await db.close();
    }
  });
});

test('refused connections are retried until the server comes up', async () => {
  const port = await closedPort();
  let fake: FakeTdsServer | undefined;
  const retries: Array<{ attempt: number; reason: string }> = [];
  try {
    const db = await openDatabase(`mssql://${USER}:${PASSWORD}@127.0.0.1:${port}/clinical?encrypt=false`, 'destination', {
      ...FAST_RETRIES,
      // The server starts while the second wait is still ahead: the third attempt finds it.
      onRetry: async ({ attempt, reason }) => {
        retries.push({ attempt, reason });
        if (attempt === 2) fake = await FakeTdsServer.start({ port });
      },
    });
    try {
      assert.deepEqual(retries.map((r) => r.attempt), [1, 2]);
      for (const r of retries) assert.match(r.reason, /ECONNREFUSED/);
      assert.deepEqual(await db.sequelize.query('SELECT 1 AS one', { type: QueryTypes.SELECT }), [{ one: 1 }]);
    } finally {
      await db.close();
    }
  } finally {
    await fake?.close();
  }
});

test('a server that never comes up fails after the bounded retries, for every server dialect', async () => {
  const port = await closedPort();
  const secret = 'never-Shown-pw';
  for (const scheme of ['mssql', 'postgresql', 'mariadb']) {
    const retried: number[] = [];
    const error = await rejection(() => openDatabase(`${scheme}://${USER}:${secret}@127.0.0.1:${port}/clinical`, 'source main', { retries: 2, retryDelayMs: 1, onRetry: ({ attempt }) => void retried.push(attempt) }));
    assert.deepEqual(retried, [1, 2], scheme);
    assert.match(error.message, new RegExp(`^cannot connect to the source main database \\(${scheme}://127\\.0\\.0\\.1:${port}/clinical as user "anon"\\) after 3 attempts: .*ECONNREFUSED`), scheme);
    assert.doesNotMatch(error.message, /never-Shown-pw/, scheme);
  }
});

test('a server too slow to answer is given up on at the connect timeout and tried again', { timeout: 30_000 }, async () => {
  // The first connection's PRELOGIN is never answered, so only the connect timeout ends that attempt.
  await withFake({ stallFirst: 1 }, async (fake) => {
    const reasons: string[] = [];
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination', { ...FAST_RETRIES, connectTimeoutMs: 500, onRetry: ({ reason }) => void reasons.push(reason) });
    try {
      assert.equal(reasons.length, 1);
      assert.match(reasons[0]!, new RegExp(`Failed to connect to 127\\.0\\.0\\.1:${fake.port} in 500ms`));
      assert.deepEqual(await db.sequelize.query('SELECT 3 AS three', { type: QueryTypes.SELECT }), [{ three: 3 }]);
    } finally {
      await db.close();
    }
  });
});

test('a slow server that answers within the timeouts is simply waited for', { timeout: 30_000 }, async () => {
  await withFake({ replyDelayMs: 50, rules: [{ match: /FROM \[note\]/, delayMs: 200, reply: { kind: 'rows', columns: [{ name: 'n', type: 'int' }], rows: [[4]] } }] }, async (fake) => {
    const retried: number[] = [];
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination', { ...FAST_RETRIES, onRetry: ({ attempt }) => void retried.push(attempt) });
    try {
      assert.deepEqual(await db.sequelize.query('SELECT COUNT(*) AS n FROM [note]', { type: QueryTypes.SELECT }), [{ n: 4 }]);
      assert.deepEqual(retried, []);
    } finally {
      await db.close();
    }
  });
});

test('a server ERROR token during a query surfaces with the server\'s message and number', async () => {
  await withFake({
    rules: [
      { match: /FROM \[missing_table\]/, reply: { kind: 'error', number: 208, state: 1, class: 16, message: "Invalid object name 'missing_table'." } },
      { match: /^INSERT INTO \[patient\]/, reply: { kind: 'error', number: 2627, state: 1, class: 14, message: "Violation of PRIMARY KEY constraint 'PK_patient'. Cannot insert duplicate key in object 'dbo.patient'. The duplicate key value is (1)." } },
    ],
  }, async (fake) => {
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination');
    try {
      const error = await rejection(() => db.sequelize.query('SELECT [pid] FROM [missing_table]', { type: QueryTypes.SELECT }));
      assert.equal(error.name, 'SequelizeDatabaseError');
      assert.equal(error.message, "Invalid object name 'missing_table'. (SQL Server error 208, state 1, class 16)");
      // Sequelize's own error classes survive: a duplicate key is still a UniqueConstraintError.
      const duplicate = await rejection(() => db.sequelize.query('INSERT INTO [patient] ([pid]) VALUES (1)'));
      assert.ok(duplicate instanceof UniqueConstraintError);
      assert.match(duplicate.message, /SQL Server error 2627, state 1, class 14/);
      // The connection is still good after a statement failed.
      assert.deepEqual(await db.sequelize.query('SELECT 2 AS two', { type: QueryTypes.SELECT }), [{ two: 2 }]);
    } finally {
      await db.close();
    }
  });
});

test('a connection dropped in the middle of a reply ends the query with a clear error, and the next query reconnects', { timeout: 30_000 }, async () => {
  await withFake({ rules: [{ match: /FROM \[note\]/, reply: { kind: 'drop' } }] }, async (fake) => {
    const db = await openDatabase(fake.url(USER, PASSWORD), 'destination');
    try {
      const error = await rejection(() => db.sequelize.query('SELECT [n] FROM [note]', { type: QueryTypes.SELECT }));
      assert.match(error.message, new RegExp(`^the connection to mssql://127\\.0\\.0\\.1:${fake.port}/clinical was lost during a query: `));
      const before = fake.connections;
      assert.deepEqual(await db.sequelize.query('SELECT 6 AS six', { type: QueryTypes.SELECT }), [{ six: 6 }]);
      assert.ok(fake.connections > before, 'a new connection replaced the dropped one');
    } finally {
      await db.close();
    }
  });
});

test('encryption asked for but not offered is refused; encrypt takes only true, false or strict', async () => {
  await withFake({}, async (fake) => {
    const plain = fake.url(USER, PASSWORD).replace('?encrypt=false', '');
    const error = await rejection(() => openDatabase(plain, 'destination', FAST_RETRIES));
    assert.match(error.message, /the server offers no encryption, and the destination URL asks for it; add \?encrypt=false/);
    await assert.rejects(openDatabase(`${plain}?encrypt=no`, 'destination'), /the destination URL has encrypt=no; use encrypt=true, encrypt=false/);
  });
});

test('transient connection failures are told apart from failed logins', () => {
  const wrap = (parent: object, name = 'SequelizeConnectionError'): object => Object.assign(new Error('wrapped'), { name, parent, original: parent });
  assert.ok(isTransientConnectionError(wrap(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1433'), { code: 'ECONNREFUSED' }), 'SequelizeConnectionRefusedError')));
  assert.ok(isTransientConnectionError(wrap(Object.assign(new Error('Failed to connect to db:1433 in 15000ms'), { code: 'ETIMEOUT' }))));
  assert.ok(isTransientConnectionError(wrap(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))));
  assert.ok(isTransientConnectionError(wrap(new Error('Connection lost - read ECONNRESET'))));
  assert.ok(!isTransientConnectionError(wrap(Object.assign(new Error("Login failed for user 'sa'."), { code: 'ELOGIN' }), 'SequelizeAccessDeniedError')));
  assert.ok(!isTransientConnectionError(wrap(Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' }))));
  assert.ok(!isTransientConnectionError(wrap(Object.assign(new Error("Access denied for user 'x'@'h' (ECONNRESET in a message is not enough)"), { code: 'ER_ACCESS_DENIED_ERROR' }))));
  assert.ok(!isTransientConnectionError(new Error('SQLITE_CANTOPEN: unable to open database file')));
});

test('SQL Server dialect forms not covered in config-and-dialects', () => {
  assert.equal(destinationType('mssql', 'timestamp'), 'DATETIME2');
  assert.equal(destinationType('mssql', 'BOOLEAN'), 'BIT');
  assert.equal(destinationType('mssql', 'DOUBLE'), 'FLOAT');
  for (const t of ['BYTEA', 'BLOB', 'LONGBLOB']) assert.equal(destinationType('mssql', t), 'VARBINARY(MAX)');
  for (const t of ['LONGTEXT', 'MEDIUMTEXT']) assert.equal(destinationType('mssql', t), 'NVARCHAR(MAX)');
  assert.equal(destinationType('mssql', 'nvarchar(20)'), 'NVARCHAR(20)');
  assert.equal(destinationType('mssql', 'INT'), 'INT');
  assert.equal(hashColumnType('mssql', 64), 'NVARCHAR(64)');
  assert.equal(hashColumnType('postgres', 64), 'VARCHAR(64)');
  assert.ok(isLongText('NVARCHAR(MAX)'));
  assert.ok(isLongText('varbinary(max)'));
  assert.ok(!isLongText('NVARCHAR(100)'));
  // SQL Server cannot use an NVARCHAR(MAX) column as an index key: no index rather than a failing statement.
  assert.equal(indexStatement('mssql', 'note', 'note_text', 'I', 'NVARCHAR(MAX)', 100), undefined);
  assert.equal(indexStatement('mssql', 'note', 'note_text', 'U', 'TEXT', undefined), undefined);
  assert.equal(indexStatement('mssql', 'note', 'pid', 'I', 'INT', undefined), 'CREATE INDEX [ix_note_pid] ON [note] ([pid])');
  const long = indexStatement('mssql', 'a_table_with_a_rather_long_name', 'and_a_column_with_a_long_name_too', 'I', 'INT', undefined)!;
  assert.equal(/^CREATE INDEX \[([^\]]*)\]/.exec(long)![1]!.length, 63);
  assert.equal(pagedSelect('mssql', 'note', ['[a]'], 'a', 5, []), 'SELECT TOP (5) [a] FROM [note] ORDER BY [a]');
  assert.equal(pagedSelect('mssql', 'note', ['[a]', '[b]'], 'a', 5, ['[a] > :after', '[b] IS NOT NULL']), 'SELECT TOP (5) [a], [b] FROM [note] WHERE [a] > :after AND [b] IS NOT NULL ORDER BY [a]');
});
