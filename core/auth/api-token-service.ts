// API tokens: shown once at creation, stored only as an HMAC-SHA256 hash (keyed with the
// site's secret key), looked up by a public prefix and compared in constant time.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { ApiTokenRow, MemberRole } from '../db/core-models.js';
import { AuthenticationError, NotFoundError, ValidationError } from '../errors.js';
import { toDate, toOptionalDate } from '../db/row-values.js';
import type { User } from './user-service.js';
import { BatchedLookup } from '../util/batched-lookup.js';

/** A token as listed (never with its secret or hash). */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** Public part of the token, to tell tokens apart. */
  prefix: string;
  expiresAt: Date | undefined;
  lastUsedAt: Date | undefined;
  revokedAt: Date | undefined;
  createdAt: Date;
}

/** A freshly created token: the secret appears here and nowhere else, ever. */
export interface CreatedApiToken {
  token: string;
  record: ApiToken;
}

const TOKEN = /^plat_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
/** Last-use times are written at most this often per token, to keep reads cheap. */
const LAST_USE_RESOLUTION_MS = 60_000;

/** A token row with its user's columns (NULL when the user is deleted), as raw SQL returns them. */
type TokenWithUser = { [K in keyof ApiTokenRow]: K extends 'expiresAt' | 'lastUsedAt' | 'revokedAt' ? Date | string | null : K extends 'createdAt' ? Date | string : ApiTokenRow[K] } & {
  userName: string | null;
  userEmail: string | null;
  userFullname: string | null;
  userSysadmin: boolean | number | null;
  userLockedUntil: Date | string | null;
  userCreatedAt: Date | string | null;
  userMemberships: string | null;
};

/**
 * Tokens by prefix with their (active) users and the users' memberships as `orgId:role,...`,
 * in one read: every authenticated request needs it, and searches need the memberships next.
 * The prefixes come as one array (PostgreSQL) or JSON list (SQLite), so that requests arriving
 * together share one statement (BatchedLookup).
 */
function tokensWithUsersSql(dialect: Database['dialect']): string {
  const roles = dialect === 'postgres' ? "string_agg(m.organization_id || ':' || m.role, ',')" : "group_concat(m.organization_id || ':' || m.role, ',')";
  return `SELECT t.id, t.user_id AS "userId", t.name, t.prefix, t.hash, t.expires_at AS "expiresAt", t.last_used_at AS "lastUsedAt",
    t.revoked_at AS "revokedAt", t.created_at AS "createdAt", u.name AS "userName", u.email AS "userEmail", u.fullname AS "userFullname",
    u.sysadmin AS "userSysadmin", u.locked_until AS "userLockedUntil", u.created_at AS "userCreatedAt",
    (SELECT ${roles} FROM memberships m WHERE m.user_id = u.id) AS "userMemberships"
  FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id AND u.state = 'active'
  WHERE ${dialect === 'postgres' ? 't.prefix = ANY($1::text[])' : 't.prefix IN (SELECT value FROM json_each($1))'}`;
}

/** `orgId:role,...` as a map. */
function parseMemberships(text: string | null): Map<string, MemberRole> {
  const memberships = new Map<string, MemberRole>();
  for (const pair of text ? text.split(',') : []) {
    const colon = pair.lastIndexOf(':');
    memberships.set(pair.slice(0, colon), pair.slice(colon + 1) as MemberRole);
  }
  return memberships;
}

function toToken(row: ApiTokenRow): ApiToken {
  return { id: row.id, userId: row.userId, name: row.name, prefix: row.prefix, expiresAt: row.expiresAt ?? undefined, lastUsedAt: row.lastUsedAt ?? undefined, revokedAt: row.revokedAt ?? undefined, createdAt: row.createdAt };
}

/** Creates, lists, revokes and checks API tokens. */
export class ApiTokenService {
  private tokensSql: string | undefined;
  /** Token reads by prefix; reads that arrive in one turn of the event loop share a statement. */
  private readonly tokenLookup = new BatchedLookup<TokenWithUser>(async (prefixes) => {
    this.tokensSql ??= tokensWithUsersSql(this.db.dialect);
    const rows = await this.db.preparedRead<TokenWithUser>(this.tokensSql, [this.db.dialect === 'postgres' ? prefixes : JSON.stringify(prefixes)]);
    return new Map(rows.map((row) => [row.prefix, row]));
  });

  constructor(
    private readonly db: Database,
    private readonly secretKey: string,
  ) {}

