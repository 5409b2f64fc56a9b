// Tablet sessions: an id and a secret token (kept only as its SHA-256), bound to the client
// address, valid while used within the timeout. Logging in issues a fresh token. A session is
// stored only once a request succeeds (a login, or an operation anyone may run): a refused
// request, such as a failed login, gets an id and token in its reply that name no row, so a
// stream of guesses writes nothing. Expired sessions are purged whenever a client arrives
// without a valid one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlRunner } from './sql-runner.js';

/** A session as the request sees it (the token in clear only for the reply). */
export interface TabletSession {
  id: number;
  token: string;
  userId: string | undefined;
  /** False until the session is stored (see keep); its id is 0 until then. */
  stored: boolean;
}

const sha256 = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Finds, creates and renews sessions. */
export class SessionStore {
  constructor(private readonly timeoutMs: number) {}

  /**
   * The session the client names, when id, token and address match and it is fresh;
   * otherwise a new anonymous session, not stored yet (see keep).
   */
  async resolve(sql: SqlRunner, sessionId: string | undefined, token: string | undefined, address: string, nowMs: number): Promise<TabletSession> {
    if (sessionId && token && /^\d{1,12}$/.test(sessionId)) {
      const [row] = await sql.select<{ id: number | string; token_sha256: string; address: string; user_id: string | null; last_activity_ms: number | string }>(
        'SELECT id, token_sha256, address, user_id, last_activity_ms FROM camcops_sessions WHERE id = $1',
        [Number(sessionId)],
      );
      const presented = Buffer.from(sha256(token), 'hex');
      if (row && row.address === address && nowMs - Number(row.last_activity_ms) <= this.timeoutMs && timingSafeEqual(presented, Buffer.from(row.token_sha256, 'hex'))) {
        await sql.run('UPDATE camcops_sessions SET last_activity_ms = $1 WHERE id = $2', [nowMs, Number(row.id)]);
        return { id: Number(row.id), token, userId: row.user_id ?? undefined, stored: true };
      }
    }
    await sql.run('DELETE FROM camcops_sessions WHERE last_activity_ms < $1', [nowMs - this.timeoutMs]);
    return { id: 0, token: randomBytes(24).toString('base64url'), userId: undefined, stored: false };
  }

  /** Logs a user in (after the password was right): a fresh token on a new, stored session. */
  async login(sql: SqlRunner, previous: TabletSession, userId: string, address: string, nowMs: number): Promise<TabletSession> {
    if (previous.stored) await sql.run('DELETE FROM camcops_sessions WHERE id = $1', [previous.id]);
    return this.create(sql, address, nowMs, userId);
  }

  /** The session stored, for the reply of a request that succeeded. */
  async keep(sql: SqlRunner, session: TabletSession, address: string, nowMs: number): Promise<TabletSession> {
    return session.stored ? session : this.create(sql, address, nowMs, session.userId);
  }

  private async create(sql: SqlRunner, address: string, nowMs: number, userId: string | undefined): Promise<TabletSession> {
    const token = randomBytes(24).toString('base64url');
    const hash = sha256(token);
    await sql.run('INSERT INTO camcops_sessions (token_sha256, address, user_id, last_activity_ms) VALUES ($1, $2, $3, $4)', [hash, address, userId ?? null, nowMs]);
    const [row] = await sql.select<{ id: number | string }>('SELECT id FROM camcops_sessions WHERE token_sha256 = $1', [hash]);
    return { id: Number(row!.id), token, userId, stored: true };
  }
}
