// Sessions of the web pages, kept in the database (any HTTP node can read them): the cookie
// carries a random secret, the table only its SHA-256, and a session ends on sign-out, on
// expiry, or when its user is deleted or disabled.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { Database } from '../db/database.js';
import type { UserIdentity } from '../auth/actor.js';

/** A session found from its cookie. */
export interface WebSession {
  id: string;
  user: UserIdentity;
  expiresAt: Date;
}

const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** The last-seen time is written at most this often, to keep page reads free of writes. */
const SEEN_RESOLUTION_MS = 60_000;

function hashOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Creates, finds and ends web sessions. */
export class WebSessions {
  constructor(
    private readonly db: Database,
    /** How long a session lives without use. */
    private readonly idleMs: number,
  ) {}

  /** Starts a session for a user; the returned secret goes into the cookie and nowhere else. */
  async create(userId: string): Promise<{ secret: string; session: { id: string; expiresAt: Date } }> {
    const secret = randomBytes(32).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.idleMs);
    const id = randomUUID();
    // Sessions nobody came back to would otherwise stay for ever; each sign-in sweeps them
    // (the index on expires_at keeps this cheap). Both dialects compare the stored times as
    // written by the same driver, so the comparison is exact.
    await this.db.sequelize.query('DELETE FROM web_sessions WHERE expires_at < $1', { bind: [now], type: QueryTypes.DELETE });
    await this.db.sequelize.query('INSERT INTO web_sessions (id, hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', {
      bind: [id, hashOf(secret), userId, now, now, expiresAt],
      type: QueryTypes.INSERT,
    });
    return { secret, session: { id, expiresAt } };
  }

  /** The live session of a cookie's secret, extending it on use; undefined for anything else. */
  async find(secret: string): Promise<WebSession | undefined> {
    if (!SECRET.test(secret)) return undefined;
    const rows = await this.db.sequelize.query<{ id: string; expiresAt: Date | string; lastSeenAt: Date | string; userId: string; name: string; sysadmin: boolean | number }>(
      `SELECT s.id, s.expires_at AS "expiresAt", s.last_seen_at AS "lastSeenAt", u.id AS "userId", u.name, u.sysadmin
       FROM web_sessions s JOIN users u ON u.id = s.user_id AND u.state = 'active' WHERE s.hash = $1`,
      { bind: [hashOf(secret)], type: QueryTypes.SELECT },
    );
    const row = rows[0];
    if (!row) return undefined;
    const now = Date.now();
    if (new Date(row.expiresAt).getTime() <= now) {
      await this.end(row.id);
      return undefined;
    }
    let expiresAt = new Date(row.expiresAt);
    if (now - new Date(row.lastSeenAt).getTime() > SEEN_RESOLUTION_MS) {
      expiresAt = new Date(now + this.idleMs);
      await this.db.sequelize.query('UPDATE web_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3', { bind: [new Date(now), expiresAt, row.id], type: QueryTypes.UPDATE });
    }
    return { id: row.id, user: { id: row.userId, name: row.name, sysadmin: Boolean(row.sysadmin) }, expiresAt };
  }

  /** Ends a session (sign-out). */
  async end(id: string): Promise<void> {
    await this.db.sequelize.query('DELETE FROM web_sessions WHERE id = $1', { bind: [id], type: QueryTypes.DELETE });
  }
}