  /**
   * Creates a token for a user.
   * @param expiresDays days until it expires; undefined for no expiry.
   */
  async create(user: User, name: string, expiresDays?: number, transaction?: Transaction): Promise<CreatedApiToken> {
    if (!name.trim() || name.length > 200) throw new ValidationError('token name is invalid', { name: ['give a name of 1 to 200 characters'] });
    if (expiresDays !== undefined && (!Number.isInteger(expiresDays) || expiresDays < 1 || expiresDays > 3650)) {
      throw new ValidationError('expiry is invalid', { expires_days: [`must be a whole number of days from 1 to 3650, not ${expiresDays}`] });
    }
    const prefix = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12).padEnd(12, '0');
    const token = `plat_${prefix}_${randomBytes(32).toString('base64url')}`;
    const row = await this.db.models.ApiToken.create(
      {
        id: randomUUID(),
        userId: user.id,
        name,
        prefix,
        hash: this.hash(token),
        expiresAt: expiresDays === undefined ? null : new Date(Date.now() + expiresDays * 86_400_000),
      },
      { transaction },
    );
    return { token, record: toToken(row.get({ plain: true })) };
  }

  /** Tokens of a user, newest first, including revoked and expired ones. */
  async list(userId: string): Promise<ApiToken[]> {
    const rows = await this.db.models.ApiToken.findAll({ where: { userId }, order: [['createdAt', 'DESC']] });
    return rows.map((row) => toToken(row.get({ plain: true })));
  }

  /** Finds a token by id or prefix. @throws NotFoundError */
  async get(idOrPrefix: string, transaction?: Transaction): Promise<ApiToken> {
    const isId = /^[0-9a-f-]{36}$/.test(idOrPrefix);
    const row = await this.db.models.ApiToken.findOne({ where: isId ? { id: idOrPrefix } : { prefix: idOrPrefix }, transaction });
    if (!row) throw new NotFoundError(`API token "${idOrPrefix}" not found`);
    return toToken(row.get({ plain: true }));
  }

  /**
   * Finds a token by its secret (CKAN's api_token_revoke `{token}`), whatever its state,
   * comparing hashes in constant time. @throws NotFoundError, never naming the secret
   */
  async findBySecret(presented: string, transaction?: Transaction): Promise<ApiToken> {
    const match = TOKEN.exec(presented);
    const row = match ? await this.db.models.ApiToken.findOne({ where: { prefix: match[1]! }, transaction }) : null;
    const stored = row?.get({ plain: true });
    const expected = Buffer.from(stored?.hash ?? '0'.repeat(64), 'hex');
    const actual = Buffer.from(this.hash(presented), 'hex');
    if (!stored || expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new NotFoundError('API token not found (the token given is not one of this site\'s)');
    return toToken(stored);
  }

  /** Revokes a token at once; revoking twice is harmless. */
  async revoke(idOrPrefix: string, transaction?: Transaction): Promise<ApiToken> {
    const token = await this.get(idOrPrefix, transaction);
    if (!token.revokedAt) {
      const revokedAt = new Date();
      await this.db.models.ApiToken.update({ revokedAt }, { where: { id: token.id }, transaction });
      return { ...token, revokedAt };
    }
    return token;
  }

  /**
   * Resolves a presented token to its user.
   * @throws AuthenticationError for malformed, unknown, revoked or expired tokens, and for deleted users.
   */
  async authenticate(presented: string): Promise<{ user: User; token: ApiToken; memberships: Map<string, MemberRole> }> {
    const match = TOKEN.exec(presented);
    if (!match) throw new AuthenticationError('API token is not valid');
    const stored = await this.tokenLookup.get(match[1]!);
    const expected = Buffer.from(stored?.hash ?? '0'.repeat(64), 'hex');
    const actual = Buffer.from(this.hash(presented), 'hex');
    if (!stored || expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw new AuthenticationError('API token is not valid');
    const token = toToken({
      ...stored, expiresAt: toOptionalDate(stored.expiresAt) ?? null, lastUsedAt: toOptionalDate(stored.lastUsedAt) ?? null,
      revokedAt: toOptionalDate(stored.revokedAt) ?? null, createdAt: toDate(stored.createdAt),
    });
    const now = new Date();
    if (token.revokedAt) throw new AuthenticationError('API token has been revoked');
    if (token.expiresAt && token.expiresAt <= now) throw new AuthenticationError(`API token expired on ${token.expiresAt.toISOString()}`);
    if (stored.userName === null) throw new AuthenticationError('API token belongs to a deleted user');
    const user: User = {
      id: token.userId, name: stored.userName, email: stored.userEmail!, fullname: stored.userFullname ?? '', sysadmin: Boolean(stored.userSysadmin),
      state: 'active', lockedUntil: toOptionalDate(stored.userLockedUntil), createdAt: toDate(stored.userCreatedAt!),
    };
    if (!token.lastUsedAt || now.getTime() - token.lastUsedAt.getTime() > LAST_USE_RESOLUTION_MS) {
      await this.db.models.ApiToken.update({ lastUsedAt: now }, { where: { id: token.id } });
    }
    return { user, token, memberships: parseMemberships(stored.userMemberships) };
  }

  private hash(token: string): string {
    return createHmac('sha256', this.secretKey).update(token).digest('hex');
  }
}
